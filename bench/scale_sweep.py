"""The overdue sweep at province scale: an idle pass over a database holding N reports, and the
catch-up when every running clock falls due at once, on a copy of the reads benchmark's
database (bench/reads_data.py; made first when it is missing, kept for next time).

1. idle: passes at the real time, after a first pass has caught up with the last day's clocks
   the data set leaves un-noted;
2. catch-up: every overdue mark and card taken away, every clock's notes cleared (as if no
   clock had ever run out) and the timers made again from the cases (as after an import),
   then a pass forty days later, when every running clock of every
   open case (reports' and jobs') is past its deadline and past the red card's threshold: how
   many it recorded, its wall time and its database time, then idle passes at that time;
3. side by side: the least an idle pass can ask, written by hand (the first due timer, in a
   transaction, through asyncpg); and the read the sweep made at every pass before clocks
   noted where it was with them: every running clock past its deadline (hand-written SQL, the
   same moment), which grows with every clock recorded and never goes back down while the
   cases stay open.

Run: .venv/bin/python bench/scale_sweep.py [--reports N] [--database-url URL]
Writes bench/results/scale_sweep.json (bench/scale.py gathers it into scale.json).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import asyncpg_dsn, log, percentile
from reads import DEFAULT_DATABASE_URL, bench_database
from reads_data_sql import timers_sql
from reads_timing import sweep_figures

RESULTS = Path(__file__).resolve().parent / "results" / "scale_sweep.json"
COPY = "ssp_bench_sweep"
LATER = dt.timedelta(days=40)
OLD_READS = 10

# What a pass read before the clocks were noted: every running clock past its deadline.
OLD_PASS_SQL = """
SELECT id, accept_due_at FROM reports WHERE status = 'submitted' AND accept_due_at < $1
UNION ALL
SELECT id, resolve_due_at FROM reports
 WHERE status IN ('accepted', 'in_progress', 'dispatched') AND resolve_due_at < $1
UNION ALL
SELECT j.id, j.accept_due_at FROM jobs j JOIN reports r ON r.id = j.report_id
 WHERE j.status = 'pending' AND j.accept_due_at < $1 AND r.status <> 'on_hold'
   AND r.status NOT IN ('closed', 'rejected', 'duplicate')
UNION ALL
SELECT j.id, j.complete_due_at FROM jobs j JOIN reports r ON r.id = j.report_id
 WHERE j.status = 'accepted' AND j.complete_due_at < $1 AND r.status <> 'on_hold'
   AND r.status NOT IN ('closed', 'rejected', 'duplicate')
"""

RUNNING = "('submitted', 'accepted', 'in_progress', 'dispatched')"
RUNNING_CLOCKS_SQL = f"""
SELECT (SELECT count(*) FROM reports WHERE status IN {RUNNING})
     + (SELECT count(*) FROM jobs j JOIN reports r ON r.id = j.report_id
         WHERE j.status IN ('pending', 'accepted') AND r.status IN {RUNNING})
"""


async def _copy(source_dsn: str, admin_dsn: str, source: str) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{COPY}" WITH (FORCE)')
        # No session may be open on the template while it is copied.
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", source
        )
        await admin.execute(f'CREATE DATABASE "{COPY}" TEMPLATE "{source}"')
    finally:
        await admin.close()


async def _drop_copy(admin_dsn: str) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{COPY}" WITH (FORCE)')
    finally:
        await admin.close()


# As if no running clock had ever run out: no marks, no cards, no notes on the clocks.
FORGET_EVERY_OVERDUE = (
    "DELETE FROM overdue_marks",
    f"UPDATE reports SET accept_due_recorded = NULL, accept_due_swept = NULL, "
    f"resolve_due_recorded = NULL, resolve_due_swept = NULL, supervision_level = NULL "
    f"WHERE status IN {RUNNING}",
    "UPDATE jobs SET accept_due_recorded = NULL, accept_due_swept = NULL, "
    "complete_due_recorded = NULL, complete_due_swept = NULL "
    "WHERE status IN ('pending', 'accepted')",
    # Rows changed around the service: their cases' timers made again from them.
    timers_sql(),
    "VACUUM ANALYZE",
)


async def _forget_every_overdue(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for statement in FORGET_EVERY_OVERDUE:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _old_pass(dsn: str, at: dt.timedelta) -> dict[str, Any]:
    connection = await asyncpg.connect(dsn)
    try:
        now = dt.datetime.now(dt.UTC) + at
        times, rows = [], 0
        for _ in range(OLD_READS):
            started = time.perf_counter()
            rows = len(await connection.fetch(OLD_PASS_SQL, now))
            times.append((time.perf_counter() - started) * 1000)
        return {
            "clocks_read": rows,
            "ms": {
                "p50": round(statistics.median(times), 1),
                "p95": round(percentile(times, 0.95), 1),
            },
        }
    finally:
        await connection.close()


# The least an idle pass can ask, written by hand: the first due timer, none found.
IDLE_HAND_SQL = """
SELECT due_at, report_id FROM clock_timers WHERE due_at <= $1
 ORDER BY due_at, report_id LIMIT 200 FOR UPDATE SKIP LOCKED
