"""Two API processes on one database use the same calendar: a change made through one reaches
the other within its refresh interval, with no restart, and its new deadlines follow it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.calendar.cache import CalendarCache
from app.core.clock import FrozenClock
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.main import create_app
from tests.calendar.conftest import SPRING_FESTIVAL_2027, at, china, ok
from tests.reports.conftest import COMMUNITY_1_POINT, photo_bytes

REFRESH_SECONDS = 0.3


async def _token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await http.post(
        "/api/v1/auth/token", data={"username": username, "password": "suishoupai-demo"}
    )
    return {"Authorization": f"Bearer {ok(response)['access_token']}"}


class Process:
    """One API process (an app with its own engine and calendar cache) and a client of it."""

    def __init__(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        self.app, self.http = app, http

    async def day(self, headers: dict[str, str], day: str) -> dict[str, Any]:
        url = f"/api/v1/calendar?from={day}&to={day}"
        return dict(ok(await self.http.get(url, headers=headers))["days"][0])

    async def accept_deadline(self, headers: dict[str, str]) -> datetime:
        response = await self.http.post(
            "/api/v1/reports",
            data={
                "category_code": "chaotic_parking",
                "description": "巷口乱停车",
                "lat": str(COMMUNITY_1_POINT[0]),
                "lng": str(COMMUNITY_1_POINT[1]),
            },
            files=[("photos", ("a.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"))],
            headers=headers,
        )
        (accept,) = [d for d in ok(response, 201)["deadlines"] if d["kind"] == "accept"]
        return at(accept["due_at"])


@pytest.fixture
async def two_processes(
    database_url: str, settings_for: Callable[..., Settings]
) -> AsyncIterator[tuple[Process, Process]]:
    settings = settings_for(database_url, calendar_refresh_seconds=REFRESH_SECONDS)
    apps = [create_app(settings), create_app(settings)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        for app in apps
    ]
    yield Process(apps[0], clients[0]), Process(apps[1], clients[1])
    for app, http in zip(apps, clients, strict=True):
        await http.aclose()
        await app.state.engine.dispose()


async def test_a_change_through_one_process_reaches_the_other(
    two_processes: tuple[Process, Process],
) -> None:
    first, second = two_processes
    admin = await _token(first.http, "admin")
    courier = await _token(second.http, "courier1")
    for process in (first, second):  # both on Friday 5 February 2027, 10:00
        process.app.state.clock = FrozenClock(china(2027, 2, 5, 10, 0))
    assert (await second.day(courier, "2027-02-08"))["source"] == "weekday_rule"
    assert await second.accept_deadline(courier) == china(2027, 2, 10, 10, 0)

    ok(
        await first.http.put(
            "/api/v1/admin/calendar/2027", json={"days": SPRING_FESTIVAL_2027}, headers=admin
        )
    )
    # The process that made the change uses it from its next request on …
    assert (await first.day(admin, "2027-02-08"))["source"] == "override"
    # … the other within its refresh interval, deadlines included.
    await asyncio.sleep(REFRESH_SECONDS + 0.05)
    assert await second.day(courier, "2027-02-08") == {
        "date": "2027-02-08",
        "is_workday": False,
        "source": "override",
        "name": "春节",
    }
    assert await second.accept_deadline(courier) == china(2027, 2, 17, 10, 0)

    # A removal is noticed too (the revision moves; counting rows would not always tell).
    removed = await first.http.delete("/api/v1/admin/calendar/2027-02-08", headers=admin)
    assert removed.status_code == 204
    await asyncio.sleep(REFRESH_SECONDS + 0.05)
    assert (await second.day(courier, "2027-02-08"))["source"] == "weekday_rule"


async def test_a_worker_process_follows_the_calendar(
    database_url: str, two_processes: tuple[Process, Process], settings: Settings
) -> None:
    """The worker keeps its own cache (app/worker.py builds one like this)."""
    first, _ = two_processes
    admin = await _token(first.http, "admin")
    engine = create_engine(settings)
    try:
        worker_calendar = CalendarCache(
            create_sessionmaker(engine), refresh_seconds=REFRESH_SECONDS
        )
        assert (await worker_calendar.current()).is_workday(china(2027, 2, 8).date())
        ok(
            await first.http.put(
                "/api/v1/admin/calendar/2027-02-08",
                json={"is_workday": False, "name": "春节"},
                headers=admin,
            )
        )
        await asyncio.sleep(REFRESH_SECONDS + 0.05)
        calendar = await worker_calendar.current()
        assert not calendar.is_workday(china(2027, 2, 8).date())
        assert calendar.explain(china(2027, 2, 8).date()).name == "春节"
    finally:
        await engine.dispose()
