"""Walking every page of a list while new rows arrive: each row that was there when the walk
began is served exactly once, nothing twice, in strict (created_at, id) order, and nothing
outside the caller's scope or filters. Reports and jobs are written straight to the database
(a few hundred, many sharing a timestamp to the microsecond, so the id must break the ties)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import demo_id
from app.models import Job, Report
from app.models.enums import JobStatus, ReportStatus
from app.models.ids import id_at
from tests.conftest import LoginFn

EAST = demo_id("community", "陕坝镇", "东街社区")  # staff1's
NORTH = demo_id("community", "陕坝镇", "北街社区")  # staff2's, same township
FAR = demo_id("community", "头道桥镇", "头道桥社区")  # another township
SEAT = demo_id("region", "陕坝镇")  # supervisor2's region
FAR_REGION = demo_id("region", "头道桥镇")
COURIER1, COURIER2 = demo_id("user", "courier1"), demo_id("user", "courier2")
LEAD, RED_CROSS = demo_id("unit", "旗农牧和科技局"), demo_id("unit", "旗红十字会")  # unit1, unit2
PAGE = 7
T0 = datetime(2026, 3, 2, 1, 30, 15, 123456, tzinfo=UTC)
# Long after everything seeded: a report that "arrives now" during a walk.
LATER = T0 + timedelta(days=30)


@dataclass(frozen=True)
class Seeded:
    id: uuid.UUID
    created_at: datetime
    community_id: uuid.UUID
    reporter_id: uuid.UUID
    status: ReportStatus
    category_code: str


def _moment(i: int) -> datetime:
    """Groups of four share a timestamp, and one run of twenty (longer than a page) shares
    one too."""
    return T0 + timedelta(minutes=25 if 100 <= i < 120 else i // 4)


def _report_row(seeded: Seeded) -> dict[str, Any]:
    return {
        "id": seeded.id,
        "number": f"SSP-PAGE-{seeded.id.hex[-12:]}",
        "status": seeded.status,
        "category_code": seeded.category_code,
        "priority": "normal",
        "source": "courier",
        "description": "巷口堆放杂物",
        "lat": 40.8436,
        "lng": 107.1499,
        "submitted_lat": 40.8436,
        "submitted_lng": 107.1499,
        "submitted_coord_system": "wgs84",
        "reporter_id": seeded.reporter_id,
        "community_id": seeded.community_id,
        "region_id": FAR_REGION if seeded.community_id == FAR else SEAT,
        "routing_method": "boundary",
        "created_at": seeded.created_at,
        "updated_at": seeded.created_at,
    }


def _plan(count: int) -> Iterator[Seeded]:
    """Mostly 东街社区, with reports of two other communities interleaved in time."""
    for i in range(count):
        community = NORTH if i % 11 == 3 else FAR if i % 13 == 5 else EAST
        yield Seeded(
            id=id_at(_moment(i)),  # a case's id carries its filing moment
            created_at=_moment(i),
            community_id=community,
            reporter_id=COURIER1 if i % 3 else COURIER2,
            status=ReportStatus.accepted if i % 2 else ReportStatus.submitted,
            category_code="road_damage" if (i // 4) % 3 == 0 else "chaotic_parking",
        )


async def add_reports(session: AsyncSession, reports: list[Seeded]) -> None:
    await session.execute(insert(Report), [_report_row(r) for r in reports])
    await session.commit()


def _job_row(unit_id: uuid.UUID, report_id: uuid.UUID, created_at: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "report_id": report_id,
        "unit_id": unit_id,
        "is_lead": unit_id == LEAD,
        "status": JobStatus.accepted if created_at.minute % 2 else JobStatus.pending,
        "created_at": created_at,
        "updated_at": created_at,
    }


@dataclass
class Arrivals:
    """Rows written while a walk goes on: one that arrives now, and every third page one
    back-dated into a tie group (behind or ahead of the cursor: either way never twice)."""

    session: AsyncSession
    like: Seeded
    reports: list[Seeded] = field(default_factory=list)
    jobs: list[uuid.UUID] = field(default_factory=list)
    counter: Iterator[int] = field(default_factory=itertools.count)

    async def report(self) -> None:
        n = next(self.counter)
        made = [
            Seeded(
                id_at(LATER + timedelta(seconds=n)), LATER + timedelta(seconds=n), *self._shape()
            )
        ]
        if n % 3 == 0:
            made.append(Seeded(id_at(_moment(4 * (n % 60))), _moment(4 * (n % 60)), *self._shape()))
        await add_reports(self.session, made)
        self.reports += made

    def _shape(self) -> tuple[uuid.UUID, uuid.UUID, ReportStatus, str]:
        like = self.like
        return like.community_id, like.reporter_id, like.status, like.category_code

    async def job(self, report_id: uuid.UUID) -> None:
        n = next(self.counter)
        made = [_job_row(LEAD, report_id, LATER + timedelta(seconds=n))]
        if n % 3 == 0:
            made.append(_job_row(LEAD, report_id, _moment(3 * (n % 60))))
        await self.session.execute(insert(Job), made)
        await self.session.commit()
        self.jobs += [row["id"] for row in made]


def _key(item: dict[str, Any]) -> tuple[datetime, uuid.UUID]:
    return datetime.fromisoformat(item["created_at"]), uuid.UUID(item["id"])


async def walk(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    query: list[tuple[str, str]],
    between_pages: Callable[[], Any],
) -> list[dict[str, Any]]:
    """Every item of every page, following ``next_cursor`` to the end."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(200):  # far more pages than any walk here needs
        params: list[tuple[str, str | int | float | bool | None]] = [("limit", PAGE), *query]
        if cursor:
            params.append(("cursor", cursor))
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        cursor = body["next_cursor"]
        # Every page but the last is full.
        assert len(body["items"]) == PAGE or cursor is None, (len(body["items"]), cursor)
        items += body["items"]
        if cursor is None:
            return items
        await between_pages()
    raise AssertionError("the walk never ended")


