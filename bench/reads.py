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
   otherwise), migrates it and seeds the demo (SSP_ENV=demo), then loads N reports in SQL (see
   bench/common.py for the data set) and states how long that took; with --keep, a database
   that already holds N reports is reused: only migrated (new indexes) and analysed;
2. starts ``python -m app serve`` (one process, the embedded worker off so that no sweep runs
   inside it) on a free port and waits for /readyz; signs in once per demo account;
3. for each read, after a warm-up, times R requests one at a time through a kept-alive httpx
   client, and R times the hand SQL through one asyncpg connection of this process (the auth
   lookup a bearer token costs, then one statement building the JSON answer, each branch of
   the caller's scope reading its own index); checks that both answer with the same rows;
4. throughput of the list and the detail with 8 concurrent clients, against the hand SQL on 8
   connections;
5. the overdue sweep in this process: one catch-up pass after the load (its time and what it
   recorded), then 20 idle passes (wall time and time spent in statements);
6. samples the API process's resident memory throughout (peak: VmHWM);
7. prints the table and writes ``bench/results/reads.json``; drops the database unless --keep.

Run: .venv/bin/python bench/reads.py [--reports N] [--keep] [--only NAME] [--requests R]
     [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import functools
import json
import math
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from intake import (
    RssSampler,
    _asyncpg_dsn,
    _status_kb,
    drop_database,
    percentile,
    recreate_database,
    run_cli,
    server_log,
    start_server,
)

RESULTS = Path(__file__).resolve().parent / "results" / "reads.json"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ssp_bench_reads"
PASSWORD = "suishoupai-demo"
USERS = ("staff1", "staff9", "supervisor", "supervisor2", "unit6", "courier1")
SEQUENTIAL_WARMUP = 20
RSS_BUDGET_MB = 300.0
IDLE_SWEEP_PASSES = 20
IDLE_SWEEP_BUDGET_MS = 10.0
FIRST_PAGE = (dt.datetime.max.replace(tzinfo=dt.UTC), "ffffffff-ffff-ffff-ffff-ffffffffffff")


# --- hand-written SQL -----------------------------------------------------------------------


def numbered(sql: str) -> tuple[str, list[str]]:
    """``:name`` placeholders → ``$n`` (asyncpg), and the names in the order of their numbers."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", number, sql), names


# What authenticating a bearer token reads (app/auth/service.py, _TOKEN_HOLDER).
AUTH_SQL = """
SELECT u.username, u.is_active, s.revoked_at, ra.id, ra.user_id, ra.role, ra.region_id,
       ra.community_id, ra.unit_id, ra.branch_id, g.name AS region_name, g.path AS region_path,
       c.name AS community_name, un.name AS unit_name, b.name AS branch_name
FROM users u JOIN auth_sessions s ON s.user_id = u.id
LEFT JOIN role_assignments ra ON ra.user_id = u.id
LEFT JOIN regions g ON g.id = ra.region_id LEFT JOIN communities c ON c.id = ra.community_id
LEFT JOIN units un ON un.id = ra.unit_id LEFT JOIN courier_branches b ON b.id = ra.branch_id
WHERE u.id = $1 AND s.id = $2 ORDER BY ra.created_at, ra.id
"""


def _light(start: str, due: str, met: str, running: str) -> str:
    """The traffic light in calendar hours (the API counts working hours where the category
    says so: the same work, a little more arithmetic)."""
    return (
        f"CASE WHEN {met} IS NOT NULL OR NOT ({running}) THEN NULL WHEN :now >= {due} THEN 'red' "
        f"WHEN :now >= {start} + ({due} - {start}) * 0.8 THEN 'yellow' ELSE 'green' END"
    )


def _non_null_array(*items: str) -> str:
    values = ", ".join(f"({n}, {item})" for n, item in enumerate(items))
    return (
        f"(SELECT coalesce(json_agg(d ORDER BY n), '[]') FROM (VALUES {values}) AS dl(n, d) "
        "WHERE d IS NOT NULL)"
    )


PHOTO_JSON = """json_build_object('id', ph.id, 'kind', ph.kind, 'url', '/api/v1/photos/' || ph.id,
    'thumbnail_url', '/api/v1/photos/' || ph.id || '?size=thumbnail', 'width', ph.width,
    'height', ph.height, 'thumbnail_width', ph.thumbnail_width,
    'thumbnail_height', ph.thumbnail_height, 'flags', ph.flags,
    'exif_location', CASE WHEN ph.exif_lat IS NOT NULL
        THEN json_build_object('lat', ph.exif_lat, 'lng', ph.exif_lng) END,
    'exif_taken_at', ph.exif_taken_at)"""

_OPEN = "('submitted', 'accepted', 'in_progress', 'dispatched', 'on_hold', 'resolved')"
_JOB_RUNNING = f"j.status NOT IN ('declined', 'cancelled') AND r.status IN {_OPEN}"
JOB_JSON = f"""json_build_object('id', j.id, 'report_id', j.report_id,
    'report_number', r.number, 'report_status', r.status,
    'needs_redispatch', r.status = 'dispatched' AND NOT EXISTS (SELECT 1 FROM jobs l
        WHERE l.report_id = r.id AND l.is_lead AND l.status IN ('pending', 'accepted')),
    'unit', json_build_object('id', un.id, 'name', un.name), 'is_lead', j.is_lead,
    'status', j.status, 'version', j.version, 'complete_by_explicit', j.complete_by_explicit,
    'deadlines', {
    _non_null_array(
        "CASE WHEN j.accept_due_at IS NOT NULL THEN json_build_object('kind', 'accept', "
        "'due_at', j.accept_due_at, 'met_at', coalesce(j.accepted_at, j.declined_at), 'light', "
        + _light(
            "j.created_at",
            "j.accept_due_at",
            "coalesce(j.accepted_at, j.declined_at)",
            _JOB_RUNNING,
        )
        + ") END",
        "CASE WHEN j.complete_due_at IS NOT NULL THEN json_build_object('kind', 'complete', "
        "'due_at', j.complete_due_at, 'met_at', j.completed_at, 'light', "
        + _light("j.accepted_at", "j.complete_due_at", "j.completed_at", _JOB_RUNNING)
        + ") END",
    )
},
    'decline_reason_code', j.decline_reason_code, 'decline_reason', j.decline_reason,
    'rework_count', j.rework_count, 'extension_count', j.extension_count,
    'extensions', (SELECT coalesce(json_agg(json_build_object('id', x.id,
        'requested_until', x.requested_until, 'previous_due_at', x.previous_due_at,
        'reason', x.reason, 'status', x.status, 'requested_at', x.requested_at,
        'decided_at', x.decided_at, 'decision_note', x.decision_note)
        ORDER BY x.requested_at, x.id), '[]') FROM job_extensions x WHERE x.job_id = j.id),
    'created_at', j.created_at, 'accepted_at', j.accepted_at, 'completed_at', j.completed_at,
    'declined_at', j.declined_at, 'cancelled_at', j.cancelled_at, 'updated_at', j.updated_at)"""

_REPORT_RUNNING = f"r.status IN {_OPEN}"
REPORT_JSON = f"""json_build_object('id', r.id, 'number', r.number, 'status', r.status,
    'version', r.version,
    'category', json_build_object('code', cat.code, 'name', cat.name, 'name_en', cat.name_en),
    'priority', r.priority, 'source', r.source, 'description', r.description,
    'address', r.address, 'occurred_at', r.occurred_at,
    'location', json_build_object('lat', r.lat, 'lng', r.lng),
    'submitted_location', json_build_object('lat', r.submitted_lat, 'lng', r.submitted_lng,
        'coord_system', r.submitted_coord_system),
    'community', CASE WHEN com.id IS NOT NULL
        THEN json_build_object('id', com.id, 'name', com.name) END,
    'grid', CASE WHEN grd.id IS NOT NULL THEN json_build_object('id', grd.id, 'name', grd.name) END,
    'region', json_build_object('id', reg.id, 'name', reg.name),
    'routing', json_build_object('method', r.routing_method, 'distance_m', r.routing_distance_m),
    'reporter', json_build_object('id', usr.id, 'display_name', usr.display_name,
        'phone', CASE WHEN usr.id = :me THEN usr.phone
            ELSE left(usr.phone, 1) || repeat('*', length(usr.phone) - 3) || right(usr.phone, 2)
        END),
    'photos', (SELECT coalesce(json_agg({PHOTO_JSON} ORDER BY ph.position), '[]') FROM photos ph
        WHERE ph.report_id = r.id AND ph.event_id IS NULL),
    'deadlines', {
    _non_null_array(
        "CASE WHEN r.accept_due_at IS NOT NULL THEN json_build_object('kind', 'accept', "
        "'due_at', r.accept_due_at, 'limit_hours', cat.accept_within_hours, 'hours_kind', "
        "cat.hours_kind, 'met_at', coalesce(r.accepted_at, r.rejected_at, r.duplicate_at), "
        "'light', "
        + _light(
            "r.created_at",
            "r.accept_due_at",
            "coalesce(r.accepted_at, r.rejected_at, r.duplicate_at)",
            "true",
        )
        + ") END",
        "CASE WHEN r.resolve_due_at IS NOT NULL THEN json_build_object('kind', 'resolve', "
        "'due_at', r.resolve_due_at, 'limit_hours', cat.resolve_within_hours, 'hours_kind', "
        "cat.hours_kind, 'met_at', CASE WHEN r.status IN ('resolved', 'closed') "
        "THEN r.resolved_at END, 'light', "
        + _light(
            "coalesce(r.reopened_at, r.accepted_at, r.created_at)",
            "r.resolve_due_at",
            "CASE WHEN r.status IN ('resolved', 'closed') THEN r.resolved_at END",
            _REPORT_RUNNING,
        )
        + ") END",
    )
},
    'jobs', (SELECT coalesce(json_agg({JOB_JSON} ORDER BY j.created_at, j.is_lead DESC, un.name),
        '[]') FROM jobs j JOIN units un ON un.id = j.unit_id WHERE j.report_id = r.id),
    'rating', (SELECT json_build_object('satisfaction', rt.satisfaction, 'comment', rt.comment,
        'created_at', rt.created_at) FROM ratings rt WHERE rt.report_id = r.id),
    'assignee_id', r.assignee_id, 'supervision_level', r.supervision_level,
    'escalation_count', r.escalation_count, 'rework_count', r.rework_count,
    'reopen_count', r.reopen_count, 'closure_type', r.closure_type,
    'duplicate_of', r.duplicate_of_id, 'created_at', r.created_at, 'updated_at', r.updated_at,
    'accepted_at', r.accepted_at, 'started_at', r.started_at, 'dispatched_at', r.dispatched_at,
    'on_hold_at', r.on_hold_at, 'resolved_at', r.resolved_at, 'closed_at', r.closed_at,
    'rejected_at', r.rejected_at, 'duplicate_at', r.duplicate_at)"""

REPORT_JOINS = """JOIN categories cat ON cat.code = r.category_code
LEFT JOIN communities com ON com.id = r.community_id LEFT JOIN grids grd ON grd.id = r.grid_id
JOIN regions reg ON reg.id = r.region_id JOIN users usr ON usr.id = r.reporter_id"""

_SUBTREE = "ARRAY(SELECT id FROM regions WHERE path LIKE ANY(:paths))"
_SUBTREE_COMMUNITIES = (
    "ARRAY(SELECT c.id FROM communities c JOIN regions g ON g.id = c.region_id "
    "WHERE g.path LIKE ANY(:paths))"
)
# Who may see a report (app/auth/scope.py): one condition per kind of grant.
SCOPE_BRANCHES = {
    "paths": [f"region_id = ANY({_SUBTREE})", f"community_id = ANY({_SUBTREE_COMMUNITIES})"],
    "units": ["id IN (SELECT report_id FROM jobs WHERE unit_id = ANY(:units))"],
    "me": ["reporter_id = :me"],
}


def scope_branches(caller: Caller) -> list[str]:
    """One condition per branch; one per community (an equality reads the community's index
    in date order, which ``= ANY(array)`` does not)."""
    branches = []
    for kind in caller.kinds():
        if kind == "communities":
            branches += [
                f"community_id = (:communities::uuid[])[{k + 1}]"
                for k in range(len(caller.communities))
            ]
        else:
            branches += SCOPE_BRANCHES[kind]
    return branches


def list_sql(caller: Caller, filters: tuple[str, ...]) -> str:
    """A page of reports newest first: each branch of the caller's scope reads its own index
    in date order (UNION of the branches), then one statement builds the page's JSON."""
    condition = " AND ".join(("(created_at, id) < (:after_at, :after_id)", *filters))
    branches = " UNION ".join(
        f"(SELECT id, created_at FROM reports WHERE {branch} AND {condition} "
        "ORDER BY created_at DESC, id DESC LIMIT :limit)"
        for branch in scope_branches(caller)
    )
    return f"""WITH page AS (SELECT id, created_at FROM ({branches}) AS b
        ORDER BY created_at DESC, id DESC LIMIT :limit)
    SELECT json_build_object('items', coalesce(json_agg({REPORT_JSON}
        ORDER BY r.created_at DESC, r.id DESC), '[]'), 'last',
        (array_agg(json_build_array(r.created_at, r.id) ORDER BY r.created_at, r.id))[1])
    FROM page JOIN reports r ON r.id = page.id {REPORT_JOINS}"""


def visible(caller: Caller, alias: str = "r") -> str:
    branches = [
        re.sub(r"\b(region_id|community_id|reporter_id|id) ", rf"{alias}.\1 ", b, count=1)
        for b in scope_branches(caller)
    ]
    return "(" + " OR ".join(branches) + ")"


def detail_sql(caller: Caller) -> str:
    return (
        f"SELECT {REPORT_JSON} FROM reports r {REPORT_JOINS} "
        f"WHERE r.id = :report AND {visible(caller)}"
    )


def timeline_sql(caller: Caller) -> str:
    return f"""SELECT coalesce(json_agg(json_build_object('id', e.id, 'seq', e.seq,
        'type', e.type, 'created_at', e.created_at,
        'actor', CASE WHEN u.id IS NOT NULL AND (:internal OR e.actor_id = :me)
            THEN json_build_object('id', u.id, 'display_name', u.display_name) END,
        'actor_role', e.actor_role, 'from_status', e.from_status, 'to_status', e.to_status,
        'note', e.note, 'reason', e.reason, 'is_internal', e.is_internal,
        'photos', (SELECT coalesce(json_agg({PHOTO_JSON} ORDER BY ph.position), '[]')
            FROM photos ph WHERE ph.report_id = e.report_id AND ph.event_id = e.id))
        ORDER BY e.seq), '[]')
    FROM report_events e LEFT JOIN users u ON u.id = e.actor_id
    WHERE e.report_id = (SELECT r.id FROM reports r WHERE r.id = :report AND {visible(caller)})
      AND (:internal OR NOT e.is_internal)"""


def jobs_sql(caller: Caller) -> str:
    """A unit's inbox: newest first from each of the caller's units' index, merged."""
    branches = " UNION ALL ".join(
        f"(SELECT id, created_at FROM jobs WHERE unit_id = (:units::uuid[])[{k + 1}] "
        "ORDER BY created_at DESC, id DESC LIMIT :limit)"
        for k in range(len(caller.units))
    )
    return f"""WITH page AS (SELECT id, created_at FROM ({branches}) AS b
        ORDER BY created_at DESC, id DESC LIMIT :limit)
    SELECT json_build_object('items', coalesce(json_agg({JOB_JSON}
        ORDER BY j.created_at DESC, j.id DESC), '[]'))
    FROM page JOIN jobs j ON j.id = page.id JOIN units un ON un.id = j.unit_id
    JOIN reports r ON r.id = j.report_id"""


def nearby_sql(by_category: bool) -> str:
    category = "AND category_code = :category" if by_category else ""
    return f"""SELECT coalesce(json_agg(json_build_object('id', id, 'number', number,
        'status', status, 'category_code', category_code,
        'location', json_build_object('lat', round(lat::numeric, 4), 'lng', round(lng::numeric, 4)),
        'distance_m', round(sqrt(d2)), 'created_at', created_at) ORDER BY d2, created_at, id), '[]')
    FROM (SELECT id, number, status, category_code, lat, lng, created_at,
            ((lat - :lat) * 111320.0) ^ 2 + ((lng - :lng) * :lng_scale) ^ 2 AS d2
          FROM reports WHERE status IN {_OPEN}
            AND lat BETWEEN :min_lat AND :max_lat AND lng BETWEEN :min_lng AND :max_lng
            AND ((lat - :lat) * 111320.0) ^ 2 + ((lng - :lng) * :lng_scale) ^ 2 <= :radius2
            {category}
          ORDER BY d2, created_at, id LIMIT :limit) AS near"""


@dataclass(frozen=True)
class Caller:
    """The scope an auth lookup gives, as the hand SQL's parameters."""

    user_id: Any
    paths: tuple[str, ...] = ()
    communities: tuple[Any, ...] = ()
    units: tuple[Any, ...] = ()

    def kinds(self) -> list[str]:
        kinds = [k for k in ("paths", "communities", "units") if getattr(self, k)]
        return [*kinds, "me"]

    def values(self) -> dict[str, Any]:
        return {
            "paths": list(self.paths),
            "communities": list(self.communities),
            "units": list(self.units),
            "me": self.user_id,
            # Staff see internal timeline entries; reporters do not.
            "internal": bool(self.paths or self.communities or self.units),
        }


def caller_from_auth(rows: list[Any], user_id: Any) -> Caller:
    if not rows or not rows[0]["is_active"] or rows[0]["revoked_at"] is not None:
        raise RuntimeError("the token is not valid")
    return Caller(
        user_id=user_id,
        paths=tuple(r["region_path"] + "%" for r in rows if r["role"] in ("supervisor", "viewer")),
        communities=tuple(
            r["community_id"] for r in rows if r["role"] in ("community_staff", "grid_worker")
        ),
        units=tuple(r["unit_id"] for r in rows if r["role"] == "unit_staff"),
    )


# --- the reads ------------------------------------------------------------------------------


@dataclass
class Account:
    username: str
    token: str
    user_id: Any
    session_id: Any
    caller: Caller = field(default_factory=lambda: Caller(None))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Read:
    name: str
    label: str
    account: Account
    path: str  # the API's
    sql: str  # the hand SQL's answer statement, with :name placeholders
    args: dict[str, Any]  # its parameters besides the caller's scope
    budget_p95_ms: float
    budget_ratio: float | None = 4.0

    def statement(self) -> tuple[str, list[str]]:
        return numbered(self.sql)


async def hand_sql(conn: Any, read: Read, statement: tuple[str, list[str]]) -> str:
    """The caller's auth lookup, then the one statement answering the read."""
    account = read.account
    rows = await conn.fetch(AUTH_SQL, account.user_id, account.session_id)
    values = {**read.args, **caller_from_auth(rows, account.user_id).values()}
    sql, names = statement
    answer: str = await conn.fetchval(sql, *(values[n] for n in names))
    return answer


async def api(client: httpx.AsyncClient, read: Read) -> bytes:
    response = await client.get(read.path, headers=read.account.headers)
    if response.status_code != 200:
        raise RuntimeError(f"{read.name}: {response.status_code} {response.text[:300]}")
    return response.content


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


# --- setting the reads up -------------------------------------------------------------------


async def sign_in(client: httpx.AsyncClient, db: Any, username: str) -> Account:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    if response.status_code != 200:
        raise RuntimeError(f"login {username}: {response.status_code} {response.text}")
    token: str = response.json()["access_token"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    account = Account(username, token, uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]))
    rows = await db.fetch(AUTH_SQL, account.user_id, account.session_id)
    account.caller = caller_from_auth(rows, account.user_id)
    return account


async def walk_api(
    client: httpx.AsyncClient, account: Account, path: str, pages: int
) -> tuple[str, int]:
    """The path of page ``pages + 1`` following next_cursor (or of the last page, when the
    list is shorter), and how many pages it skipped."""
    url, skipped = path, 0
    for _ in range(pages):
        cursor = (await client.get(url, headers=account.headers)).json()["next_cursor"]
        if cursor is None:
            break
        url, skipped = f"{path}&{httpx.QueryParams({'cursor': cursor})}", skipped + 1
    return url, skipped


async def walk_sql(db: Any, read: Read, pages: int) -> dict[str, Any]:
    """The hand SQL's arguments for page ``pages + 1``, following each page's last row."""
    args = dict(read.args)
    statement = read.statement()
    for _ in range(pages):
        step = Read(**{**read.__dict__, "args": args})
        last = json.loads(await hand_sql(db, step, statement))["last"]
        args = {
            **args,
            "after_at": dt.datetime.fromisoformat(last[0]),
            "after_id": uuid.UUID(last[1]),
        }
    return args


async def fixtures(db: Any) -> dict[str, Any]:
    """The places and rows the reads look at."""
    big = await db.fetchval(
        "SELECT ra.community_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id "
        "WHERE u.username = 'staff1'"
    )
    center = await db.fetchrow("SELECT center_lat, center_lng FROM communities WHERE id = $1", big)
    report = await db.fetchval(
        "SELECT r.id FROM reports r WHERE r.community_id = $1 AND r.status = 'dispatched' "
        "ORDER BY EXISTS (SELECT 1 FROM jobs j WHERE j.report_id = r.id AND NOT j.is_lead) "
        "DESC, r.created_at DESC LIMIT 1",
        big,
    )
    categories = await db.fetch(
        "SELECT category_code, count(*) FROM reports WHERE community_id = $1 "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
        big,
    )
    return {
        "lat": center["center_lat"],
        "lng": center["center_lng"],
        "report": report,
        "top_category": categories[0]["category_code"],
        "category": categories[-1]["category_code"],
    }


def _list_read(
    name: str, label: str, account: Account, now: dt.datetime, query: dict[str, str]
) -> Read:
    filters = []
    args: dict[str, Any] = {
        "limit": 50,
        "after_at": FIRST_PAGE[0],
        "after_id": uuid.UUID(FIRST_PAGE[1]),
        "now": now,
    }
    if "category" in query:
        filters = [
            "category_code = :category",
            "created_at >= :created_from",
            "created_at < :created_to",
        ]
        args |= {
            "category": query["category"],
            "created_from": dt.datetime.fromisoformat(query["created_from"]),
            "created_to": dt.datetime.fromisoformat(query["created_to"]),
        }
    path = f"/api/v1/reports?{httpx.QueryParams({'limit': '50', **query})}"
    return Read(name, label, account, path, list_sql(account.caller, tuple(filters)), args, 25.0)


def _nearby_read(
    name: str, label: str, account: Account, spot: dict[str, Any], category: str | None
) -> Read:
    lat, lng, radius = spot["lat"], spot["lng"], 100.0
    dlat = radius / 111_320.0
    dlng = radius / (111_320.0 * math.cos(math.radians(lat)))
    query = {"lat": str(lat), "lng": str(lng), "radius_m": str(radius)}
    args: dict[str, Any] = {
        "lat": lat,
        "lng": lng,
        "lng_scale": 111_320.0 * math.cos(math.radians(lat)),
        "min_lat": lat - dlat,
        "max_lat": lat + dlat,
        "min_lng": lng - dlng,
        "max_lng": lng + dlng,
        "radius2": radius * radius,
        "limit": 5,
    }
    if category:
        query["category"] = category
        args["category"] = category
    path = f"/api/v1/reports/nearby?{httpx.QueryParams(query)}"
    return Read(name, label, account, path, nearby_sql(category is not None), args, 15.0, None)


def _case_reads(accounts: dict[str, Account], spot: dict[str, Any], now: dt.datetime) -> list[Read]:
    """One case as its community's staff reads it, and the biggest unit's inbox."""
    staff1 = accounts["staff1"]
    detail_args = {"report": spot["report"], "now": now}
    return [
        Read(
            "detail",
            "report detail",
            staff1,
            f"/api/v1/reports/{spot['report']}",
            detail_sql(staff1.caller),
            detail_args,
            10.0,
        ),
        Read(
            "timeline",
            "timeline",
            staff1,
            f"/api/v1/reports/{spot['report']}/timeline",
            timeline_sql(staff1.caller),
            detail_args,
            10.0,
        ),
        Read(
            "unit_inbox",
            "unit inbox /jobs (biggest unit)",
            accounts["unit6"],
            "/api/v1/jobs?limit=50",
            jobs_sql(accounts["unit6"].caller),
            {"limit": 50, "now": now},
            25.0,
        ),
    ]


async def build_reads(
    client: httpx.AsyncClient, db: Any, accounts: dict[str, Account], now: dt.datetime
) -> list[Read]:
    spot = await fixtures(db)
    staff1, staff9 = accounts["staff1"], accounts["staff9"]
    period = {
        "category": spot["category"],
        "created_from": (now - dt.timedelta(days=180)).isoformat(),
        "created_to": (now - dt.timedelta(days=120)).isoformat(),
    }
    reads = [
        _list_read("list_big", "list, first page (big community)", staff1, now, {}),
        _list_read("list_small", "list, first page (small community)", staff9, now, {}),
        _list_read("page50_big", "50th page by cursor (big community)", staff1, now, {}),
        _list_read("page50_small", "50th page by cursor (small community)", staff9, now, {}),
        _list_read(
            "region", "supervisor's region list (township)", accounts["supervisor2"], now, {}
        ),
        _list_read("category_period", "category + period (big community)", staff1, now, period),
        _list_read(
            "category_period_banner",
            "category + period (banner supervisor)",
            accounts["supervisor"],
            now,
            period,
        ),
    ]
    reads += [
        *_case_reads(accounts, spot, now),
        _nearby_read("nearby", "nearby, no category (100 m)", accounts["courier1"], spot, None),
        _nearby_read(
            "nearby_category",
            "nearby with a category (100 m)",
            accounts["courier1"],
            spot,
            spot["top_category"],
        ),
    ]
    await skip_to_deep_pages(client, db, reads)
    return reads


async def skip_to_deep_pages(client: httpx.AsyncClient, db: Any, reads: list[Read]) -> None:
    """The 50th-page reads start where 49 pages of the list end, in the API and in SQL."""
    for read in reads:
        if read.name.startswith("page50"):
            read.path, skipped = await walk_api(client, read.account, read.path, 49)
            read.args = await walk_sql(db, read, skipped)
            if skipped < 49:  # a small data set: the list ends sooner
                read.label += f" (page {skipped + 1}: the last)"


# --- measuring ------------------------------------------------------------------------------


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
    connections = [await asyncpg.connect(dsn) for _ in range(clients)]
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


async def sweep_figures(database_url: str) -> dict[str, Any]:
    """One catch-up pass of the overdue sweep, then idle passes: wall time and the time spent
    in statements (sent to the database and answered)."""
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
        now = dt.datetime.now(dt.UTC)
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


# --- the run --------------------------------------------------------------------------------


async def count_reports(url: URL) -> int | None:
    """How many reports the database holds; None when there is no such database (or no
    migrated schema)."""
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(url, url.database or ""))
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
def bench_database(args: argparse.Namespace) -> Iterator[tuple[dict[str, str], dict[str, Any]]]:
    """A database holding the data set (reused with --keep when it holds N reports), the
    environment of the app's commands, and how the data set was made."""
    url = make_url(args.database_url)
    if url.get_backend_name() != "postgresql" or not url.database:
        raise SystemExit("--database-url must name a PostgreSQL database")
    dsn = _asyncpg_dsn(url, url.database)
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
            common.log(f"reusing {url.database} ({args.reports:,} reports): migrate, ANALYZE")
            run_cli(env, "migrate")
            asyncio.run(analyze(dsn))
            loaded: dict[str, Any] = {"reused": True}
        else:
            common.log(f"creating database {url.database}")
            recreate_database(url)
            run_cli(env, "migrate")
            run_cli(env, "seed-demo")
            times = asyncio.run(common.load(dsn, args.reports, dt.datetime.now(dt.UTC)))
            loaded = {"reused": False, **{k: round(v, 1) for k, v in times.__dict__.items()}}
            loaded["total_s"] = round(times.total_s, 1)
            common.log(f"loaded in {times.total_s:.0f} s")
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
    db = await asyncpg.connect(dsn)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            accounts = {u: await sign_in(client, db, u) for u in USERS}
            reads = await build_reads(client, db, accounts, dt.datetime.now(dt.UTC))
            for read in reads:
                if selected(args, read.name):
                    common.log(
                        f"  {read.name}: {args.requests} requests + {SEQUENTIAL_WARMUP} warm-up"
                    )
                    figures["reads"][read.name] = await measure_read(
                        client, db, read, args.requests
                    )
    finally:
        await db.close()
    per_client = max(1, args.requests // args.clients)
    for read in reads:
        if read.name in ("list_big", "detail") and selected(args, "throughput"):
            common.log(f"  throughput of {read.name}: {args.clients} clients")
            figures["throughput"][read.name] = await throughput(
                base_url, dsn, read, args.clients, per_client
            )
    return figures


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "load_average": os.getloadavg(),
    }


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
        help="only reads whose name contains this (repeatable; also 'throughput', 'sweep')",
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
    return args


def main() -> None:
    args = parse_args()
    started_at = dt.datetime.now(dt.UTC)
    with bench_database(args) as (env, loaded):
        url = make_url(args.database_url)
        dsn = _asyncpg_dsn(url, url.database or "")
        common.log("starting the server (1 process)")
        server = start_server(env, 1, Path(env["BENCH_WORKDIR"]))
        try:
            with RssSampler(server.pid) as sampler:
                results = asyncio.run(measure(args, server.base_url, dsn))
                if selected(args, "sweep"):
                    common.log("  overdue sweep: catch-up, then idle passes")
                    results["sweep"] = asyncio.run(sweep_figures(args.database_url))
            peak = max(_status_kb(pid, "VmHWM") or 0 for pid in [server.pid, *server.worker_pids()])
        except BaseException:
            common.log(server_log(server))
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
