"""The plans of the API's statements for the statistics over budget (bench/stats.py --explain):
auto_explain (ANALYZE, BUFFERS) turned on for the benchmark's database, a fresh API process
(new connections load it), one request per statistic, and the plans PostgreSQL logged
meanwhile; auto_explain is turned off again afterwards."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from common import log, start_server
from reads_plan import sign_in
from stats_plan import Stat

RESULTS = Path(__file__).resolve().parent / "results" / "stats_plans.txt"
SLOWER_THAN_MS = 5
KEPT_PER_REQUEST = 4  # the slowest statements of a request kept in the file
SETTINGS = {
    "auto_explain.log_min_duration": f"'{SLOWER_THAN_MS}ms'",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    "auto_explain.log_timing": "on",
}


async def _auto_explain(dsn: str, on: bool) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        name = '"' + (await conn.fetchval("SELECT current_database()")).replace('"', '""') + '"'
        await conn.execute("LOAD 'auto_explain'")
        if on:
            await conn.execute(
                f"ALTER DATABASE {name} SET session_preload_libraries = 'auto_explain'"
            )
            for setting, value in SETTINGS.items():
                await conn.execute(f"ALTER DATABASE {name} SET {setting} = {value}")
        else:
            for setting in ("session_preload_libraries", *SETTINGS):
                await conn.execute(f"ALTER DATABASE {name} RESET {setting}")
    finally:
        await conn.close()


def _log_file(directory: Path) -> Path:
    return max(directory.glob("postgresql-*.log"), key=lambda p: p.stat().st_mtime)


def _plans(text: str) -> list[str]:
    """The plans auto_explain logged in ``text``, slowest first."""
    entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:)", text)  # a line of its own each
    plans = [e for e in entries if "LOG:  duration: " in e and "plan:" in e]
    return sorted(plans, key=lambda e: -float(re.search(r"duration: ([\d.]+) ms", e).group(1)))  # type: ignore[union-attr]


async def _requests(
    base_url: str, dsn: str, stats: list[Stat], log_dir: Path
) -> dict[str, list[str]]:
    conn = await asyncpg.connect(dsn)
    plans: dict[str, list[str]] = {}
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=300) as client:
            accounts = {}
            for stat in stats:
                name = stat.account.username
                if name not in accounts:
                    accounts[name] = await sign_in(client, conn, name)
                stat.account = accounts[name]
                await client.get(stat.path, headers=stat.account.headers)  # warm
                path = _log_file(log_dir)
                offset = path.stat().st_size
                response = await client.get(stat.path, headers=stat.account.headers)
                response.raise_for_status()
                await asyncio.sleep(0.5)  # the log written
                with path.open("r", errors="replace") as file:
                    file.seek(offset)
                    plans[stat.name] = _plans(file.read())
    finally:
        await conn.close()
    return plans


def explain_misses(
    env: dict[str, str], dsn: str, stats: list[Stat], log_dir: Path
) -> dict[str, Any]:
    log(f"  plans of {', '.join(s.name for s in stats)} (auto_explain)")
    asyncio.run(_auto_explain(dsn, True))
    try:
        server = start_server(env, 1, Path(env["BENCH_WORKDIR"]))
        try:
            plans = asyncio.run(_requests(server.base_url, dsn, stats, log_dir))
        finally:
            server.stop()
    finally:
        asyncio.run(_auto_explain(dsn, False))
    with RESULTS.open("w") as out:
        out.write(
            f"# The API's statements over {SLOWER_THAN_MS} ms, {time.strftime('%Y-%m-%d %H:%M')}\n"
        )
        for name, entries in plans.items():
            out.write(f"\n\n######## {name}\n")
            for entry in entries[:KEPT_PER_REQUEST]:
                out.write(entry.rstrip() + "\n\n")
            if len(entries) > KEPT_PER_REQUEST:
                out.write(
                    f"(and {len(entries) - KEPT_PER_REQUEST} more statements over the threshold)\n"
                )
    return {
        "file": str(RESULTS.relative_to(RESULTS.parents[2])),
        "statements": {name: len(entries) for name, entries in plans.items()},
    }
