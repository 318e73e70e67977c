"""Case numbering under contention, on PostgreSQL: 64 submitters filing at once across 8 counties,
with the counter of the old shape (one row per day, taken first: locked for the whole filing)
and of the new one (one row per county and day, taken as the filing's last write), side by side
in the same run, plus the two half-way shapes to show what each change is worth.

A filing is simulated by its database work, not its photos (which run before the transaction
and would hide the lock on a 2-core machine): the statements the real intake sends inside its
transaction — eight before the number in the new shape (routing, duplicates, the context, the
report, its entry, its photos, …), then the counter, the number written on the report, the
outbox row and the day counts, then the commit. The counter statements are the app's own
(``app/reports/numbering.py``); the rest are inserts of rows of a report's size into scratch
tables. Lock wait is the time the counter statement took (it waits for the row).

Between a statement's answer and the next statement an API process spends time of its own (its
work on the answer, the network's round trip to a database on another host): ``--gap-ms``
(1 ms) stands for it. With 0 the 64 submitters saturate this machine's two cores, where the
order of statements matters less than the total work.

Run: .venv/bin/python bench/scale_numbering.py [--seconds S] [--gap-ms MS] [--database-url URL]
Writes bench/results/scale_numbering.json (bench/scale.py gathers it into scale.json), or
scale_numbering_gap<MS>ms.json for another gap.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import asyncpg_dsn, drop_database, log, percentile, recreate_database

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ssp_bench_numbering"
SUBMITTERS, COUNTIES = 64, 8
BEFORE_NUMBER, AFTER_NUMBER = 8, 2  # statements of a filing on either side of the number
PAYLOAD = "x" * 600  # about a report row's width

SCHEMA = """
CREATE TABLE day_counters (day date PRIMARY KEY, last_value integer NOT NULL);
CREATE TABLE county_counters (
    county_code varchar(6), day date, last_value integer NOT NULL,
    PRIMARY KEY (county_code, day));
CREATE TABLE filings (id uuid PRIMARY KEY, number varchar(32) UNIQUE NOT NULL, body text);
CREATE TABLE filing_rows (id bigserial PRIMARY KEY, filing_id uuid NOT NULL, body text);
"""
# The old statement (one row per day) and the new one (per county and day): the app's upserts.
BY_DAY = """INSERT INTO day_counters (day, last_value) VALUES ($1, 1)
ON CONFLICT (day) DO UPDATE SET last_value = day_counters.last_value + 1 RETURNING last_value"""
BY_COUNTY = """INSERT INTO county_counters (county_code, day, last_value) VALUES ($2, $1, 1)
ON CONFLICT (county_code, day) DO UPDATE SET last_value = county_counters.last_value + 1
RETURNING last_value"""
ROW = "INSERT INTO filing_rows (filing_id, body) VALUES ($1, $2)"


class _Link:
    """The database as an API process sees it: each statement's answer, then ``gap_s`` before
    the next one is sent (the process's own work between statements and the network's round
    trip to a database on another host), time in which a lock taken stays held."""

    def __init__(self, connection: asyncpg.Connection, gap_s: float) -> None:
        self.connection = connection
        self.gap_s = gap_s

    async def execute(self, statement: str, *args: Any) -> None:
        await self.connection.execute(statement, *args)
        await self._gap()

    async def fetchval(self, statement: str, *args: Any) -> Any:
        value = await self.connection.fetchval(statement, *args)
        await self._gap()
        return value

    async def _gap(self) -> None:
        if self.gap_s > 0:
            await asyncio.sleep(self.gap_s)


@dataclass(frozen=True)
class Shape:
    name: str
    per_county: bool
    number_last: bool


SHAPES = [
    Shape("one counter a day, taken first (before)", per_county=False, number_last=False),
    Shape("one counter a day, taken last", per_county=False, number_last=True),
    Shape("a counter per county and day, taken first", per_county=True, number_last=False),
    Shape("a counter per county and day, taken last (now)", per_county=True, number_last=True),
]


async def _file(link: _Link, shape: Shape, county: str, day: date) -> tuple[float, float]:
    """One filing; answers the seconds its counter statement took (waiting for the row
    included) and the seconds the row stayed locked by it (from then to the commit's end)."""
    filing_id = uuid.uuid4()
    counter, keys = (BY_COUNTY, (day, county)) if shape.per_county else (BY_DAY, (day,))
    async with link.connection.transaction():
        waited = 0.0
        if not shape.number_last:
            started = time.perf_counter()
            value = await link.fetchval(counter, *keys)
            waited = time.perf_counter() - started
            number = f"SSP-{county}-{day:%Y%m%d}-{value:06d}"
            await link.execute(
                "INSERT INTO filings VALUES ($1, $2, $3)", filing_id, number, PAYLOAD
            )
        else:
            await link.execute(
                "INSERT INTO filings VALUES ($1, $2, $3)", filing_id, filing_id.hex, PAYLOAD
            )
        for _ in range(BEFORE_NUMBER - 1):
            await link.execute(ROW, filing_id, PAYLOAD)
        if shape.number_last:
            started = time.perf_counter()
            value = await link.fetchval(counter, *keys)
            waited = time.perf_counter() - started
            number = f"SSP-{county}-{day:%Y%m%d}-{value:06d}"
            await link.execute("UPDATE filings SET number = $2 WHERE id = $1", filing_id, number)
        for _ in range(AFTER_NUMBER):
            await link.execute(ROW, filing_id, PAYLOAD)
    return waited, time.perf_counter() - started - waited


async def _run_shape(
    dsn: str, shape: Shape, seconds: float, day: date, gap_s: float
) -> dict[str, Any]:
    pool = await asyncpg.create_pool(dsn, min_size=SUBMITTERS, max_size=SUBMITTERS)
    latencies: list[float] = []
    waits: list[float] = []
    holds: list[float] = []
    deadline = time.perf_counter() + seconds

    async def submitter(index: int) -> None:
        county = f"1508{index % COUNTIES:02d}"
        async with pool.acquire() as connection:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                waited, held = await _file(_Link(connection, gap_s), shape, county, day)
                waits.append(waited)
                holds.append(held)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(submitter(i) for i in range(SUBMITTERS)))
    elapsed = time.perf_counter() - started
    async with pool.acquire() as connection:
        gap_free = await _gap_free(connection, shape)
    await pool.close()
    return {
        "shape": shape.name,
        "filings": len(latencies),
        "filings_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.5) * 1000, 2),
            "p95": round(percentile(latencies, 0.95) * 1000, 2),
        },
        "counter_wait_ms": {
            "mean": round(sum(waits) / len(waits) * 1000, 2),
            "p95": round(percentile(waits, 0.95) * 1000, 2),
        },
        "counter_held_ms": {
            "mean": round(sum(holds) / len(holds) * 1000, 2),
            "p95": round(percentile(holds, 0.95) * 1000, 2),
        },
        # What one counter row can serve at most: one filing per hold.
        "filings_per_s_one_counter_can_serve": round(len(holds) / sum(holds), 1),
        "gap_free": gap_free,
    }


