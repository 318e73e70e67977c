"""The number of SQL statements a read sends does not grow with what it shows: a page of 20
reports costs as many as a page of 2, each with photos, jobs, requests for more time and some
ratings; a case with 5 photos and 3 jobs as many as one with a photo and no jobs; and it stays
under a fixed bound. Counted on the app's own engine while the request runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import demo_id
from app.models import Job, JobExtension, Photo, Rating, Report
from app.models.enums import JobStatus, ReportStatus
from app.models.ids import id_at
from tests.conftest import PG_URL, LoginFn

EAST = demo_id("community", "陕坝镇", "东街社区")  # staff1's
SEAT = demo_id("region", "陕坝镇")
GRID = demo_id("grid", "陕坝镇", "东街社区", "第一网格")
GRID_WORKER = demo_id("user", "grid1")
UNITS = [demo_id("unit", name) for name in ("旗农牧和科技局", "旗红十字会", "旗科协")]
# Filed in the last hours, as the pages most read are: in the newest months, where a list
# looks first (see below).
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
LIST_REPORTS = 24

# At most this many statements for a list page or a case, whatever its size:
# - the caller: its account, session and role assignments (authentication), 1;
# - a page of reports: the page's keys, one bounded index scan per branch of the caller's scope
#   merged in one statement, 1; the reports with their category, regions, community, grid,
#   reporter and rating, 1; their photos, 1; their jobs with their units, 1; the jobs' requests
#   for more time (none when no job asked), 1; the holds and reworks of the cases that had some, 0;
# - a page of jobs: the page, 1; the jobs with their units and cases, 1; their requests, 1;
# - a case: as a page of reports less the page's keys (the caller's scope is in the first);
# - on PostgreSQL a filtered page, or one whose scope has subqueries (a supervisor's region, a
#   unit's cases), is planned for its values: a SET before it and after it.
# - on PostgreSQL the rows read by key (a page's or a case's cases, photos, jobs, requests and
#   holds) use one plan per connection for any values (app/core/pruning.py): a SET before them
#   and after them.
# - on PostgreSQL a list newest first looks for its page in the newest two months first
#   (app/core/pruning.py, ``NewestMonthsFirst``), and reads the older months only when those
#   held less than a page: nothing more for a page the two months hold, one statement more for
#   one they do not (a sparse list, or one whose cases are all older).
PLANNING = 2 if PG_URL else 0
ONE_PLAN = 2 if PG_URL else 0
BELOW_THE_WINDOW = 1 if PG_URL else 0
MAX_STATEMENTS = {"reports": 6 + ONE_PLAN, "jobs": 4 + ONE_PLAN, "detail": 5 + ONE_PLAN}


@contextmanager
def counting(app: FastAPI) -> Iterator[list[str]]:
    """The statements sent on the app's engine inside the block."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])  # (connection, cursor, statement, parameters, context, many)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def statements_of(
    app: FastAPI, client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> list[str]:
    with counting(app) as sent:
        response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return sent


def _report(created_at: datetime) -> dict[str, Any]:
    report_id = id_at(created_at)  # a case's id carries its filing moment
    return {
        "id": report_id,
        "number": f"SSP-COUNT-{report_id.hex[-12:]}",
        "status": ReportStatus.dispatched,
        "category_code": "chaotic_parking",
        "priority": "normal",
        "source": "grid_patrol",
        "description": "巷子里乱停车",
        "lat": 40.8436,
        "lng": 107.1499,
        "submitted_lat": 40.8436,
        "submitted_lng": 107.1499,
        "submitted_coord_system": "wgs84",
        "reporter_id": GRID_WORKER,
        "community_id": EAST,
        "grid_id": GRID,
        "region_id": SEAT,
        "routing_method": "boundary",
        "accept_due_at": created_at + timedelta(hours=2),
        "resolve_due_at": created_at + timedelta(days=3),
        "accepted_at": created_at + timedelta(minutes=30),
        "dispatched_at": created_at + timedelta(hours=1),
        "created_at": created_at,
        "updated_at": created_at,
    }


def _photo(report: dict[str, Any], position: int) -> dict[str, Any]:
    key = f"{report['id'].hex}/{position}"
    return {
        "id": uuid.uuid4(),
        "report_id": report["id"],
        "kind": "report",
        "position": position,
        "display_key": f"display/{key}.jpg",
        "thumbnail_key": f"thumbnail/{key}.jpg",
        "content_type": "image/jpeg",
        "width": 1600,
        "height": 1200,
        "thumbnail_width": 320,
        "thumbnail_height": 240,
        "size_bytes": 200_000,
        "sha256": f"{position:064d}",
        "original_format": "JPEG",
        "flags": [],
        "created_at": report["created_at"],
    }


def _job(report: dict[str, Any], unit_id: uuid.UUID, lead: bool) -> dict[str, Any]:
    dispatched = report["dispatched_at"]
    return {
        "id": uuid.uuid4(),
        "report_id": report["id"],
        "unit_id": unit_id,
        "is_lead": lead,
        "status": JobStatus.accepted,
        "accept_due_at": dispatched + timedelta(hours=2),
        "complete_due_at": dispatched + timedelta(days=2),
        "accepted_at": dispatched + timedelta(minutes=20),
        "created_at": dispatched,
        "updated_at": dispatched,
    }


