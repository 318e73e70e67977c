"""A list's plan at 24 monthly partitions: what the cursor's bound on the partition key saves,
and what the partitions cost against one plain table, on PostgreSQL.

The case tables are kept in monthly partitions (app/models/partitioning.py). A list newest first
pages back with ``(created_at, id) < (:at, :id)``, which the planner cannot prune on; a case's id
is the moment it was filed, so a cursor (and a period) also bounds the id, and the months after
the cursor are left out (app/core/pruning.py).

What it does:
1. drops and recreates a PostgreSQL database (``ssp_bench_partitions`` unless --database-url
   says otherwise; only that one), migrates it and seeds the demo (SSP_ENV=demo), then loads N
   reports filed evenly over the 24 months ending this month (China time), with their photos,
   timelines and jobs, into those months' partitions, made first (bench/reads_data.py: 30 % of
   the cases in staff1's community, the rest in Zipf shares over 200); VACUUM ANALYZE; with
   --keep, a database holding N reports is reused;
2. copies the reports into a plain table, ``reports_flat``: the same columns and the same
   indexes (made first, the rows then inserted in the order they were filed), analysed;
3. takes the statement of each list's page keys from the app itself: the app runs in this
   process and answers GET /api/v1/reports while a SQLAlchemy ``before_cursor_execute``
   listener keeps the statement and its parameters:
   (a) staff1's first page (limit 20),
   (b) the same list's page whose cursor sits 12 months back,
   (c) an admin's first page, and (c′) the admin's page 12 months back,
   (d) staff1's list of one category over the month 6 months back (its first page);
   and again with the partition-key bounds left out, as the app built them before (the
   cursor's row comparison and the period on created_at alone);
4. runs each statement as the app does, prepared (planned for its values where the app asks
   for that: a filtered list), under EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) 5 times after 6
   warm-up runs: the partitions it read (``reports_p…``/``reports_default`` scanned at least
   once), the shared buffers hit and read, the execution and planning times (median of 5);
   the statement without the bounds the same way, and that one on ``reports_flat`` (by name),
   the best a plain table does; checks that all three return the same rows;
5. times (a) and (b) through HTTP: ``python -m app serve`` (one process, the embedded worker
   off), R requests one at a time after 20 warm-up ones (p50/p95); and where their time goes:
   each statement of the request as the app in this process waited for it (median of 20);
6. prints the table and writes ``bench/results/scale_partitions.json`` (or --output); drops
   the database unless --keep.

Run: .venv/bin/python bench/scale_partitions.py [--reports N] [--keep] [--requests R]
     [--database-url URL] [--output PATH]
240,000 reports (the default) take about 3 minutes in all on 2 cores (170–210 s measured, the
load ~105–150 s of it); bench/scale.py runs it as its part ``partitions``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import re
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import asyncpg_dsn, log, machine, server_log, start_server
from reads import bench_database
from reads_plan import PASSWORD
from reads_timing import SEQUENTIAL_WARMUP, summary, timed

import app.core.pagination as pagination
import app.core.union_pages as union_pages
import app.reports.queries as queries
from app.core.config import Settings
from app.core.pagination import CursorShape, PageParams, SortKey, cursor_signing_key, encode_cursor
from app.core.partitions import Month
from app.main import create_app
from app.models import Report

RESULTS = Path(__file__).resolve().parent / "results" / "scale_partitions.json"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ssp_bench_partitions"
MONTHS = 24
LIMIT = 20
RUNS, WARMUP = 5, 6
LIST_PATH = "/api/v1/reports"
FLAT = "reports_flat"
PARTITION = re.compile(r"^reports_(p\d{6}|default)$")
# A page's keys, as paginate_union selects them (app/core/union_pages.py).
PAGE_KEYS = re.compile(r"^SELECT (\w+)\.created_at, \1\.id\s+FROM", re.S)
INDEX_ON_REPORTS = re.compile(r"^CREATE (UNIQUE )?INDEX (\w+) ON (?:ONLY )?(?:\w+\.)?reports USING")
# The lists timed through HTTP, and how many requests time their statements in this process.
HTTP_READS = ("a_staff_first", "b_staff_12_months_back")
BREAKDOWN_REQUESTS = 20
VARIANTS = {
    "bounded": "bounded (today)",
    "unbounded": "no bound (before)",
    "flat": "plain table",
}


# --- the lists ------------------------------------------------------------------------------


@dataclass
class ListRead:
    name: str
    label: str
    user: str
    query: dict[str, str]
    # The last row of the page before: (created_at, id); None for a first page.
    after: tuple[dt.datetime, uuid.UUID] | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    def path(self, secret_key: str) -> str:
        query = {"limit": str(LIMIT), **self.query}
        if self.after is not None:
            query["cursor"] = signed_cursor(self.query, self.after, secret_key)
        return f"{LIST_PATH}?{httpx.QueryParams(query)}"


def signed_cursor(query: dict[str, str], after: tuple[Any, ...], secret_key: str) -> str:
    """The cursor the list would have handed out with the page ending at ``after``: signed
    over the list's identity (app/core/pagination.py: method, path and filters) and its sort."""
    identity = json.dumps(
        ["GET", LIST_PATH, sorted(query.items())], ensure_ascii=False, separators=(",", ":")
    )
    params = PageParams(LIMIT, None, identity, cursor_signing_key(secret_key))
    keys = [SortKey(Report.created_at, descending=True), SortKey(Report.id, descending=True)]
    return encode_cursor(params, CursorShape.of(keys), after)