def check_walk(
    items: list[dict[str, Any]],
    before: set[uuid.UUID],
    arrived: set[uuid.UUID],
    *,
    newest_first: bool = True,
) -> None:
    ids = [uuid.UUID(item["id"]) for item in items]
    assert len(ids) == len(set(ids)), "an item was served twice"
    assert set(ids) - arrived == before, "an item that was there from the start was missed"
    keys = [_key(item) for item in items]
    pairs = list(itertools.pairwise(keys))
    assert all((a > b) if newest_first else (a < b) for a, b in pairs), "out of order"


# name: (user, query, expected to see, oldest first)
REPORT_WALKS: dict[str, tuple[str, list[tuple[str, str]], Callable[[Seeded], bool], bool]] = {
    "staff_newest_first": ("staff1", [], lambda r: r.community_id == EAST, False),
    "staff_oldest_first": (
        "staff1",
        [("sort", "created_at")],
        lambda r: r.community_id == EAST,
        True,
    ),
    "staff_by_status": (
        "staff1",
        [("status", "accepted")],
        lambda r: r.community_id == EAST and r.status is ReportStatus.accepted,
        False,
    ),
    "staff_by_category_oldest_first": (
        "staff1",
        [("category", "road_damage"), ("sort", "created_at")],
        lambda r: r.community_id == EAST and r.category_code == "road_damage",
        True,
    ),
    "supervisor_of_the_township": ("supervisor2", [], lambda r: r.community_id != FAR, False),
    "reporter_mine": (
        "courier1",
        [("mine", "true")],
        lambda r: r.reporter_id == COURIER1,
        False,
    ),
}


@pytest.mark.parametrize("name", list(REPORT_WALKS))
async def test_every_report_is_listed_exactly_once_while_reports_arrive(
    name: str, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    user, query, visible, oldest_first = REPORT_WALKS[name]
    seeded = list(_plan(260))
    await add_reports(session, seeded)
    before = {r.id for r in seeded if visible(r)}
    assert len(before) > 4 * PAGE
    # Arrivals the caller sees (same community, reporter, status and category as one it does).
    arrivals = Arrivals(session, like=next(r for r in seeded if visible(r)))

    items = await walk(client, "/api/v1/reports", await login(user), query, arrivals.report)

    arrived = {r.id for r in arrivals.reports}
    assert arrived, "nothing arrived during the walk"
    check_walk(items, before, arrived, newest_first=not oldest_first)
    if oldest_first:  # the newest arrivals sort after every cursor: they are reached too
        assert {r.id for r in arrivals.reports if r.created_at >= LATER} <= {
            uuid.UUID(item["id"]) for item in items
        }


# name: (user, query, which seeded jobs the caller sees given the unit and the report's community)
JOB_WALKS: dict[str, tuple[str, list[tuple[str, str]], Callable[[dict[str, Any]], bool]]] = {
    "unit_inbox": ("unit1", [], lambda job: job["unit_id"] == LEAD),
    "unit_inbox_by_status": (
        "unit1",
        [("status", "pending")],
        lambda job: job["unit_id"] == LEAD and job["status"] is JobStatus.pending,
    ),
    "community_staff": ("staff1", [], lambda job: job["community_id"] == EAST),
}


@pytest.mark.parametrize("name", list(JOB_WALKS))
async def test_every_job_is_listed_exactly_once_while_jobs_arrive(
    name: str, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    user, query, visible = JOB_WALKS[name]
    reports = list(_plan(80))
    await add_reports(session, reports)
    # Jobs of two units on the reports of several communities, three to a timestamp and a run
    # of twenty at one moment.
    jobs = [
        _job_row(LEAD if i % 4 else RED_CROSS, reports[i % len(reports)].id, _moment(i * 4 // 3))
        for i in range(220)
    ]
    await session.execute(insert(Job), jobs)
    await session.commit()
    community = {r.id: r.community_id for r in reports}
    before = {
        job["id"] for job in jobs if visible({**job, "community_id": community[job["report_id"]]})
    }
    assert len(before) > 4 * PAGE
    east_report = next(r for r in reports if r.community_id == EAST)
    arrivals = Arrivals(session, like=east_report)

    async def arrive() -> None:
        await arrivals.job(east_report.id)

    items = await walk(client, "/api/v1/jobs", await login(user), query, arrive)

    check_walk(items, before, set(arrivals.jobs))