def _extension(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "job_id": job["id"],
        "report_id": job["report_id"],
        "requested_until": job["complete_due_at"] + timedelta(days=2),
        "previous_due_at": job["complete_due_at"],
        "reason": "等配件到货",
        "status": "pending",
        "requested_at": job["accepted_at"] + timedelta(hours=1),
    }


async def add_case(
    session: AsyncSession, created_at: datetime, *, photos: int, jobs: int, rated: bool
) -> uuid.UUID:
    """A dispatched case with ``photos`` photos, ``jobs`` jobs (each with a request for more
    time) and a rating if ``rated``, written straight to the database."""
    report = _report(created_at)
    job_rows = [_job(report, unit, i == 0) for i, unit in enumerate(UNITS[:jobs])]
    await session.execute(insert(Report), [report])
    await session.execute(insert(Photo), [_photo(report, i) for i in range(photos)])
    if job_rows:
        await session.execute(insert(Job), job_rows)
        await session.execute(insert(JobExtension), [_extension(job) for job in job_rows])
    if rated:
        await session.execute(
            insert(Rating),
            [{"report_id": report["id"], "satisfaction": "satisfied", "created_at": created_at}],
        )
    report_id: uuid.UUID = report["id"]
    return report_id


@pytest.fixture
async def cases(session: AsyncSession) -> dict[str, uuid.UUID]:
    """Three old cases for the detail (bare, small, full), then LIST_REPORTS newer ones, each
    with 3 photos, 3 jobs with requests for more time, every other one rated."""
    made = {
        "bare": await add_case(session, T0, photos=1, jobs=0, rated=False),
        "small": await add_case(session, T0, photos=1, jobs=1, rated=False),
        "full": await add_case(session, T0 + timedelta(minutes=1), photos=5, jobs=3, rated=True),
    }
    for i in range(LIST_REPORTS):
        at = T0 + timedelta(hours=1, minutes=i)
        await add_case(session, at, photos=3, jobs=3, rated=i % 2 == 0)
    await session.commit()
    return made


@pytest.mark.parametrize(
    ("user", "path", "bound"),
    [
        ("staff1", "/api/v1/reports", MAX_STATEMENTS["reports"]),
        ("admin", "/api/v1/reports", MAX_STATEMENTS["reports"]),
        ("supervisor", "/api/v1/reports", MAX_STATEMENTS["reports"] + PLANNING),
        ("unit1", "/api/v1/jobs", MAX_STATEMENTS["jobs"]),
    ],
)
async def test_a_list_page_costs_the_same_statements_whatever_its_size(
    user: str,
    path: str,
    bound: int,
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    cases: dict[str, uuid.UUID],
) -> None:
    headers = await login(user)
    await client.get(f"{path}?limit=2", headers=headers)  # the first use of a connection
    small = await statements_of(app, client, f"{path}?limit=2", headers)
    large = await statements_of(app, client, f"{path}?limit=20", headers)
    page = (await client.get(f"{path}?limit=20", headers=headers)).json()["items"]
    assert len(page) == 20
    if path.endswith("reports"):  # the page does show what the statements load
        assert all(len(r["photos"]) == 3 and len(r["jobs"]) == 3 for r in page)
        assert any(r["rating"] for r in page)
        assert any(r["rating"] is None for r in page)
    assert len(large) == len(small), "\n\n".join(large)
    assert len(small) <= bound, "\n\n".join(small)


async def test_a_case_costs_the_same_statements_however_much_it_holds(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, cases: dict[str, uuid.UUID]
) -> None:
    headers = await login("staff1")
    url = "/api/v1/reports/{}".format
    await client.get(url(cases["bare"]), headers=headers)  # the first use of a connection
    bare, small, full = [
        await statements_of(app, client, url(cases[name]), headers)
        for name in ("bare", "small", "full")
    ]
    shown = (await client.get(url(cases["full"]), headers=headers)).json()
    assert len(shown["photos"]) == 5
    assert len(shown["jobs"]) == 3
    assert shown["rating"]
    assert all(len(job["extensions"]) == 1 for job in shown["jobs"])
    assert len(full) == len(small), "\n\n".join(full)
    # A case whose jobs never asked for more time skips the lookup of such requests.
    assert len(full) - 1 <= len(bare) <= len(full), "\n\n".join(bare)
    assert len(full) <= MAX_STATEMENTS["detail"], "\n\n".join(full)


async def test_a_page_older_than_its_window_costs_one_statement_more(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    for i in range(3):
        await add_case(session, T0 - timedelta(days=200, minutes=i), photos=1, jobs=1, rated=False)
    await session.commit()
    headers = await login("staff1")
    await client.get("/api/v1/reports?limit=2", headers=headers)  # the first use of a connection
    sent = await statements_of(app, client, "/api/v1/reports?limit=2", headers)
    assert len(sent) == MAX_STATEMENTS["reports"] + BELOW_THE_WINDOW, "\n\n".join(sent)
