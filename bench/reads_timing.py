"""Timing the reads (bench/reads.py): each one through the API and as hand SQL, one request at
a time and with concurrent clients, and the overdue sweep's catch-up and idle passes."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import httpx
from common import percentile
from reads_data_sql import timers_sql
from reads_plan import Read, api, hand_sql
from sqlalchemy import event

SEQUENTIAL_WARMUP = 20
IDLE_SWEEP_PASSES = 20
IDLE_SWEEP_BUDGET_MS = 10.0


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(ms, 0.50), 2),
        "p95": round(percentile(ms, 0.95), 2),
        "mean": round(statistics.fmean(ms), 2),
        "max": round(max(ms), 2),
        "n": len(ms),
    }


async def timed(work: Callable[[], Awaitable[Any]], count: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        await work()
    out = []
    for _ in range(count):
        started = time.perf_counter()
        await work()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def rate(works: Sequence[Callable[[], Awaitable[Any]]], per_client: int) -> float:
    """Requests per second of len(works) clients, each doing ``per_client`` in a row."""

    async def client(work: Callable[[], Awaitable[Any]]) -> None:
        for _ in range(per_client):
            await work()

    await asyncio.gather(*(work() for work in works))  # warm each connection
    started = time.perf_counter()
    await asyncio.gather(*(client(work) for work in works))
    return len(works) * per_client / (time.perf_counter() - started)


def report_ids(answer: str | bytes) -> list[str]:
    """The ids an answer shows, in order (a page's items, or a list)."""
    data = json.loads(answer)
    items = data["items"] if isinstance(data, dict) and "items" in data else data
    if isinstance(items, dict):
        return [str(items["id"])]
    return [str(item["id"]) for item in items]


async def measure_read(
    client: httpx.AsyncClient, db: Any, read: Read, requests: int
) -> dict[str, Any]:
    statement = read.statement()
    api_answer, sql_answer = await api(client, read), await hand_sql(db, read, statement)
    api_ms = await timed(lambda: api(client, read), requests, SEQUENTIAL_WARMUP)
    sql_ms = await timed(lambda: hand_sql(db, read, statement), requests, SEQUENTIAL_WARMUP)
    a, s = summary(api_ms), summary(sql_ms)
    ratio = a["p50"] / s["p50"] if s["p50"] else float("inf")
    met = a["p95"] < read.budget_p95_ms and (
        read.budget_ratio is None or ratio <= read.budget_ratio
    )
    return {
        "label": read.label,
        "user": read.account.username,
        "path": read.path
        if "cursor=" not in read.path
        else read.path.split("&cursor=")[0] + "&cursor=…",
        "api_ms": a,
        "hand_sql_ms": s,
        "ratio_p50": round(ratio, 2),
        "budget": {"p95_ms": read.budget_p95_ms, "ratio_p50": read.budget_ratio},
        "met": met,
        "same_ids": report_ids(api_answer) == report_ids(sql_answer),
        "items": len(report_ids(api_answer)),
        "api_bytes": len(api_answer),
    }


async def throughput(
    base_url: str, dsn: str, read: Read, clients: int, per_client: int
) -> dict[str, float]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        api_rate = await rate([lambda: api(client, read)] * clients, per_client)
    # (JIT off, as bench/reads.py's hand SQL and the service's own sessions)
    connections = [
        await asyncpg.connect(dsn, server_settings={"jit": "off"}) for _ in range(clients)
    ]
    statement = read.statement()
    try:
        works = [functools.partial(hand_sql, c, read, statement) for c in connections]
        sql_rate = await rate(works, per_client)
    finally:
        for connection in connections:
            await connection.close()
    return {
        "api_per_s": round(api_rate, 1),
        "hand_sql_per_s": round(sql_rate, 1),
        "ratio": round(sql_rate / api_rate, 2),
    }


async def sweep_figures(database_url: str, at: dt.timedelta = dt.timedelta()) -> dict[str, Any]:
    """One catch-up pass of the overdue sweep, then idle passes: wall time and the time spent
    in statements (sent to the database and answered). ``at``: the passes run that long after
    the real time (every clock running then is due)."""
    from app.calendar.cache import CalendarCache
    from app.core.config import Settings
    from app.core.db import create_engine, create_sessionmaker
    from app.workflow import overdue

    settings = Settings(env="demo", database_url=database_url)
    engine = create_engine(settings)
    in_statements = [0.0]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(conn: Any, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _after(conn: Any, *_: Any) -> None:
        in_statements[0] += time.perf_counter() - conn.info.pop("bench_started")

    sessionmaker = create_sessionmaker(engine)
    calendar = await CalendarCache(sessionmaker, refresh_seconds=3600).current()

    async def one_pass() -> tuple[int, float, float]:
        in_statements[0] = 0.0
        now = dt.datetime.now(dt.UTC) + at
        started = time.perf_counter()
        recorded = await overdue.sweep_overdue(sessionmaker, now, calendar, settings)
        return recorded, (time.perf_counter() - started) * 1000, in_statements[0] * 1000

    try:
        recorded, catch_up_ms, catch_up_db_ms = await one_pass()
        idle = [await one_pass() for _ in range(IDLE_SWEEP_PASSES)]
    finally:
        await engine.dispose()
    wall, db = [p[1] for p in idle], [p[2] for p in idle]
    return {
        "catch_up": {
            "recorded": recorded,
            "wall_ms": round(catch_up_ms, 1),
            "statements_ms": round(catch_up_db_ms, 1),
        },
        "idle_passes": IDLE_SWEEP_PASSES,
        "idle_recorded": sum(p[0] for p in idle),
        "idle_wall_ms": {
            "p50": round(statistics.median(wall), 2),
            "p95": round(percentile(wall, 0.95), 2),
        },
        "idle_statements_ms": {
            "p50": round(statistics.median(db), 2),
            "p95": round(percentile(db, 0.95), 2),
        },
        "budget_ms": IDLE_SWEEP_BUDGET_MS,
        "met": percentile(db, 0.95) < IDLE_SWEEP_BUDGET_MS,
    }


FORGET_PROGRESS = (
    "UPDATE reports SET accept_due_recorded = NULL, accept_due_swept = NULL, "
    "resolve_due_recorded = NULL, resolve_due_swept = NULL "
    "WHERE accept_due_recorded IS NOT NULL OR resolve_due_recorded IS NOT NULL",
    "UPDATE jobs SET accept_due_recorded = NULL, accept_due_swept = NULL, "
    "complete_due_recorded = NULL, complete_due_swept = NULL "
    "WHERE accept_due_recorded IS NOT NULL OR complete_due_recorded IS NOT NULL",
    # Rows changed around the service: their cases' timers made again from them.
    timers_sql(),
)


async def catch_up_under_load(
    client: httpx.AsyncClient, dsn: str, database_url: str, read: Read
) -> dict[str, Any]:
    """The sweep catching up after an import while the API serves: every clock's progress is
    forgotten (as after the upgrade that introduced it, or an import of cases with their
    marks), then a sweeper (as a `python -m app worker` process would) goes over every recorded
    clock again while ``read`` is timed through the API, one request at a time. Reports how
    long the catch-up took, its longest transaction (the longest any report stayed locked by
    it) and the requests' latency meanwhile."""
    from app.calendar.cache import CalendarCache
    from app.core.config import Settings
    from app.core.db import create_engine, create_sessionmaker
    from app.workflow import overdue

    db = await asyncpg.connect(dsn)
    try:
        forgotten = [await db.execute(statement) for statement in FORGET_PROGRESS]
    finally:
        await db.close()
    settings = Settings(env="demo", database_url=database_url)
    engine = create_engine(settings)
    transactions: list[float] = []

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.info["bench_begun"] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "commit")
    def _commit(conn: Any) -> None:
        transactions.append((time.perf_counter() - conn.info.pop("bench_begun")) * 1000)

    sessionmaker = create_sessionmaker(engine)
    calendar = await CalendarCache(sessionmaker, refresh_seconds=3600).current()
    latencies: list[float] = []
    try:
        started = time.perf_counter()
        sweep = asyncio.ensure_future(
            overdue.sweep_overdue(sessionmaker, dt.datetime.now(dt.UTC), calendar, settings)
        )
        while not sweep.done():
            began = time.perf_counter()
            await api(client, read)
            latencies.append((time.perf_counter() - began) * 1000)
        recorded = await sweep
        took = time.perf_counter() - started
    finally:
        await engine.dispose()
    return {
        "forgotten": forgotten,
        "recorded": recorded,
        "seconds": round(took, 1),
        "transactions": len(transactions),
        "longest_transaction_ms": round(max(transactions, default=0.0), 1),
        "read": read.name,
        "requests": len(latencies),
        "latency_ms": summary(latencies) if latencies else None,
    }
