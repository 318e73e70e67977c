"""Reads at a million reports: each hot read through the HTTP API against the same answer from
hand-written SQL, on PostgreSQL.

Budgets (issue 11, at 1,000,000 reports, one API process, requests one at a time; "hand SQL" is
the caller's auth lookup plus one statement returning the whole answer):
lists (first page, 50th page, a supervisor's region, category + period) p95 < 25 ms and p50 ≤ 4×
hand SQL; detail and timeline p95 < 10 ms and p50 ≤ 4× hand SQL; the unit inbox p95 < 25 ms and
p50 ≤ 4× hand SQL; nearby p95 < 15 ms; an idle overdue sweep pass < 10 ms of database time; the
API process under 300 MB resident.

What it does:
1. drops and recreates a PostgreSQL database (``ssp_bench_reads`` unless --database-url says
   otherwise; only that one), migrates it and seeds the demo (SSP_ENV=demo), then loads N
   reports in SQL (see bench/reads_data.py for the data set) and states how long that took;
   with --keep, a database that already holds N reports is reused: only migrated (new
   indexes) and analysed;
2. starts ``python -m app serve`` (one process, the embedded worker off so that no sweep runs
   inside it) on a free port and waits for /readyz; signs in once per demo account;
3. for each read, after a warm-up, times R requests one at a time through a kept-alive httpx
   client, and R times the hand SQL through one asyncpg connection of this process (the auth
   lookup a bearer token costs, then one statement building the JSON answer, each branch of
   the caller's scope reading its own index: bench/reads_hand_sql.py; the reads themselves:
   bench/reads_plan.py); checks that both answer with the same rows;
4. throughput of the list and the detail with 8 concurrent clients, against the hand SQL on 8
   connections;
5. the overdue sweep in this process: one catch-up pass after the load (its time and what it
   recorded), then 20 idle passes (wall time and time spent in statements;
   bench/reads_timing.py);
6. samples the API process's resident memory throughout (peak: VmHWM);
7. prints the table and writes ``bench/results/reads.json`` (or --output); drops the
   database unless --keep.

Run: .venv/bin/python bench/reads.py [--reports N] [--keep] [--only NAME] [--requests R]
     [--clients C] [--database-url URL] [--output PATH]
A quick run: --reports 20000 --database-url postgresql://postgres@127.0.0.1:5432/ssp_bench_small
--output /tmp/reads_small.json (at least 3,000 reports, for a 50th page).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    RssSampler,
    asyncpg_dsn,
    drop_database,
    log,
    machine,
    recreate_database,
    run_cli,
    server_log,
    start_server,
    status_kb,
)
from reads_data import SPAN_DAYS, load
from reads_plan import build_reads, sign_in
from reads_timing import (
    SEQUENTIAL_WARMUP,
    catch_up_under_load,
    measure_read,
    sweep_figures,
    throughput,
)

RESULTS = Path(__file__).resolve().parent / "results" / "reads.json"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ssp_bench_reads"
# The hand SQL's session as the service's own (app/core/db.py): no JIT compilation. Over the
# month partitions a list's plan costs enough for PostgreSQL to compile its expressions, some
# 400 ms a statement that then runs in 3.
HAND_SQL_SETTINGS = {"jit": "off"}
USERS = ("staff1", "staff9", "supervisor", "supervisor2", "unit6", "courier1")
RSS_BUDGET_MB = 300.0


# --- the run --------------------------------------------------------------------------------


async def count_reports(url: URL) -> int | None:
    """How many reports the database holds; None when there is no such database (or no
    migrated schema)."""
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url, url.database or ""))
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM reports")
        return count
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await conn.close()


async def analyze(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


@contextlib.contextmanager
def bench_database(
    args: argparse.Namespace, span_days: float = SPAN_DAYS
) -> Iterator[tuple[dict[str, str], dict[str, Any]]]:
    """A database holding the data set (reused with --keep when it holds N reports), filed
    over the ``span_days`` before now, the environment of the app's commands, and how the data
    set was made."""
    url = make_url(args.database_url)
    if url.get_backend_name() != "postgresql" or not url.database:
        raise SystemExit("--database-url must name a PostgreSQL database")
    dsn = asyncpg_dsn(url, url.database)
    workdir = Path(tempfile.mkdtemp(prefix="ssp-bench-reads-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SSP_")},
        "SSP_ENV": "demo",
        "SSP_DATABASE_URL": args.database_url,
        "SSP_PHOTO_DIR": str(workdir / "photos"),
        "SSP_LOG_LEVEL": "WARNING",
        # No sweep inside the API process: the sweep is measured on its own below.
        "SSP_EMBEDDED_WORKER": "false",
        "SSP_ACCESS_TOKEN_MINUTES": "240",
        "BENCH_WORKDIR": str(workdir),
    }
    try:
        if args.keep and asyncio.run(count_reports(url)) == args.reports:
            log(f"reusing {url.database} ({args.reports:,} reports): migrate, ANALYZE")
            run_cli(env, "migrate")
            asyncio.run(analyze(dsn))
            loaded: dict[str, Any] = {"reused": True}
        else:
            log(f"creating database {url.database}")
            recreate_database(url)
            run_cli(env, "migrate")
            # The organisation and its accounts, without the demo's month of cases: the
            # database then holds exactly N reports, which is how --keep knows it again.
            run_cli(env, "seed-demo", "--cases", "0")
            times = asyncio.run(load(dsn, args.reports, dt.datetime.now(dt.UTC), span_days))
            loaded = {"reused": False, **{k: round(v, 1) for k, v in times.__dict__.items()}}
            loaded["total_s"] = round(times.total_s, 1)
            log(f"loaded in {times.total_s:.0f} s")
        loaded |= asyncio.run(table_sizes(dsn))
        yield env, loaded
    finally:
        if not args.keep:
            with contextlib.suppress(Exception):
                drop_database(url)
        shutil.rmtree(workdir, ignore_errors=True)


async def table_sizes(dsn: str) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = {}
        for table in (
            "reports",
            "photos",
            "report_events",
            "jobs",
            "overdue_marks",
            "communities",
            "users",
        ):
            rows[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
        open_share = await conn.fetchval(
            "SELECT avg((status IN ('submitted', 'accepted', 'in_progress', 'dispatched', "
            "'on_hold', 'resolved'))::int) FROM reports"
        )
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        version = await conn.fetchval("SHOW server_version")
        return {
            "rows": rows,
            "open_share": round(float(open_share or 0), 3),
            "database_size": size,
            "postgres": version,
        }
    finally:
        await conn.close()


def selected(args: argparse.Namespace, name: str) -> bool:
    return not args.only or any(part in name for part in args.only)


async def measure(args: argparse.Namespace, base_url: str, dsn: str) -> dict[str, Any]:
    figures: dict[str, Any] = {"reads": {}, "throughput": {}}
    db = await asyncpg.connect(dsn, server_settings=HAND_SQL_SETTINGS)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            accounts = {u: await sign_in(client, db, u) for u in USERS}
            reads = await build_reads(client, db, accounts, dt.datetime.now(dt.UTC))
            for read in reads:
                if selected(args, read.name):
                    log(f"  {read.name}: {args.requests} requests + {SEQUENTIAL_WARMUP} warm-up")
                    figures["reads"][read.name] = await measure_read(
                        client, db, read, args.requests
                    )
            if selected(args, "catch_up"):
                log("  the sweep catching up after an import while the API serves")
                list_big = next(read for read in reads if read.name == "list_big")
                figures["catch_up"] = await catch_up_under_load(
                    client, dsn, args.database_url, list_big
                )
    finally:
        await db.close()
    per_client = max(1, args.requests // args.clients)
    for read in reads:
        if read.name in ("list_big", "detail") and selected(args, "throughput"):
            log(f"  throughput of {read.name}: {args.clients} clients")
            figures["throughput"][read.name] = await throughput(
                base_url, dsn, read, args.clients, per_client
            )
    return figures


def print_table(results: dict[str, Any]) -> None:
    rows = [("read", "API p50/p95", "hand SQL p50/p95", "ratio", "budget", "met")]
    for read in results["reads"].values():
        a, s, b = read["api_ms"], read["hand_sql_ms"], read["budget"]
        budget = f"p95<{b['p95_ms']:g}" + (f", ≤{b['ratio_p50']:g}×" if b["ratio_p50"] else "")
        rows.append(
            (
                read["label"],
                f"{a['p50']} / {a['p95']}",
                f"{s['p50']} / {s['p95']}",
                f"{read['ratio_p50']}×",
                budget,
                "yes" if read["met"] else "NO",
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  "
            + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        )
    for name, tp in results["throughput"].items():
        print(
            f"  8 clients, {name}: API {tp['api_per_s']}/s, "
            f"hand SQL {tp['hand_sql_per_s']}/s ({tp['ratio']}×)"
        )
    if sweep := results.get("sweep"):
        catch, idle, in_db = sweep["catch_up"], sweep["idle_wall_ms"], sweep["idle_statements_ms"]
        print(
            f"  sweep catch-up: {catch['recorded']} clocks in {catch['wall_ms']} ms; "
            f"idle pass p50/p95 {idle['p50']} / {idle['p95']} ms "
            f"(in statements {in_db['p50']} / {in_db['p95']} ms)"
        )
    if catch := results.get("catch_up"):
        latency = catch["latency_ms"] or {}
        print(
            f"  catch-up after an import: {catch['recorded']} clocks recorded, "
            f"{catch['transactions']} transactions in {catch['seconds']} s, the longest "
            f"{catch['longest_transaction_ms']} ms; {catch['read']} meanwhile p50/p95/max "
            f"{latency.get('p50')} / {latency.get('p95')} / {latency.get('max')} ms"
        )
    rss = results["api_rss_mb"]
    print(
        f"  API process RSS: peak {rss['peak']} MB, sampled max {rss['sampled_max']} MB "
        f"(budget < {RSS_BUDGET_MB:g})"
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
        help=(
            "only reads whose name contains this (repeatable; also 'throughput', 'sweep', "
            "'catch_up')"
        ),
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per read (200)")
    parser.add_argument(
        "--clients", type=int, default=8, help="concurrent clients for throughput (8)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.reports < 3_000 or args.requests < 1 or args.clients < 1:
        parser.error(
            "--reports must be at least 3,000 (a 50th page), --requests and --clients at least 1"
        )
    url = make_url(args.database_url)
    if url.drivername == "postgresql":  # the app and the sweep need the async driver
        args.database_url = url.set(drivername="postgresql+asyncpg").render_as_string(
            hide_password=False
        )
    return args


def main() -> None:
    args = parse_args()
    started_at = dt.datetime.now(dt.UTC)
    with bench_database(args) as (env, loaded):
        url = make_url(args.database_url)
        dsn = asyncpg_dsn(url, url.database or "")
        log("starting the server (1 process)")
        server = start_server(env, 1, Path(env["BENCH_WORKDIR"]))
        try:
            with RssSampler(server.pid) as sampler:
                results = asyncio.run(measure(args, server.base_url, dsn))
                if selected(args, "sweep"):
                    log("  overdue sweep: catch-up, then idle passes")
                    results["sweep"] = asyncio.run(sweep_figures(args.database_url))
            peak = max(status_kb(pid, "VmHWM") or 0 for pid in [server.pid, *server.worker_pids()])
        except BaseException:
            log(server_log(server))
            raise
        finally:
            server.stop()
    results["api_rss_mb"] = {
        "peak": round(peak / 1024, 1),
        "sampled_max": round(sampler.max_total_kb / 1024, 1),
        "samples": sampler.samples,
        "budget": RSS_BUDGET_MB,
        "met": peak / 1024 < RSS_BUDGET_MB,
    }
    figures = {
        "date": started_at.isoformat(timespec="seconds"),
        "reports": args.reports,
        "parameters": {
            "requests": args.requests,
            "warmup": SEQUENTIAL_WARMUP,
            "clients": args.clients,
            "database_url": url.render_as_string(hide_password=True),
            "api_processes": 1,
            "embedded_worker": False,
        },
        "load": loaded,
        **results,
        "machine": machine(),
    }
    met = [r["met"] for r in results["reads"].values()] + [results["api_rss_mb"]["met"]]
    if "sweep" in results:
        met.append(results["sweep"]["met"])
    figures["budgets_met"] = f"{sum(met)} of {len(met)}"
    print(f"\nReads at {args.reports:,} reports (ms; one API process, one request at a time)")
    print_table(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"budgets met: {figures['budgets_met']}; written {args.output}")
    if not all(met):
        raise SystemExit("over budget")


if __name__ == "__main__":
    main()
