"""A list read newest first looks in its newest months first (app/core/pruning.py,
``NewestMonthsFirst``), on PostgreSQL: a page the window holds reads the window's months alone;
a page crossing the window's lower edge, or a sparse community's page spanning many months, is
the page one unbounded read gives, with the same cursors, for every scope and filter."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import ColumnElement, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BinaryExpression, BindParameter

from app.core.partitions import Month, make_month
from app.core.pruning import KeyFollowsTime, NewestMonthsFirst
from app.demo.seed import demo_id
from app.models import Report
from app.models.enums import ReportStatus
from app.models.ids import id_floor
from app.models.partitioning import partition_name
from tests.conftest import PG_URL, LoginFn
from tests.core.test_partitions import _partitions_read, _partitions_read_generic
from tests.reports.test_read_statement_count import _report

postgresql = pytest.mark.skipif(not PG_URL, reason="partitions are PostgreSQL's")

EAST = demo_id("community", "陕坝镇", "东街社区")  # staff1's
NORTH = demo_id("community", "陕坝镇", "北街社区")  # staff2's
FAR = demo_id("community", "头道桥镇", "头道桥社区")  # another township
FAR_REGION = demo_id("region", "头道桥镇")
STAFF1 = demo_id("user", "staff1")
# The cases are filed in this month and the six before.
NOW = datetime.now(UTC)
THIS_MONTH = Month.of(NOW)
MONTHS = [THIS_MONTH.plus(-back) for back in range(7)]  # this month and the six before
# Cases of 东街社区 per month, newest month first: two empty months, so that a window can
# hold nothing, part of a page or more than one.
EAST_PER_MONTH = [4, 2, 0, 3, 1, 0, 2]
# 北街社区 is sparse: none in the two newest months, one in each of four older ones.
NORTH_MONTHS = [MONTHS[2], MONTHS[4], MONTHS[5], MONTHS[6]]


def _at(month: Month, day: int, hour: int = 9) -> datetime:
    return (month.start() + timedelta(days=day - 1, hours=hour)).astimezone(UTC)


def _edges(month: Month, count: int) -> list[datetime]:
    """Where a month's cases are filed, newest first: its last moment and its first (the
    window's edges fall on them), then days within."""
    end, start = month.plus(1).start() - timedelta(microseconds=1), month.start()
    moments = [end, start, _at(month, 20), _at(month, 10)][:count]
    return sorted((moment.astimezone(UTC) for moment in moments), reverse=True)


def _case(at: datetime, i: int, **overrides: Any) -> dict[str, Any]:
    row = _report(at)
    row["category_code"] = "road_damage" if i % 3 == 0 else "chaotic_parking"
    if i % 2:
        row |= {"status": ReportStatus.accepted, "dispatched_at": None}
    return row | overrides


@pytest.fixture
async def cases(session: AsyncSession) -> dict[str, list[uuid.UUID]]:
    """Cases over seven months: 东街社区's (some filed at the same moment, the id breaking the
    tie), 北街社区's few, and staff1's own reports in another township."""
    for month in MONTHS:
        await make_month(session, month)  # made already when it is the real month or later
    rows: dict[str, list[dict[str, Any]]] = {"east": [], "north": [], "own": []}
    i = 0
    for month, count in zip(MONTHS, EAST_PER_MONTH, strict=True):
        for at in _edges(month, count):
            rows["east"].append(_case(at, i))
            i += 1
    rows["east"].append(_case(rows["east"][0]["created_at"], i))  # a tie to the microsecond
    for n, month in enumerate(NORTH_MONTHS):
        rows["north"].append(_case(_at(month, 10 + n), n, community_id=NORTH, grid_id=None))
    for n, month in enumerate(MONTHS[1::2]):
        far = {"community_id": FAR, "region_id": FAR_REGION, "grid_id": None}
        rows["own"].append(_case(_at(month, 15), n, reporter_id=STAFF1, **far))
    for made in rows.values():
        await session.execute(insert(Report), made)
    await session.commit()
    return {name: [row["id"] for row in made] for name, made in rows.items()}


@contextmanager
def page_statements(app: FastAPI) -> Iterator[list[tuple[str, Any]]]:
    """The statements reading a page's keys (those with a LIMIT) sent inside the block."""
    sent: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        if "LIMIT" in args[2]:
            sent.append((args[2], args[3]))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _months_read(read: set[str]) -> set[Month]:
    """The months of ``reports`` among the partitions read."""
    return {month for month in MONTHS if partition_name("reports", month.year, month.month) in read}


@postgresql
@pytest.mark.parametrize(
    ("user", "query", "one_plan"),
    [
        ("staff1", "", True),  # one plan for any values, pruned when it starts
        ("staff1", "&category=chaotic_parking", False),  # planned for its values
        ("supervisor2", "", False),  # the region's subqueries: planned for its values
    ],
)
async def test_a_page_the_window_holds_reads_the_windows_months_alone(
    user: str,
    query: str,
    one_plan: bool,
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    cases: dict[str, list[uuid.UUID]],
) -> None:
    headers = await login(user)
    with page_statements(app) as sent:
        response = await client.get(f"/api/v1/reports?limit=3{query}", headers=headers)
    assert response.status_code == 200, response.text
    window = {THIS_MONTH, MONTHS[1]}
    shown = {Month.of(datetime.fromisoformat(r["created_at"])) for r in response.json()["items"]}
    assert len(response.json()["items"]) == 3
    assert shown <= window
    assert len(sent) == 1, [statement for statement, _ in sent]  # the window held the page
    ((statement, parameters),) = sent
    explain = _partitions_read_generic if one_plan else _partitions_read
    months = _months_read(await explain(session, statement, parameters))
    assert months, months
    assert months <= window, months


