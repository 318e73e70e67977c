"""The reads benchmark's data set (bench/reads.py): a million reports, loaded in SQL.

It is built on top of the demo organisation (``python -m app seed-demo``):
- 200 communities: the demo's 14 and 186 more under the demo's three townships, each a small
  square with its boundary; one community (the demo's 东街社区, staff1's) holds 30 % of the
  reports, the rest follow a Zipf law (the demo's 新民村, staff9's, is 30th: ~0.5 %);
- 2,000 more couriers (and one staff account per added community); the demo's courier1 files
  one report in 500, the others a Zipf share each;
- N reports over the last two years (or the span given), in order of time, each with the id
  a case filed then gets (a UUIDv7 of its created_at), so that it and its rows go to their
  month's partitions, made first where missing (app/core/partitions.py); the leaf categories
  in Zipf shares;
  5 % open (most of them from the last three weeks, the rest a stale backlog), the others
  closed, rejected or duplicates, with each status's timestamp and the accept/resolve
  deadlines set;
- one photo per report; three timeline rows per report (filed, the next step, and the last
  step or a comment); ~40 % of the closed cases whistled to units, one in ten to two units:
  ~350,000 jobs at 1M reports, the city-management unit (unit6) holding 45 %. A job is open
  (pending or accepted) only while its case is: the lead's completion resolves the case, an
  assisting unit may still be at work then (three in ten), and closing the case cancels it;
- an overdue mark (and a red card) for every running clock more than a day past its deadline
  (a job's clocks stop while its case is on hold), with the deadline noted on the clock as
  recorded, and as swept where the case is at the red card, as a sweep running all along would
  have left them; the last day's are left for a catch-up.

Each chunk of reports is one statement: the reports, their photos, timeline rows and jobs
inserted together (data-modifying WITH), with foreign-key triggers off for the loading session
(``session_replication_role = replica``: the rows are consistent by construction) and without
waiting for the WAL flush (``synchronous_commit = off``). Nothing is dropped: every index is
kept up to date as the rows go in, as it would be in production.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from common import log
from reads_data_sql import CHUNK_SQL, MARKS_SQL, chain_rows, timers_sql
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.core import partitions

EXTRA_COMMUNITIES = 186
EXTRA_COURIERS = 2_000
CHUNK = 25_000
BIG_COMMUNITY_STAFF, SMALL_COMMUNITY_STAFF = "staff1", "staff9"
BIG_SHARE, SMALL_RANK = 0.30, 30
BIG_UNIT_STAFF, BIG_UNIT_SHARE = "unit6", 0.45
COURIER1_EVERY = 500  # courier1 files one report in 500
SPAN_DAYS = 730


def zipf_bounds(count: int, exponent: float = 1.0, first: float | None = None) -> list[float]:
    """Lower bounds of ``count`` buckets in [0, 1) for ``width_bucket``: Zipf shares, or the
    first bucket fixed at ``first`` and the rest Zipf shares of what is left."""
    weights = [1.0 / (k**exponent) for k in range(1, count + 1)]
    if first is not None:
        rest = sum(weights[1:])
        weights = [first] + [(1.0 - first) * w / rest for w in weights[1:]]
    else:
        total = sum(weights)
        weights = [w / total for w in weights]
    bounds, acc = [], 0.0
    for weight in weights:
        bounds.append(acc)
        acc += weight
    return bounds


# --- the organisation around the reports ----------------------------------------------------


async def _add_communities(conn: Any, now: datetime) -> None:
    """186 more communities (squares of ~800 m) south of the demo's townships, with a staff
    account each."""
    townships = await conn.fetch(
        "SELECT r.id, min(c.center_lat) AS lat, min(c.center_lng) AS lng FROM regions r "
        "JOIN communities c ON c.region_id = r.id WHERE r.level = 'township' "
        "GROUP BY r.id ORDER BY r.code"
    )
    password = await conn.fetchval("SELECT password_hash FROM users WHERE username = 'admin'")
    rows, staff = [], []
    for k in range(EXTRA_COMMUNITIES):
        township = townships[k % len(townships)]
        col, row = (k // len(townships)) % 8, (k // len(townships)) // 8
        lng, lat = township["lng"] + 0.012 * col, township["lat"] - 0.03 - 0.012 * row
        h = 0.0045
        ring = [[lng - h, lat - h], [lng + h, lat - h], [lng + h, lat + h], [lng - h, lat + h]]
        boundary = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
        rows.append((f"压测社区{k + 1:03d}", township["id"], json.dumps(boundary), lat, lng))
        staff.append((f"bench_staff{k + 1:03d}", f"压测社区工作人员{k + 1:03d}"))
    await conn.executemany(
        "INSERT INTO communities (id, name, kind, region_id, boundary, center_lat, center_lng, "
        "created_at, updated_at) VALUES (gen_random_uuid(), $1, 'community', $2, $3::json, $4, "
        "$5, $6, $6)",
        [(*row, now) for row in rows],
    )
    await conn.executemany(
        "WITH u AS (INSERT INTO users (id, username, display_name, password_hash, is_active, "
        "created_at, updated_at) VALUES (gen_random_uuid(), $1, $2, $3, true, $5, $5) "
        "RETURNING id) INSERT INTO role_assignments (id, user_id, role, community_id, created_at) "
        "SELECT gen_random_uuid(), u.id, 'community_staff', "
        "(SELECT id FROM communities WHERE name = $4), $5 FROM u",
        [
            (name, display, password, row[0], now)
            for (name, display), row in zip(staff, rows, strict=True)
        ],
    )


async def _add_couriers(conn: Any, now: datetime) -> None:
    await conn.execute(
        """
        WITH b AS (SELECT array_agg(id ORDER BY name) AS ids FROM courier_branches),
        u AS (
            INSERT INTO users (id, username, display_name, phone, password_hash, is_active,
                               created_at, updated_at)
            SELECT gen_random_uuid(), 'bench_courier' || lpad(i::text, 4, '0'),
                   '压测快递员' || i, '139' || lpad((i * 7919 % 100000000)::text, 8, '0'),
                   (SELECT password_hash FROM users WHERE username = 'admin'), true, $2, $2
            FROM generate_series(1, $1::int) AS i
            RETURNING id, username
        )
        INSERT INTO role_assignments (id, user_id, role, branch_id, created_at)
        SELECT gen_random_uuid(), u.id, 'courier',
               b.ids[1 + abs(hashtext(u.username)) % array_length(b.ids, 1)], $2
        FROM u, b
        """,
        EXTRA_COURIERS,
        now,
    )


async def _lookup_tables(conn: Any) -> None:
    """The session's lookup tables: each community's staff, the timeline rows per status."""
    await conn.execute(
        "CREATE TEMP TABLE bench_params (comm_id uuid[], comm_region uuid[], comm_lat float8[], "
        "comm_lng float8[], comm_bounds float8[], cat_code text[], cat_bounds float8[], "
        "courier_id uuid[], courier_branch uuid[], courier_bounds float8[], unit_id uuid[], "
        "unit_bounds float8[]);"
        "CREATE TEMP TABLE bench_staff (community_id uuid PRIMARY KEY, staff_id uuid);"
        "CREATE TEMP TABLE bench_chain (status text, whistled bool, seq int, type text, "
        "from_status text, to_status text, at_kind text, actor_kind text, is_internal bool)"
    )
    await conn.execute(
        "INSERT INTO bench_staff SELECT DISTINCT ON (community_id) community_id, user_id "
        "FROM role_assignments WHERE role = 'community_staff' ORDER BY community_id, created_at"
    )
    await conn.executemany(
        "INSERT INTO bench_chain VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)", chain_rows()
    )


async def _parameters(conn: Any) -> None:
    """The session's lookup tables: who and where, with their shares."""
    await _lookup_tables(conn)
    staff = {
        r["username"]: r["community_id"]
        for r in await conn.fetch(
            "SELECT u.username, ra.community_id FROM users u JOIN role_assignments ra "
            "ON ra.user_id = u.id WHERE ra.role = 'community_staff'"
        )
    }
    big, small = staff[BIG_COMMUNITY_STAFF], staff[SMALL_COMMUNITY_STAFF]
    others = [
        r["id"]
        for r in await conn.fetch("SELECT id FROM communities ORDER BY md5(name)")
        if r["id"] not in (big, small)
    ]
    ranked = [big, *others[: SMALL_RANK - 2], small, *others[SMALL_RANK - 2 :]]
    places = {
        r["id"]: r
        for r in await conn.fetch("SELECT id, region_id, center_lat, center_lng FROM communities")
    }
    cats = [
        r["code"]
        for r in await conn.fetch("SELECT code FROM categories WHERE is_leaf ORDER BY md5(code)")
    ]
    couriers = await conn.fetch(
        "SELECT u.id, ra.branch_id FROM users u JOIN role_assignments ra ON ra.user_id = u.id "
        "WHERE ra.role = 'courier' ORDER BY u.username = 'courier1' DESC, md5(u.username)"
    )
    units = await conn.fetch(
        "SELECT un.id FROM units un LEFT JOIN role_assignments ra ON ra.unit_id = un.id "
        "LEFT JOIN users u ON u.id = ra.user_id ORDER BY u.username = $1 DESC, md5(un.name)",
        BIG_UNIT_STAFF,
    )
    await conn.execute(
        "INSERT INTO bench_params VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        ranked,
        [places[c]["region_id"] for c in ranked],
        [places[c]["center_lat"] for c in ranked],
        [places[c]["center_lng"] for c in ranked],
        zipf_bounds(len(ranked), first=BIG_SHARE),
        cats,
        zipf_bounds(len(cats)),
        [c["id"] for c in couriers],
        [c["branch_id"] for c in couriers],
        # courier1 (the first) is given every COURIER1_EVERY-th report, not drawn.
        zipf_bounds(len(couriers) - 1, exponent=0.8),
        [u["id"] for u in units],
        zipf_bounds(len(units), first=BIG_UNIT_SHARE),
    )


