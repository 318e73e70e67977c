"""Statistics at a million reports: each dashboard statistic and the ledger export through the
HTTP API, against the same figures from hand-written SQL, on PostgreSQL.

Budgets (issue 12, at 1,000,000 reports, one API process, requests one at a time; "hand SQL" is
the caller's auth lookup plus one statement returning the whole answer): the summary of the
banner for a month and of a community for a year p95 < 100 ms; the unit sheet of the banner for
a month p95 < 150 ms; a year's time series by day and the banner's heat map at 250 m cells
p95 < 200 ms; each p50 at most 3× its hand SQL; the ledger of 100,000 cases as CSV and as Excel
with the API process under 300 MB resident. The API's figures must equal the hand SQL's.

What it does:
1. the database of bench/reads.py (``ssp_bench_reads``: a million reports over two years in
   one banner; loaded, or reused with --keep, as there), with what the dashboards read added
   once (bench/stats_data.py: ratings, points, check-ins, declines, extensions, reworks,
   holds, past overdue marks);
2. starts ``python -m app serve`` (one process, the embedded worker off) on a free port and
   signs in the banner's supervisor and two communities' staff;
3. for each statistic, after a warm-up, times R requests one at a time through a kept-alive
   httpx client and R times the hand SQL through one asyncpg connection of this process, a
   request and a hand SQL in turn (bench/stats_hand_sql.py, in a session with JIT off,
   work_mem 64 MB and partitionwise joins; the statistics: bench/stats_plan.py); compares the
   two answers figure by figure and lists every difference; times ``GET /api/v1/me`` as the
   floor of any request;
4. the ledger of the 100,000 cases filed last before this month, as CSV and as .xlsx,
   streamed through the API (rows/s, and the peak resident memory of the API process during
   each: VmHWM, reset before each download), against the same rows copied out by the hand SQL
   (``COPY (…) TO STDOUT``, CSV: the floor for both formats);
5. with --explain: runs each statistic that missed a budget (and the CSV ledger if it did)
   once more with auto_explain on (ANALYZE, BUFFERS) for the API's connections and keeps the
   plans of its slowest statements from PostgreSQL's log in ``bench/results/stats_plans.txt``;
6. prints the table and writes ``bench/results/stats.json`` (or --output); drops the database
   unless --keep.

Run: .venv/bin/python bench/stats.py [--reports N] [--keep] [--only NAME] [--requests R]
     [--export-runs E] [--export-rows N] [--explain --pg-log DIR] [--database-url URL]
     [--output PATH]
A quick run: --reports 20000 --database-url postgresql://postgres@127.0.0.1:5432/ssp_bench_small
--export-rows 5000 --output /tmp/stats_small.json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    RssSampler,
    asyncpg_dsn,
    log,
    machine,
    run_cli,
    server_log,
    start_server,
)
from reads import DEFAULT_DATABASE_URL, bench_database
from reads_plan import Account, sign_in
from reads_timing import summary, timed
from stats_data import add_stats_data, data_figures
from stats_explain import explain_misses
from stats_export import EXPORT_ROWS, measure_exports
from stats_plan import Stat, api, build_stats, differences, hand_sql

RESULTS = Path(__file__).resolve().parent / "results" / "stats.json"
USERS = ("supervisor", "staff1", "staff9")
RSS_BUDGET_MB = 300.0
WARMUP = 5
# The hand SQL's session: no JIT compilation (it costs 150–330 ms a statement here, more than
# it saves), the memory to hash and sort a year of cases without temporary files, and a case
# joined to its jobs month by month (as the API's unit sheet joins them, app/core/sql.py).
HAND_SQL_SETTINGS = {"jit": "off", "work_mem": "64MB", "enable_partitionwise_join": "on"}


async def measure_stat(
    client: httpx.AsyncClient, db: Any, stat: Stat, requests: int
) -> dict[str, Any]:
    api_answer = await api(client, stat)
    if stat.sql is None:
        api_ms = await timed(lambda: api(client, stat), requests, WARMUP)
    else:
        statement = stat.statement()
        api_ms, sql_ms = await timed_in_turn(
            lambda: api(client, stat), lambda: hand_sql(db, stat, statement), requests
        )
    a = summary(api_ms)
    figures: dict[str, Any] = {
        "label": stat.label,
        "user": stat.account.username,
        "path": stat.path,
        "api_ms": a,
        "api_bytes": len(api_answer),
        "budget": {"p95_ms": stat.budget_p95_ms, "ratio_p50": stat.budget_ratio},
    }
    met = stat.budget_p95_ms is None or a["p95"] < stat.budget_p95_ms
    if stat.sql is not None:
        hand_answer = await hand_sql(db, stat, statement)
        s = summary(sql_ms)
        ratio = a["p50"] / s["p50"] if s["p50"] else float("inf")
        met = met and (stat.budget_ratio is None or ratio <= stat.budget_ratio)
        diffs = differences(stat, api_answer, hand_answer)
        figures |= {
            "hand_sql_ms": s,
            "ratio_p50": round(ratio, 2),
            "same_figures": not diffs,
            "differences": diffs[:50],
            "differences_count": len(diffs),
        }
    figures["met"] = met
    return figures


async def timed_in_turn(
    first: Callable[[], Awaitable[Any]], second: Callable[[], Awaitable[Any]], count: int
) -> tuple[list[float], list[float]]:
    """Both timed ``count`` times (after WARMUP runs each), one run of each in turn: a
    noisy moment of the machine (it shares its cores) weighs on both, not on one alone."""
    for _ in range(WARMUP):
        await first()
        await second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(count):
        for work, out in zip((first, second), times, strict=True):
            started = time.perf_counter()
            await work()
            out.append((time.perf_counter() - started) * 1000)
    return times


async def request_floor(
    client: httpx.AsyncClient, accounts: dict[str, Account], requests: int
) -> dict[str, float]:
    """An authenticated request that reads nothing else (``GET /api/v1/me``, a community's
    staff): what every API figure costs before its statistic, the hand SQL's auth lookup
    included."""
    staff = accounts["staff9"]

    async def me() -> None:
        response = await client.get("/api/v1/me", headers=staff.headers)
        response.raise_for_status()

    return summary(await timed(me, requests, WARMUP))


def selected(args: argparse.Namespace, name: str) -> bool:
    return not args.only or any(part in name for part in args.only)


async def measure(
    args: argparse.Namespace, base_url: str, dsn: str, pid: int
) -> tuple[dict[str, Any], list[Stat]]:
    now = dt.datetime.now(dt.UTC)
    figures: dict[str, Any] = {"stats": {}}
    db = await asyncpg.connect(dsn, server_settings=HAND_SQL_SETTINGS)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=300) as client:
            accounts = {u: await sign_in(client, db, u) for u in USERS}
            figures["request_floor_ms"] = await request_floor(client, accounts, args.requests)
            stats, figures["places"] = await build_stats(db, accounts, now)
            for stat in stats:
                if selected(args, stat.name):
                    log(f"  {stat.name}: {args.requests} requests + {WARMUP} warm-up")
                    figures["stats"][stat.name] = await measure_stat(
                        client, db, stat, args.requests
                    )
            if selected(args, "export"):
                figures["exports"] = await measure_exports(
                    client, db, accounts["supervisor"], now, args, pid
                )
    finally:
        await db.close()
    if args.explain:
        missed = [stat for stat in stats if not figures["stats"].get(stat.name, {}).get("met", 1)]
        ledger = figures.get("exports", {}).get("ledger_csv", {})
        if ledger.get("met") is False:
            supervisor = accounts["supervisor"]
            missed.append(Stat("ledger_csv", "ledger", supervisor, ledger["path"], None, {}, None))
        figures["missed"] = [stat.name for stat in missed]
        return figures, missed
    return figures, stats


def print_table(results: dict[str, Any]) -> None:
    rows = [("statistic", "API p50/p95", "hand SQL p50/p95", "ratio", "budget", "same", "met")]
    for stat in results["stats"].values():
        a, b = stat["api_ms"], stat["budget"]
        s = stat.get("hand_sql_ms")
        budget = ", ".join(
            part
            for part in (
                f"p95<{b['p95_ms']:g}" if b["p95_ms"] else "",
                f"≤{b['ratio_p50']:g}×" if b["ratio_p50"] else "",
            )
            if part
        )
        rows.append(
            (
                stat["label"],
                f"{a['p50']} / {a['p95']}",
                f"{s['p50']} / {s['p95']}" if s else "—",
                f"{stat['ratio_p50']}×" if s else "—",
                budget or "—",
                ("yes" if stat["same_figures"] else f"NO ({stat['differences_count']})")
                if s
                else "—",
                "yes" if stat["met"] else "NO",
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  "
            + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        )
    for name, export in results.get("exports", {}).items():
        if "missing" in export:
            print(f"  {name}: {export['missing']}")
            continue
        if "rows" not in export:
            print(f"  {name}: {export['api_s']['p50']} s p50")
            continue
        print(
            f"  {name}: {export['rows']:,} rows in {export['api_s']['p50']} s p50 "
            f"({export['api_rows_per_s']:,.0f} rows/s, {export['mb']} MB); hand SQL "
            f"{export['hand_sql_s']['p50']} s ({export['hand_rows_per_s']:,.0f} rows/s, "
            f"{export['ratio_p50']}×); API peak RSS {export['peak_rss_mb']} MB"
            f" — {'met' if export['met'] else 'NOT met'}"
        )
    floor = results["request_floor_ms"]
    print(
        f"  the floor of a request (GET /api/v1/me, signed in): p50 {floor['p50']} ms, "
        f"p95 {floor['p95']} ms"
    )
    rss = results["api_rss_mb"]
    print(
        f"  API process RSS: sampled max {rss['sampled_max']} MB, peak during the exports "
        f"{rss['exports_peak']} MB (budget < {RSS_BUDGET_MB:g})"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--reports", type=int, default=1_000_000, help="reports to load (1,000,000)"
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database; reuse one holding N reports"
    )
    parser.add_argument(
        "--only",
        action="append",
        help="only statistics whose name contains this (repeatable; 'export' for the ledger)",
    )
    parser.add_argument("--requests", type=int, default=50, help="timed requests each (50)")
    parser.add_argument(
        "--export-runs", type=int, default=3, help="downloads of each export format (3)"
    )
    parser.add_argument(
        "--export-rows", type=int, default=EXPORT_ROWS, help="cases in the ledger (100,000)"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="keep the plans of the API's statements for the statistics over budget",
    )
    parser.add_argument(
        "--pg-log",
        type=Path,
        help="with --explain: the directory of PostgreSQL's server log (postgresql-*.log)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.reports < args.export_rows or min(args.requests, args.export_runs) < 1:
        parser.error("--reports must be at least --export-rows; --requests, --export-runs ≥ 1")
    if args.explain and args.pg_log is None:
        parser.error("--explain reads the plans from PostgreSQL's log: name it with --pg-log")
    url = make_url(args.database_url)
    if url.drivername == "postgresql":  # the app needs the async driver
        args.database_url = url.set(drivername="postgresql+asyncpg").render_as_string(
            hide_password=False
        )
    return args


def rss_figures(results: dict[str, Any], sampler: RssSampler) -> dict[str, Any]:
    """The API process's resident memory: the most sampled, and the peak during the exports."""
    exports_peak = max(
        (e["peak_rss_mb"] for e in results.get("exports", {}).values() if "peak_rss_mb" in e),
        default=None,
    )
    sampled_max = round(sampler.max_total_kb / 1024, 1)
    return {
        "sampled_max": sampled_max,
        "exports_peak": exports_peak,
        "samples": sampler.samples,
        "budget": RSS_BUDGET_MB,
        "met": sampled_max < RSS_BUDGET_MB and (exports_peak or 0) < RSS_BUDGET_MB,
    }


