"""Two versions of the API on one database, their reads timed in alternation: what a change did
to each read of bench/reads.py, on a machine whose speed moves between runs.

On a shared or noisy machine two runs of bench/reads.py a quarter of an hour apart differ by
more than most changes do. Here both versions serve at once from the same database, and each
timed round sends a read to one and then to the other (in turn which goes first), so that both
see the same load; the idle overdue sweep is timed the same way, a version at a time in rounds.

What it does:
1. takes a database that bench/reads.py --keep left (``ssp_bench_reads`` unless
   --database-url says otherwise; migrated again by neither version: run reads.py first with
   the newer one);
2. starts ``python -m app serve`` of this tree ("after") and of the tree at --before
   ("before", a checkout of the other version: ``git worktree add`` or ``git archive``), one
   process each, the embedded worker off; signs in once per demo account;
3. for each read of bench/reads_plan.py, and a few filtered lists without a period
   (``filtered_lists``), after a warm-up of both, R rounds of one request to each version, and
   checks that both answer with the same rows; p50/p95 of each and after / before of the p50s;
4. the overdue sweep: in rounds, each version's idle passes in a process of its own
   (bench/reads_timing.py ``sweep_figures``), wall time and time in statements;
5. prints the table and writes ``bench/results/reads_ab.json`` (or --output).

Run: .venv/bin/python bench/reads_ab.py --before PATH [--database-url URL] [--requests R]
     [--sweep-rounds N] [--output PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, asyncpg_dsn, log, machine, percentile, server_log, start_server
from reads_plan import Account, Read, api, build_reads, sign_in
from reads_timing import report_ids

RESULTS = Path(__file__).resolve().parent / "results" / "reads_ab.json"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ssp_bench_reads"
USERS = ("staff1", "staff9", "supervisor", "supervisor2", "unit6", "courier1")
WARMUP = 20
# One version's idle sweep passes, in a process of its own run in that version's tree.
SWEEP_SCRIPT = (
    "import asyncio, json, sys; sys.path.insert(1, 'bench');"
    "from reads_timing import sweep_figures;"
    "print(json.dumps(asyncio.run(sweep_figures(sys.argv[1]))))"
)


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(ms), 2),
        "p95": round(percentile(ms, 0.95), 2),
    }


async def alternate(
    clients: dict[str, httpx.AsyncClient], read: Read, rounds: int
) -> dict[str, list[float]]:
    """``rounds`` rounds of one request to each version, which goes first in turn."""
    times: dict[str, list[float]] = {name: [] for name in clients}
    order = list(clients)
    for round_number in range(rounds + WARMUP):
        for name in order if round_number % 2 else reversed(order):
            started = asyncio.get_running_loop().time()
            await api(clients[name], read)
            if round_number >= WARMUP:
                times[name].append((asyncio.get_running_loop().time() - started) * 1000)
    return times


async def filtered_lists(db: Any, accounts: dict[str, Account]) -> list[Read]:
    """First pages of filtered lists without a period, which bench/reads_plan.py does not read
    (they have no hand SQL there): the big community's rarest category, for its staff and for
    the banner's supervisor; a status, for the big community and for a township; the open
    statuses of a small community, whose page spans many months."""
    community = accounts["staff1"].caller.communities[0]
    rare = await db.fetchval(
        "SELECT category_code FROM reports WHERE community_id = $1 GROUP BY 1 ORDER BY count(*) "
        "LIMIT 1",
        community,
    )
    lists = [
        ("staff1", f"category={rare}", "category (big community)"),
        ("supervisor", f"category={rare}", "category (banner supervisor)"),
        ("staff1", "status=submitted", "a status (big community)"),
        ("supervisor2", "status=dispatched", "a status (township supervisor)"),
        ("staff9", "status=dispatched&status=accepted", "open statuses (small community)"),
    ]
    return [
        Read(
            f"filtered_{n}", label, accounts[user], f"/api/v1/reports?limit=50&{query}", "", {}, 25
        )
        for n, (user, query, label) in enumerate(lists)
    ]


async def measure(args: argparse.Namespace, base_urls: dict[str, str], dsn: str) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    db = await asyncpg.connect(dsn)
    clients = {name: httpx.AsyncClient(base_url=url, timeout=60) for name, url in base_urls.items()}
    try:
        # Tokens and cursors are the deployment's, not a version's: either serves both.
        accounts = {u: await sign_in(clients["after"], db, u) for u in USERS}
        reads = await build_reads(clients["after"], db, accounts, dt.datetime.now(dt.UTC))
        reads += await filtered_lists(db, accounts)
        for read in reads:
            log(f"  {read.name}: {args.requests} rounds + {WARMUP} warm-up")
            answers = {name: await api(client, read) for name, client in clients.items()}
            times = await alternate(clients, read, args.requests)
            before, after = summary(times["before"]), summary(times["after"])
            figures[read.name] = {
                "label": read.label,
                "before_ms": before,
                "after_ms": after,
                "after_over_before_p50": round(after["p50"] / before["p50"], 2),
                "same_ids": report_ids(answers["before"]) == report_ids(answers["after"]),
                "same_answer": answers["before"] == answers["after"],
            }
    finally:
        await db.close()
        for client in clients.values():
            await client.aclose()
    return figures


def sweep_rounds(args: argparse.Namespace, trees: dict[str, Path]) -> dict[str, Any]:
    """Each version's idle sweep passes, in turn, ``--sweep-rounds`` times: the median of each
    round's p50s."""
    passes: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for round_number in range(args.sweep_rounds):
        for name in trees if round_number % 2 else reversed(list(trees)):
            log(f"  overdue sweep, {name}: round {round_number + 1}")
            env = {**os.environ, "PYTHONPATH": str(trees[name])}
            done = subprocess.run(
                [sys.executable, "-c", SWEEP_SCRIPT, args.database_url],
                cwd=trees[name],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            passes[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        name: {
            "idle_wall_ms_p50": round(statistics.median(p["idle_wall_ms"]["p50"] for p in runs), 2),
            "idle_statements_ms_p50": round(
                statistics.median(p["idle_statements_ms"]["p50"] for p in runs), 2
            ),
            "rounds": runs,
        }
        for name, runs in passes.items()
    }


def print_table(reads: dict[str, Any], sweep: dict[str, Any]) -> None:
    rows = [("read", "before p50/p95", "after p50/p95", "after/before", "same rows")]
    for read in reads.values():
        b, a = read["before_ms"], read["after_ms"]
        rows.append(
            (
                read["label"],
                f"{b['p50']} / {b['p95']}",
                f"{a['p50']} / {a['p95']}",
                f"{read['after_over_before_p50']}×",
                "yes" if read["same_ids"] else "NO",
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    for name, figures in sweep.items():
        print(
            f"  idle sweep pass, {name}: {figures['idle_wall_ms_p50']} ms "
            f"({figures['idle_statements_ms_p50']} ms in statements), median of p50s"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the other version's tree")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--requests", type=int, default=200, help="timed rounds per read (200)")
    parser.add_argument("--sweep-rounds", type=int, default=4, help="sweep rounds (4)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    url = make_url(args.database_url)
    if url.drivername == "postgresql":  # the app and the sweep need the async driver
        args.database_url = url.set(drivername="postgresql+asyncpg").render_as_string(
            hide_password=False
        )
    if not (args.before / "app" / "__main__.py").is_file():
        parser.error(f"{args.before} holds no app/ to serve")
    return args


def main() -> None:
    args = parse_args()
    started_at = dt.datetime.now(dt.UTC)
    url = make_url(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="ssp-bench-ab-"))
    trees = {"before": args.before.resolve(), "after": ROOT}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SSP_")},
        "SSP_ENV": "demo",
        "SSP_DATABASE_URL": args.database_url,
        "SSP_PHOTO_DIR": str(workdir / "photos"),
        "SSP_LOG_LEVEL": "WARNING",
        "SSP_EMBEDDED_WORKER": "false",
        "SSP_ACCESS_TOKEN_MINUTES": "240",
    }
    servers = {
        name: start_server({**env, "PYTHONPATH": str(tree)}, 1, workdir, source=tree)
        for name, tree in trees.items()
    }
    try:
        dsn = asyncpg_dsn(url, url.database or "")
        base_urls = {name: server.base_url for name, server in servers.items()}
        reads = asyncio.run(measure(args, base_urls, dsn))
    except BaseException:
        for server in servers.values():
            log(server_log(server))
        raise
    finally:
        for server in servers.values():
            server.stop()
    sweep = sweep_rounds(args, trees)
    figures = {
        "date": started_at.isoformat(timespec="seconds"),
        "before": str(trees["before"]),
        "parameters": {"requests": args.requests, "warmup": WARMUP, "api_processes": 1},
        "reads": reads,
        "sweep": sweep,
        "machine": machine(),
    }
    print("\nBefore and after, requests in alternation (ms; one API process each)")
    print_table(reads, sweep)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"written {args.output}")
    if not all(read["same_ids"] for read in reads.values()):
        raise SystemExit("the versions answered with different rows")


if __name__ == "__main__":
    main()