"""


async def _hand_idle(dsn: str, at: dt.timedelta) -> dict[str, Any]:
    """``IDLE_HAND_SQL`` in a transaction of its own, timed as the sweep's statements are."""
    connection = await asyncpg.connect(dsn)
    try:
        times = []
        for _ in range(OLD_READS * 5):
            now = dt.datetime.now(dt.UTC) + at
            async with connection.transaction():
                started = time.perf_counter()
                await connection.fetch(IDLE_HAND_SQL, now)
                times.append((time.perf_counter() - started) * 1000)
        return {
            "ms": {
                "p50": round(statistics.median(times), 3),
                "p95": round(percentile(times, 0.95), 3),
            }
        }
    finally:
        await connection.close()


async def _running_clocks(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        count: int = await connection.fetchval(RUNNING_CLOCKS_SQL)
        return count
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    args.keep = True  # the source data set is worth keeping; the copy is dropped
    url = make_url(args.database_url)
    with bench_database(args) as (_, loaded):
        pass
    admin_dsn = asyncpg_dsn(url, "postgres")
    copy_url = url.set(database=COPY)
    copy_dsn = asyncpg_dsn(copy_url, COPY)
    log(f"copying {url.database} to {COPY}")
    asyncio.run(_copy(asyncpg_dsn(url, url.database or ""), admin_dsn, url.database or ""))
    try:
        running = asyncio.run(_running_clocks(copy_dsn))
        log(f"{running:,} running clocks; idle passes now")
        copy_async = copy_url.render_as_string(hide_password=False)
        idle = asyncio.run(sweep_figures(copy_async))
        hand_now = asyncio.run(_hand_idle(copy_dsn, dt.timedelta()))
        old_now = asyncio.run(_old_pass(copy_dsn, dt.timedelta()))
        log(f"every clock's overdue forgotten; the catch-up {LATER.days} days later")
        asyncio.run(_forget_every_overdue(copy_dsn))
        later = asyncio.run(sweep_figures(copy_async, LATER))
        hand_later = asyncio.run(_hand_idle(copy_dsn, LATER))
        old_later = asyncio.run(_old_pass(copy_dsn, LATER))
    finally:
        asyncio.run(_drop_copy(admin_dsn))
    results = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "reports": args.reports,
        "running_clocks": running,
        "data_set": loaded,
        "now": {"sweep": idle, "idle_hand_sql": hand_now, "old_pass": old_now},
        "forty_days_later": {"sweep": later, "idle_hand_sql": hand_later, "old_pass": old_later},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    catch = later["catch_up"]
    log(
        f"idle pass now: {idle['idle_statements_ms']['p50']} ms in the database "
        f"(by hand: {hand_now['ms']['p50']} ms; "
        f"the old read: {old_now['ms']['p50']} ms, {old_now['clocks_read']:,} clocks)\n"
        f"catch-up: {catch['recorded']:,} clocks in {catch['wall_ms'] / 1000:.1f} s "
        f"({catch['statements_ms'] / 1000:.1f} s in the database); idle after it "
        f"{later['idle_statements_ms']['p50']} ms (the old read: {old_later['ms']['p50']} ms, "
        f"{old_later['clocks_read']:,} clocks) → {RESULTS}"
    )


if __name__ == "__main__":
    main()