def data_span(now: dt.datetime) -> tuple[Month, float]:
    """The first of the 24 months ending this month, and the days from its start to now (a
    second short, so that no case is filed before it)."""
    first = Month.of(now).plus(-(MONTHS - 1))
    return first, ((now - first.start()).total_seconds() - 1) / 86_400


async def list_reads(dsn: str, now: dt.datetime) -> list[ListRead]:
    """The lists above, with the rows their cursors sit at and the category of (d)."""
    conn = await asyncpg.connect(dsn)
    try:
        staff = await conn.fetchrow(
            "SELECT u.id, ra.community_id FROM users u JOIN role_assignments ra "
            "ON ra.user_id = u.id WHERE u.username = 'staff1' AND ra.role = 'community_staff'"
        )
        back = now - dt.timedelta(days=365)
        staff_after = await conn.fetchrow(
            "SELECT created_at, id FROM reports WHERE (community_id = $1 OR reporter_id = $2) "
            "AND created_at < $3 ORDER BY created_at DESC, id DESC LIMIT 1",
            staff["community_id"],
            staff["id"],
            back,
        )
        admin_after = await conn.fetchrow(
            "SELECT created_at, id FROM reports WHERE created_at < $1 "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            back,
        )
        month = Month.of(now).plus(-6)
        start, end = month.start(), month.plus(1).start()
        category: str = await conn.fetchval(
            "SELECT category_code FROM reports WHERE community_id = $1 AND created_at >= $2 "
            "AND created_at < $3 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
            staff["community_id"],
            start,
            end,
        )
    finally:
        await conn.close()
    period = {
        "category": category,
        "created_from": start.isoformat(),
        "created_to": end.isoformat(),
    }
    return [
        ListRead("a_staff_first", "(a) staff1, first page", "staff1", {}),
        ListRead(
            "b_staff_12_months_back",
            "(b) staff1, page 12 months back",
            "staff1",
            {},
            (staff_after["created_at"], staff_after["id"]),
        ),
        ListRead("c_admin_first", "(c) admin, first page", "admin", {}),
        ListRead(
            "c_admin_12_months_back",
            "(c′) admin, page 12 months back",
            "admin",
            {},
            (admin_after["created_at"], admin_after["id"]),
        ),
        ListRead(
            "d_category_month_6_back",
            f"(d) staff1, {category} in {month}",
            "staff1",
            period,
        ),
    ]