def main() -> None:
    args = parse_args()
    started_at = dt.datetime.now(dt.UTC)
    url = make_url(args.database_url)
    dsn = asyncpg_dsn(url, url.database or "")
    with bench_database(args) as (env, loaded):
        loaded["stats_data"] = asyncio.run(add_stats_data(dsn, started_at))
        # The cases were loaded in SQL, past the service: their events counted per day as
        # the service would have counted them.
        run_cli(env, "stats", "rebuild-counts")
        loaded["data"] = asyncio.run(data_figures(dsn))
        log("starting the server (1 process)")
        server = start_server(env, 1, Path(env["BENCH_WORKDIR"]))
        try:
            with RssSampler(server.pid) as sampler:
                results, stats = asyncio.run(measure(args, server.base_url, dsn, server.pid))
        except BaseException:
            log(server_log(server))
            raise
        finally:
            server.stop()
        if args.explain and stats:
            results["plans"] = explain_misses(env, dsn, stats, args.pg_log)
    results["api_rss_mb"] = rss_figures(results, sampler)
    figures = {
        "date": started_at.isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip(),
        "reports": args.reports,
        "parameters": {
            "requests": args.requests,
            "warmup": WARMUP,
            "export_runs": args.export_runs,
            "database_url": url.render_as_string(hide_password=True),
            "api_processes": 1,
            "embedded_worker": False,
        },
        "load": loaded,
        **results,
        "machine": machine(),
    }
    met = [s["met"] for s in results["stats"].values() if s["budget"]["p95_ms"]]
    met += [e["met"] for e in results.get("exports", {}).values() if "met" in e]
    met.append(results["api_rss_mb"]["met"])
    same = [s["same_figures"] for s in results["stats"].values() if "same_figures" in s]
    figures["budgets_met"] = f"{sum(met)} of {len(met)}"
    figures["same_figures"] = f"{sum(same)} of {len(same)}"
    print(f"\nStatistics at {args.reports:,} reports (ms; one API process, one request at a time)")
    print_table(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n")
    print(
        f"budgets met: {figures['budgets_met']}; the same figures: {figures['same_figures']}; "
        f"written {args.output}"
    )
    if not all(met) or not all(same):
        raise SystemExit("over budget or different figures")


if __name__ == "__main__":
    main()
