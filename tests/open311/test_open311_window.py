"""Which requests a list holds: by default those of the last 90 days; a window of at most 90
days otherwise (only a start: the 90 days after it; only an end: the 90 days before it); ids
regardless of dates. At most 1,000 a page, newest first, walked with ``page`` and
``page_size``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.models import Report
from app.models.ids import id_at
from tests.conftest import LoginFn
from tests.open311.conftest import (
    BASE,
    FORMATS,
    file_case,
    numbers,
    open311_errors,
    requests_json,
    w3c,
    xml_ok,
)
from tests.reports.conftest import SubmitFn

CHINA = ZoneInfo("Asia/Shanghai")
LONG_AGO = timedelta(days=100)


def w3c_param(moment: datetime) -> str:
    """A window's bound as a client writes it: China time, whole seconds, ``+08:00``."""
    return moment.astimezone(CHINA).replace(microsecond=0).isoformat()


async def _filed_long_ago(app: FastAPI, login: LoginFn, submit: SubmitFn) -> tuple[str, datetime]:
    """A case filed 100 days ago (the app's clock moved back for it): its number and time."""
    await login("courier1")  # tokens are signed at the real time: sign in first
    real_clock = app.state.clock
    then = datetime.now(UTC) - LONG_AGO
    app.state.clock = FrozenClock(then)
    try:
        report = await file_case(submit, description="百天前的乱停车")
    finally:
        app.state.clock = real_clock
    return report["number"], then


async def test_the_default_window_is_the_last_90_days(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    old, then = await _filed_long_ago(app, login, submit)
    new = (await file_case(submit))["number"]
    now = datetime.now(UTC) + timedelta(seconds=1)  # after the case, in whole seconds

    assert numbers(await requests_json(client)) == [new]
    around_then = {"start_date": w3c_param(then - timedelta(days=1))}
    around_then["end_date"] = w3c_param(then + timedelta(days=1))
    assert numbers(await requests_json(client, **around_then)) == [old]
    # Only a start: the 90 days after it (not up to now).
    assert numbers(await requests_json(client, start_date=around_then["start_date"])) == [old]
    # Only an end: the 90 days before it.
    assert numbers(await requests_json(client, end_date=around_then["end_date"])) == [old]
    assert numbers(await requests_json(client, end_date=w3c_param(now))) == [new]
    # Exactly 90 days is allowed; in UTC ("Z") as well.
    ninety = {"start_date": w3c_param(now - timedelta(days=90)), "end_date": w3c_param(now)}
    assert numbers(await requests_json(client, **ninety)) == [new]
    utc = {"end_date": now.replace(microsecond=0).isoformat().replace("+00:00", "Z")}
    assert numbers(await requests_json(client, **utc)) == [new]
    # Ids override the window.
    listed = await requests_json(client, service_request_id=f"{old},{new}", **ninety)
    assert set(numbers(listed)) == {old, new}
    assert w3c(listed[numbers(listed).index(old)]["requested_datetime"]) < now - timedelta(days=99)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-04-01T00:00:01+08:00"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00"},
        {"end_date": "2026-01-01T00:00:00"},
        {"start_date": "2026-01-01"},
        {"end_date": "yesterday"},
    ],
    ids=["a day over 90", "5 months", "start without zone", "end without zone", "date", "word"],
)
async def test_a_window_over_90_days_or_a_time_without_zone_is_refused(
    client: httpx.AsyncClient, fmt: str, params: dict[str, str]
) -> None:
    response = await client.get(f"{BASE}/requests.{fmt}", params=params)
    open311_errors(response, 400, fmt)


async def _copies(session: AsyncSession, report_id: str, count: int) -> list[str]:
    """``count`` copies of a filed case written straight to the database, each a minute older
    than the one before, the first a minute older than the case: their numbers, newest first."""
    original = await session.get(Report, uuid.UUID(report_id))
    assert original is not None
    columns = {
        attribute.key: getattr(original, attribute.key)
        for attribute in inspect(Report).column_attrs
    }
    day = original.number.split("-")[1]
    rows = [
        {
            **columns,
            "id": id_at(original.created_at - timedelta(minutes=1 + i)),
            "number": f"SSP-{day}-{900000 + i:06d}",
            "created_at": original.created_at - timedelta(minutes=1 + i),
            "updated_at": original.created_at - timedelta(minutes=1 + i),
        }
        for i in range(count)
    ]
    await session.execute(insert(Report), rows)
    await session.commit()
    return [row["number"] for row in rows]


async def test_pages_walk_the_list_newest_first(
    client: httpx.AsyncClient, submit: SubmitFn, session: AsyncSession
) -> None:
    report = await file_case(submit)
    expected = [report["number"], *await _copies(session, report["id"], 4)]
    assert numbers(await requests_json(client)) == expected

    pages = [await requests_json(client, page=n, page_size=2) for n in (1, 2, 3, 4)]
    assert [numbers(page) for page in pages] == [expected[:2], expected[2:4], expected[4:], []]
    assert numbers(await requests_json(client, page_size=2)) == expected[:2]  # page 1
    root = xml_ok(await client.get(f"{BASE}/requests.xml", params={"page": 2, "page_size": 3}))
    shown = [request.findtext("service_request_id") for request in root]
    assert shown == expected[3:]


async def test_a_page_holds_at_most_a_thousand(
    client: httpx.AsyncClient, submit: SubmitFn, session: AsyncSession
) -> None:
    report = await file_case(submit)
    await _copies(session, report["id"], 1010)
    total = await session.scalar(select(func.count()).select_from(Report))
    assert total == 1011

    first = await requests_json(client)
    assert len(first) == 1000
    assert first[0]["service_request_id"] == report["number"]
    times = [w3c(request["requested_datetime"]) for request in first]
    assert times == sorted(times, reverse=True)
    second = await requests_json(client, page=2)
    assert len(second) == 11
    assert set(numbers(first)).isdisjoint(numbers(second))
    assert w3c(second[0]["requested_datetime"]) <= times[-1]
    assert len(await requests_json(client, page=2, page_size=1000)) == 11
    assert await requests_json(client, page=3) == []