# --- the statements, as the app sends them --------------------------------------------------


@dataclass
class Statement:
    sql: str
    parameters: tuple[Any, ...]
    planned_for_values: bool  # the app asked for a plan made for the values (custom plans)
    ids: list[str]  # the page the API answered


@contextlib.contextmanager
def bounds_left_out() -> Iterator[None]:
    """The app as it was before lists bounded the partition key: no bound from a cursor, none
    from a period, no window of newest months (the statements are otherwise the same)."""

    def never(_: Any) -> bool:
        return False

    with (
        mock.patch.object(pagination, "prunes", never),
        mock.patch.object(queries, "prunes", never),
        mock.patch.object(union_pages, "prunes", never),
    ):
        yield


async def sign_in(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    if response.status_code != 200:
        raise RuntimeError(f"login {username}: {response.status_code} {response.text}")
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _label(statement: str) -> str:
    return " ".join(statement.split())[:56] + " …"


async def statement_times(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], took: list[tuple[str, float]]
) -> dict[str, Any]:
    """Where a request's time goes: each statement's time as the app waited for it (sent,
    answered and read by the driver), median of BREAKDOWN_REQUESTS requests, in their order."""
    requests: list[float] = []
    per_statement: dict[str, list[float]] = {}
    for _ in range(BREAKDOWN_REQUESTS):
        took.clear()
        started = time.perf_counter()
        response = await client.get(path, headers=headers)
        requests.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
        this: dict[str, float] = {}
        for statement, ms in took:
            this[_label(statement)] = this.get(_label(statement), 0.0) + ms
        for label, ms in this.items():
            per_statement.setdefault(label, []).append(ms)
    return {
        "request_ms": round(statistics.median(requests), 2),
        "statements_ms": {
            label: round(statistics.median(times), 2)
            for label, times in per_statement.items()
            if label in this
        },
    }


async def captured_statements(settings: Settings, reads: list[ListRead]) -> None:
    """Each list's page-keys statement and parameters, with the bounds and without, from the
    app answering the request in this process (``read.figures["statements"]``); for the lists
    also timed through HTTP, the time of each statement of their request."""
    app = create_app(settings)
    sent: list[tuple[str, Any]] = []
    started: dict[int, float] = {}
    took: list[tuple[str, float]] = []

    def keep(
        _conn: Any, cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        sent.append((statement, parameters))
        started[id(cursor)] = time.perf_counter()

    def answered(
        _conn: Any, cursor: Any, statement: str, _parameters: Any, _context: Any, _many: bool
    ) -> None:
        took.append((statement, (time.perf_counter() - started.pop(id(cursor))) * 1000))

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", keep)
    event.listen(app.state.engine.sync_engine, "after_cursor_execute", answered)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        headers = {user: await sign_in(client, user) for user in {r.user for r in reads}}
        for read in reads:
            found: dict[str, Statement] = {}
            for variant in ("bounded", "unbounded"):
                with bounds_left_out() if variant == "unbounded" else contextlib.nullcontext():
                    sent.clear()
                    response = await client.get(
                        read.path(settings.secret_key), headers=headers[read.user]
                    )
                if response.status_code != 200:
                    raise RuntimeError(f"{read.name}: {response.status_code} {response.text}")
                keys = [(sql, p) for sql, p in sent if PAGE_KEYS.match(sql)]
                if len(keys) != 1:
                    raise RuntimeError(f"{read.name}: {len(keys)} page-keys statements")
                found[variant] = Statement(
                    keys[0][0],
                    tuple(keys[0][1]),
                    any("force_custom_plan" in sql for sql, _ in sent),
                    [item["id"] for item in response.json()["items"]],
                )
            if found["bounded"].ids != found["unbounded"].ids:
                raise RuntimeError(f"{read.name}: the pages with and without bounds differ")
            read.figures["statements"] = found
            if read.name in HTTP_READS:
                read.figures["in_process"] = await statement_times(
                    client, read.path(settings.secret_key), headers[read.user], took
                )


# --- the plain table ------------------------------------------------------------------------


async def make_flat(dsn: str) -> dict[str, Any]:
    """``reports_flat``: the reports in one plain table with the partitioned table's columns
    and indexes (made first, so that they grow as the partitions' did), the rows inserted in
    the order they were filed."""
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await conn.execute(f"DROP TABLE IF EXISTS {FLAT}")
        await conn.execute(f"CREATE TABLE {FLAT} (LIKE reports INCLUDING DEFAULTS)")
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = 'reports' ORDER BY indexname"
        )
        for index in indexes:
            statement, made = INDEX_ON_REPORTS.subn(
                rf"CREATE \1INDEX \2_flat ON {FLAT} USING", index["indexdef"]
            )
            if not made:
                raise RuntimeError(f"unexpected index: {index['indexdef']}")
            await conn.execute(statement)
        await conn.execute(f"INSERT INTO {FLAT} SELECT * FROM reports ORDER BY created_at, id")
        await conn.execute(f"VACUUM ANALYZE {FLAT}")
        return {
            "indexes": [index["indexname"] for index in indexes],
            "rows": await conn.fetchval(f"SELECT count(*) FROM {FLAT}"),
            "seconds": round(time.perf_counter() - started, 1),
        }
    finally:
        await conn.close()


