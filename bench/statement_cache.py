"""What asyncpg's statement caches save a transaction, through the app's own engine: with them,
a statement run before is one round trip and no parsing; without them (behind PgBouncer in
transaction mode before 1.21), it is prepared and then parsed again in the message that runs it.

One connection runs transactions of STATEMENTS distinct parametrised SELECTs (a report's intake
runs a dozen statements between BEGIN and COMMIT), on PostgreSQL's ``postgres`` database: straight
to PostgreSQL with the caches, without them, and through a PgBouncer started beforehand (without
them), in ROUNDS alternating rounds so that other work on the machine falls on all three alike;
the median round counts. Writes ``bench/results/statement_cache.json``.

Run: .venv/bin/python bench/statement_cache.py [--database-url URL] [--pgbouncer-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, log, machine

from app.core.config import Settings
from app.core.db import create_engine

RESULTS = ROOT / "bench" / "results" / "statement_cache.json"
STATEMENTS = 12
TRANSACTIONS = 300
ROUNDS = 5
# Distinct statements, each with a parameter, of the size of the service's short look-ups.
QUERIES = [
    text(f"SELECT oid, relname, relkind FROM pg_class WHERE relname = :name AND {n} = {n}")
    for n in range(STATEMENTS)
]


async def transactions_per_second(settings: Settings) -> float:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            for query in QUERIES:  # warm: the caches filled, the connection made
                await conn.execute(query, {"name": "pg_class"})
            await conn.commit()
            started = time.perf_counter()
            for _ in range(TRANSACTIONS):
                for query in QUERIES:
                    (await conn.execute(query, {"name": "pg_class"})).all()
                await conn.commit()
            return TRANSACTIONS / (time.perf_counter() - started)
    finally:
        await engine.dispose()


def configurations(database_url: str, pgbouncer_url: str | None) -> dict[str, Settings]:
    found = {
        "direct, caches on": Settings(
            env="test", database_url=database_url, database_statement_cache=True
        ),
        "direct, caches off": Settings(
            env="test", database_url=database_url, database_statement_cache=False
        ),
    }
    if pgbouncer_url:
        found["pgbouncer 1.18 transaction mode, caches off"] = Settings(
            env="test",
            database_url=pgbouncer_url,
            database_pooler="pgbouncer-transaction",
            database_direct_url=database_url,
        )
    return found


async def run(args: argparse.Namespace) -> dict[str, Any]:
    configs = configurations(args.database_url, args.pgbouncer_url)
    rounds: dict[str, list[float]] = {name: [] for name in configs}
    for n in range(ROUNDS):
        log(f"round {n + 1} of {ROUNDS}")
        for name, settings in configs.items():
            rounds[name].append(await transactions_per_second(settings))
    results = {}
    for name, values in rounds.items():
        per_second = statistics.median(values)
        results[name] = {
            "transactions_per_s": round(per_second),
            "us_per_transaction": round(1e6 / per_second),
            "us_per_statement": round(1e6 / per_second / STATEMENTS, 1),
            "rounds_transactions_per_s": [round(v) for v in values],
        }
    return {
        "parameters": {
            "statements_per_transaction": STATEMENTS,
            "transactions_per_round": TRANSACTIONS,
            "rounds": ROUNDS,
            "database_url": make_url(args.database_url).render_as_string(hide_password=True),
        },
        "results": results,
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--pgbouncer-url", default=None, help="the same database via PgBouncer")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    print(json.dumps(figures["results"], indent=2))
    args.output.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