async def make_months(dsn: str, first: datetime, last: datetime) -> list[str]:
    """The case tables' partitions of every month from ``first``'s to ``last``'s (China time),
    where missing, as the worker makes them (names made): the rows go to their month, not to
    the default partitions."""
    engine = create_async_engine(make_url(dsn).set(drivername="postgresql+asyncpg"))
    try:
        async with AsyncSession(engine) as session, session.begin():
            return await partitions.make_months(session, first, last)
    finally:
        await engine.dispose()


def progress(done: int, total: int, started: float) -> None:
    width = 40
    filled = round(width * done / total)
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed else 0.0
    log(
        f"\r  [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} reports "
        f"{elapsed:6.1f} s ({rate:,.0f}/s)",
        end="",
    )


@dataclass
class LoadTimes:
    partitions_s: float
    organisation_s: float
    reports_s: float
    marks_s: float
    vacuum_analyze_s: float

    @property
    def total_s(self) -> float:
        return (
            self.partitions_s
            + self.organisation_s
            + self.reports_s
            + self.marks_s
            + self.vacuum_analyze_s
        )


async def load(dsn: str, reports: int, now: datetime, span_days: float = SPAN_DAYS) -> LoadTimes:
    """The data set above, filed over the ``span_days`` before ``now``, into the migrated and
    seeded database at ``dsn``."""
    started = time.perf_counter()
    made = await make_months(dsn, now - timedelta(days=span_days), now)
    partitions_s = time.perf_counter() - started
    log(f"  partitions: {len(made)} made in {partitions_s:.1f} s")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "SET synchronous_commit = off; SET session_replication_role = replica; "
            "SET work_mem = '64MB'; SET maintenance_work_mem = '256MB'"
        )
        started = time.perf_counter()
        async with conn.transaction():
            await _add_communities(conn, now)
            await _add_couriers(conn, now)
        await _parameters(conn)
        organisation_s = time.perf_counter() - started
        log(f"  organisation: {organisation_s:.1f} s; loading {reports:,} reports")
        started = time.perf_counter()
        for low in range(1, reports + 1, CHUNK):
            high = min(low + CHUNK - 1, reports)
            await conn.execute(CHUNK_SQL, low, high, reports, now, span_days, COURIER1_EVERY)
            progress(high, reports, started)
        log("")
        reports_s = time.perf_counter() - started
        started = time.perf_counter()
        async with conn.transaction():
            for statement in MARKS_SQL:
                await conn.execute(statement, *([now] if "$1" in statement else []))
            await conn.execute(timers_sql())
        marks_s = time.perf_counter() - started
        started = time.perf_counter()
        log("  VACUUM ANALYZE")
        await conn.execute("VACUUM ANALYZE")
        return LoadTimes(
            partitions_s, organisation_s, reports_s, marks_s, time.perf_counter() - started
        )
    finally:
        await conn.close()