async def _walk(
    client: httpx.AsyncClient, headers: dict[str, str], path: str
) -> list[dict[str, Any]]:
    """Every page of a list: its items' ids and its cursor."""
    pages: list[dict[str, Any]] = []
    url = path
    while True:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append({"ids": [r["id"] for r in page["items"]], "next": page["next_cursor"]})
        if not page["next_cursor"] or len(pages) > 60:
            return pages
        url = f"{path}&{httpx.QueryParams({'cursor': page['next_cursor']})}"


PERIOD = httpx.QueryParams(
    {"created_from": _at(MONTHS[5], 20).isoformat(), "created_to": _at(MONTHS[1], 3).isoformat()}
)


@postgresql
@pytest.mark.parametrize(
    ("user", "query"),
    [
        ("staff1", ""),  # 东街社区 and staff1's own reports elsewhere, two branches
        ("staff1", "&category=road_damage"),
        ("staff1", "&status=accepted&status=dispatched"),
        ("staff1", f"&{PERIOD}"),
        ("staff1", f"&category=chaotic_parking&{PERIOD}"),
        ("staff1", "&sort=created_at"),  # oldest first: one read, as before
        ("staff2", ""),  # sparse
        ("supervisor2", ""),
        ("supervisor2", "&status=accepted"),
        ("admin", ""),
        ("admin", f"&{PERIOD}"),
    ],
)
async def test_pages_across_the_windows_edge_are_those_of_one_unbounded_read(
    user: str,
    query: str,
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    cases: dict[str, list[uuid.UUID]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = await login(user)
    walks: dict[int, list[dict[str, Any]]] = {}
    with page_statements(app) as sent:
        for limit in (1, 2, 3, 5):
            walks[limit] = await _walk(client, headers, f"/api/v1/reports?limit={limit}{query}")
    if "sort" not in query:  # some page did read below its window
        assert len(sent) > sum(len(pages) for pages in walks.values()), query
    with monkeypatch.context() as patched:
        patched.setattr(NewestMonthsFirst, "spans", lambda self, cursor: [[]])
        for limit, pages in walks.items():
            unbounded = await _walk(client, headers, f"/api/v1/reports?limit={limit}{query}")
            assert pages == unbounded, limit
    assert sum(len(page["ids"]) for page in walks[1]) > 3, walks[1]


@postgresql
async def test_a_sparse_communitys_newest_page_spans_many_months(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    cases: dict[str, list[uuid.UUID]],
) -> None:
    """北街社区 filed nothing in the window's two months: the page is read below it, whole."""
    headers = await login("staff2")
    with page_statements(app) as sent:
        first = (await client.get("/api/v1/reports?limit=3", headers=headers)).json()
    newest_first = [str(case) for case in cases["north"]]  # filed newest first
    assert [item["id"] for item in first["items"]] == newest_first[:3]
    assert len(sent) == 2  # the empty window, then the months below it
    cursor = httpx.QueryParams({"cursor": first["next_cursor"]})
    rest = (await client.get(f"/api/v1/reports?limit=3&{cursor}", headers=headers)).json()
    assert [item["id"] for item in rest["items"]] == newest_first[3:]
    assert rest["next_cursor"] is None


def _least(bound: ColumnElement[bool]) -> Any:
    """The value a bound of ``spans`` compares the key with."""
    assert isinstance(bound, BinaryExpression)
    assert isinstance(bound.right, BindParameter)
    return bound.right.value


def test_the_window_is_the_pages_month_and_the_one_before() -> None:
    window = NewestMonthsFirst(KeyFollowsTime(Report.id), Report.created_at, NOW)
    for cursor, start in [
        (None, MONTHS[1].start()),  # a first page: now's month and the one before
        (_at(MONTHS[3], 5), MONTHS[4].start()),
        (MONTHS[3].start(), MONTHS[4].start()),  # at a month's first moment: that month's
    ]:
        inside, below = window.spans(cursor)
        assert [_least(inside[0]), _least(below[0])] == [id_floor(start)] * 2
        assert _least(below[1]) == start


def test_a_period_within_the_window_is_read_at_once() -> None:
    inside = NewestMonthsFirst(
        KeyFollowsTime(Report.id), Report.created_at, NOW, _at(MONTHS[1], 2), _at(MONTHS[0], 9)
    )
    assert inside.spans(None) == [[]]
    # A period ending at a month's start: its window is the two months before that.
    ending = NewestMonthsFirst(
        KeyFollowsTime(Report.id), Report.created_at, NOW, MONTHS[6].start(), MONTHS[2].start()
    )
    assert [_least(bound[0]) for bound in ending.spans(None)] == [id_floor(MONTHS[4].start())] * 2
    assert ending.spans(_at(MONTHS[5], 9)) == [[]]


def test_a_window_needs_a_key_made_at_its_rows_time() -> None:
    with pytest.raises(ValueError, match="made at its row's time"):
        NewestMonthsFirst(KeyFollowsTime(Report.id, exactly=False), Report.created_at, NOW)