async def _gap_free(connection: asyncpg.Connection, shape: Shape) -> bool:
    """Each counter's numbers are 1…n: as many filings as its last value, none repeated."""
    rows = await connection.fetch(
        "SELECT substr(number, 5, 6) AS county, count(*) AS n, "
        "max(right(number, 6)::int) AS last FROM filings WHERE number LIKE 'SSP-%' GROUP BY 1"
    )
    if shape.per_county:
        return all(row["n"] == row["last"] for row in rows)
    filed: int = sum(row["n"] for row in rows)
    last: int = max((row["last"] for row in rows), default=0)
    return filed == last


async def _measure(dsn: str, seconds: float, gap_s: float) -> list[dict[str, Any]]:
    results = []
    for index, shape in enumerate(SHAPES):
        connection = await asyncpg.connect(dsn)
        await connection.execute("TRUNCATE day_counters, county_counters, filings, filing_rows")
        await connection.execute("CHECKPOINT")
        await connection.close()
        log(f"{shape.name}: ", end="")
        result = await _run_shape(dsn, shape, seconds, date(2027, 1, 1 + index), gap_s)
        log(
            f"{result['filings_per_s']} filings/s, p95 {result['latency_ms']['p95']} ms, "
            f"counter wait mean {result['counter_wait_ms']['mean']} ms, "
            f"held mean {result['counter_held_ms']['mean']} ms"
        )
        results.append(result)
    return results


async def _prepare(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    await connection.execute(SCHEMA)
    await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per shape (10)")
    parser.add_argument(
        "--gap-ms",
        type=float,
        default=1.0,
        help="time between a statement's answer and the next statement (1 ms)",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    url = make_url(args.database_url)
    recreate_database(url)
    dsn = asyncpg_dsn(url, url.database or "")
    try:
        asyncio.run(_prepare(dsn))
        shapes = asyncio.run(_measure(dsn, args.seconds, args.gap_ms / 1000))
    finally:
        drop_database(url)
    before, now = shapes[0], shapes[-1]
    summary = {
        "submitters": SUBMITTERS,
        "counties": COUNTIES,
        "statements_before_and_after_the_number": [BEFORE_NUMBER, AFTER_NUMBER],
        "seconds_per_shape": args.seconds,
        "gap_between_statements_ms": args.gap_ms,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "shapes": shapes,
        "throughput_ratio_now_to_before": round(now["filings_per_s"] / before["filings_per_s"], 2),
    }
    # The default run's file is the one bench/scale.py gathers; others are named by their gap.
    name = "scale_numbering" if args.gap_ms == 1.0 else f"scale_numbering_gap{args.gap_ms:g}ms"
    results = RESULTS_DIR / f"{name}.json"
    RESULTS_DIR.mkdir(exist_ok=True)
    results.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    log(f"now/before: {summary['throughput_ratio_now_to_before']}× → {results}")


if __name__ == "__main__":
    main()