def on_flat(sql: str) -> str:
    flat, found = re.subn(r"\bFROM reports\b", f"FROM {FLAT} AS reports", sql)
    if not found:
        raise RuntimeError("no reports table in the statement")
    return flat


async def partitions(dsn: str) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT c.relname, (SELECT count(*) FROM reports r WHERE r.tableoid = c.oid) AS n "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'reports'::regclass ORDER BY c.relname"
        )
    finally:
        await conn.close()
    attached = {row["relname"]: row["n"] for row in rows}
    if attached.get("reports_default"):
        raise RuntimeError(f"{attached['reports_default']} reports in the default partition")
    return {"attached": len(attached), "reports_per_partition": attached}


# --- the plans ------------------------------------------------------------------------------


def literal(value: Any) -> str:
    """A parameter written into EXECUTE: a number as it is, anything else quoted (its type is
    the prepared statement's)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


def plan_figures(explained: dict[str, Any]) -> dict[str, Any]:
    """The relations a plan scanned, its buffers and its times."""
    in_plan: set[str] = set()
    read: set[str] = set()
    removed = 0

    def walk(node: dict[str, Any]) -> None:
        nonlocal removed
        name = node.get("Relation Name")
        if name is not None and (PARTITION.match(name) or name == FLAT):
            in_plan.add(name)
            if node.get("Actual Loops", 0) > 0:
                read.add(name)
        removed += node.get("Subplans Removed", 0)
        for child in node.get("Plans", []):
            walk(child)

    plan = explained["Plan"]
    walk(plan)
    planning = explained.get("Planning", {})
    return {
        "relations_read": sorted(read),
        "partitions_read": len(read - {FLAT}),
        "partitions_in_plan": len(in_plan - {FLAT}),
        "subplans_removed": removed,
        "shared_hit": plan["Shared Hit Blocks"],
        "shared_read": plan["Shared Read Blocks"],
        "buffers": plan["Shared Hit Blocks"] + plan["Shared Read Blocks"],
        "planning_buffers": planning.get("Shared Hit Blocks", 0)
        + planning.get("Shared Read Blocks", 0),
        "execution_ms": explained["Execution Time"],
        "planning_ms": explained["Planning Time"],
    }


async def explain(conn: Any, name: str, sql: str, statement: Statement) -> dict[str, Any]:
    """The statement prepared as the app's driver prepares it, run 1 + WARMUP times (by then
    PostgreSQL has chosen between a generic plan and custom ones, as it has for the app), then
    RUNS times under EXPLAIN ANALYZE."""
    mode = "force_custom_plan" if statement.planned_for_values else "auto"
    await conn.execute(f"SET plan_cache_mode = {mode}")
    await conn.execute(f"PREPARE {name} AS {sql}")
    try:
        execute = f"EXECUTE {name}({', '.join(literal(p) for p in statement.parameters)})"
        rows = await conn.fetch(execute)
        for _ in range(WARMUP):
            await conn.fetch(execute)
        runs = []
        for _ in range(RUNS):
            raw = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {execute}")
            runs.append(plan_figures(json.loads(raw)[0]))
        cached = await conn.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1",
            name,
        )
    finally:
        await conn.execute(f"DEALLOCATE {name}")
        await conn.execute("RESET plan_cache_mode")
    median = runs[RUNS // 2]
    return {
        **{k: v for k, v in median.items() if not k.endswith("_ms")},
        "buffers": round(statistics.median(r["buffers"] for r in runs)),
        "execution_ms": round(statistics.median(r["execution_ms"] for r in runs), 3),
        "planning_ms": round(statistics.median(r["planning_ms"] for r in runs), 3),
        "execution_ms_runs": [round(r["execution_ms"], 3) for r in runs],
        "plan_cache_mode": mode,
        "generic_plans": cached["generic_plans"],
        "custom_plans": cached["custom_plans"],
        "ids": [str(row["id"]) for row in rows][:LIMIT],
    }


async def explain_all(dsn: str, reads: list[ListRead]) -> None:
    conn = await asyncpg.connect(dsn, server_settings={"jit": "off"})  # as the app connects
    try:
        for read in reads:
            found: dict[str, Statement] = read.figures["statements"]
            plans = {}
            for variant in VARIANTS:
                statement = found["unbounded" if variant == "flat" else variant]
                sql = on_flat(statement.sql) if variant == "flat" else statement.sql
                log(f"  {read.label}: {VARIANTS[variant]}")
                plans[variant] = await explain(conn, f"bench_{variant}", sql, statement)
            pages = {variant: plan["ids"] for variant, plan in plans.items()}
            read.figures["same_rows"] = all(ids == found["bounded"].ids for ids in pages.values())
            if not read.figures["same_rows"]:
                raise RuntimeError(f"{read.name}: the statements answer different rows")
            read.figures["plans"] = plans
    finally:
        await conn.close()


# --- through HTTP ---------------------------------------------------------------------------


async def http_timings(
    base_url: str, reads: list[ListRead], secret_key: str, requests: int
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        for read in reads:
            if read.name not in HTTP_READS:
                continue
            headers = await sign_in(client, read.user)
            path = read.path(secret_key)

            async def get(path: str = path, headers: dict[str, str] = headers) -> list[str]:
                response = await client.get(path, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
                return [item["id"] for item in response.json()["items"]]

            log(f"  {read.label}: {requests} requests + {SEQUENTIAL_WARMUP} warm-up")
            same = await get() == read.figures["statements"]["bounded"].ids
            read.figures["http_ms"] = {
                **summary(await timed(get, requests, SEQUENTIAL_WARMUP)),
                "same_page": same,
            }


# --- the run --------------------------------------------------------------------------------


def print_table(reads: list[ListRead], reports: int, attached: int) -> None:
    print(
        f"\nA list's page keys at {reports:,} reports in {MONTHS} monthly partitions "
        f"({attached} attached to reports; median of {RUNS} runs)"
    )
    rows = [("list", "statement", "partitions read", "buffers (hit+read)", "exec ms", "plan ms")]
    for read in reads:
        for k, (variant, label) in enumerate(VARIANTS.items()):
            plan = read.figures["plans"][variant]
            scanned = "1 table" if variant == "flat" else str(plan["partitions_read"])
            buffers = f"{plan['buffers']} ({plan['shared_hit']}+{plan['shared_read']})"
            rows.append(
                (
                    read.label if k == 0 else "",
                    label,
                    scanned,
                    buffers,
                    f"{plan['execution_ms']:.3f}",
                    f"{plan['planning_ms']:.3f}",
                )
            )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for read in reads:
        if http := read.figures.get("http_ms"):
            print(
                f"  HTTP {read.label}: p50 {http['p50']} ms, p95 {http['p95']} ms "
                f"({http['n']} requests, one at a time)"
            )
            inside = read.figures["in_process"]
            print(f"    in this process {inside['request_ms']} ms, of which (median):")
            for label, ms in inside["statements_ms"].items():
                print(f"    {ms:8.2f} ms  {label}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=240_000, help="reports to load (240,000)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database; reuse one holding N reports"
    )
    parser.add_argument(
        "--requests", type=int, default=200, help="timed HTTP requests per list (200)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.reports < 10_000 or args.requests < 1:
        parser.error("--reports must be at least 10,000 (pages a year back), --requests ≥ 1")
    url = make_url(args.database_url)
    if url.get_backend_name() != "postgresql" or not url.database:
        parser.error("--database-url must name a PostgreSQL database")
    # The app needs the async driver.
    args.database_url = url.set(drivername="postgresql+asyncpg").render_as_string(
        hide_password=False
    )
    return args


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    first, span_days = data_span(now)
    url = make_url(args.database_url)
    dsn = asyncpg_dsn(url, url.database or "")
    with bench_database(args, span_days) as (env, loaded):
        months = asyncio.run(partitions(dsn))
        log(f"{months['attached']} partitions of reports; a plain copy: {FLAT}")
        flat = asyncio.run(make_flat(dsn))
        reads = asyncio.run(list_reads(dsn, now))
        settings = Settings(
            env="demo",
            database_url=args.database_url,
            embedded_worker=False,
            photo_dir=Path(env["SSP_PHOTO_DIR"]),
            log_level="WARNING",
        )
        log("the lists' statements, from the app in this process")
        asyncio.run(captured_statements(settings, reads))
        log("EXPLAIN (ANALYZE, BUFFERS)")
        asyncio.run(explain_all(dsn, reads))
        log("starting the server (1 process)")
        server = start_server(env, 1, Path(env["BENCH_WORKDIR"]))
        try:
            asyncio.run(http_timings(server.base_url, reads, settings.secret_key, args.requests))
        except BaseException:
            log(server_log(server))
            raise
        finally:
            server.stop()
    figures = {
        "date": now.isoformat(timespec="seconds"),
        "reports": args.reports,
        "months": {"first": str(first), "last": str(Month.of(now)), "count": MONTHS},
        "limit": LIMIT,
        "runs": RUNS,
        "partitions": months,
        "data_set": loaded,
        "flat_table": flat,
        "lists": {
            read.name: {
                "label": read.label,
                "user": read.user,
                "query": read.query,
                "cursor_at": read.after[0].isoformat() if read.after else None,
                "same_rows": read.figures["same_rows"],
                "statements": {
                    variant: {
                        "sql": statement.sql,
                        "parameters": [str(p) for p in statement.parameters],
                        "planned_for_values": statement.planned_for_values,
                    }
                    for variant, statement in read.figures["statements"].items()
                },
                "plans": {
                    variant: {k: v for k, v in plan.items() if k != "ids"}
                    for variant, plan in read.figures["plans"].items()
                },
                **{k: read.figures[k] for k in ("http_ms", "in_process") if k in read.figures},
            }
            for read in reads
        },
        "parameters": {
            "requests": args.requests,
            "warmup": SEQUENTIAL_WARMUP,
            "database_url": url.render_as_string(hide_password=True),
            "api_processes": 1,
            "embedded_worker": False,
        },
        "run_s": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }
    print_table(reads, args.reports, months["attached"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"run in {figures['run_s']:.0f} s; written {args.output}")


if __name__ == "__main__":
    main()
