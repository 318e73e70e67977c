"""The big screen's lamps: ``/stats/lights`` counts the open cases by the light each case shows
in the case list, at the same moment, for the same caller.

On a frozen clock from Friday 17:00 (China time), fire-lane reports (accept within 2 calendar
hours, resolve within 12) are filed half an hour apart and handled differently; at 19:10 one
has waited past its accept deadline (red), one has used 83 % of it (yellow), one 58 % (green);
one accepted case runs its resolve clock, one was held and resumed (the hold taken out of its
clock), one is resolved and waits for verification (no clock), one was rejected (not open)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.clock import FrozenClock
from app.core.workcalendar import CHINA_TZ
from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.reports.conftest import (
    PHOTOS,
    SubmitFn,
)

FIRE_LANE = "blocked_fire_lane"
FRIDAY_17 = datetime(2026, 12, 11, 17, 0, tzinfo=CHINA_TZ)
PERIOD = {"from": "2026-12-01T00:00:00+08:00", "to": "2026-12-12T00:00:00+08:00"}
PHOTO = ("photo.jpg", (PHOTOS / "Canon_40D.jpg").read_bytes(), "image/jpeg")
OTHER_TOWNSHIP = demo_id("region", "头道桥镇")  # not above staff1's community


def _ok(response: httpx.Response) -> Any:
    assert 200 <= response.status_code < 300, (response.request.url, response.text)
    return response.json()


class Desk:
    """staff1 and the supervisor at work on a clock the test moves."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, submit: SubmitFn) -> None:
        self.app, self.client, self.submit = app, client, submit
        self.clock = FrozenClock(FRIDAY_17)
        self.headers: dict[str, dict[str, str]] = {}

    async def sign_in(self, login: LoginFn) -> None:
        # Tokens are signed at the real time: sign in before the clock is moved.
        for user in ("grid1", "staff1", "supervisor", "viewer"):
            self.headers[user] = await login(user)
        self.app.state.clock = self.clock

    def at(self, minutes: int) -> None:
        self.clock.at = FRIDAY_17 + timedelta(minutes=minutes)

    async def file(self) -> str:
        response = await self.submit("grid1", category_code=FIRE_LANE)
        report_id: str = _ok(response)["id"]
        return report_id

    async def act(self, report_id: str, action: str, user: str = "staff1", **body: Any) -> None:
        url = f"/api/v1/reports/{report_id}/{action}"
        if action == "resolve":
            response = await self.client.post(
                url, data={"note": "已清理"}, files=[("photos", PHOTO)], headers=self.headers[user]
            )
        else:
            response = await self.client.post(url, json=body, headers=self.headers[user])
        _ok(response)

    async def read(self, user: str, path: str, **query: Any) -> Any:
        response = await self.client.get(path, params=query, headers=self.headers[user])
        return _ok(response)


@pytest.fixture
async def desk(app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn) -> Desk:
    desk = Desk(app, client, submit)
    await desk.sign_in(login)
    waited_longest = await desk.file()
    accepted = await desk.file()
    held = await desk.file()
    resolved = await desk.file()
    rejected = await desk.file()
    desk.at(10)
    await desk.act(accepted, "accept")
    await desk.act(held, "accept")
    await desk.act(resolved, "accept")
    await desk.act(rejected, "reject", reason="不属于本社区")
    await desk.act(held, "hold", user="supervisor", reason="等待产权单位确认")
    desk.at(30)
    await desk.file()  # will be yellow: 1 h 40 of 2 h at 19:10
    await desk.act(resolved, "start")
    await desk.act(resolved, "resolve")
    desk.at(60)
    await desk.file()  # will be green: 1 h 10 of 2 h
    await desk.act(held, "resume", user="supervisor")
    desk.at(130)
    assert waited_longest
    return desk


async def _list_lights(desk: Desk, user: str) -> Counter[str | None]:
    """The light of each open case's running clock, as the case list shows it."""
    items = (await desk.read(user, "/api/v1/reports", limit=100))["items"]
    open_statuses = {"submitted", "accepted", "in_progress", "dispatched", "on_hold", "resolved"}
    tally: Counter[str | None] = Counter()
    for item in items:
        if item["status"] in open_statuses:
            running = [d["light"] for d in item["deadlines"] if d["light"] is not None]
            tally[running[0] if running else None] += 1
    return tally


async def test_the_lamps_count_the_lights_the_case_list_shows(desk: Desk) -> None:
    for user in ("staff1", "supervisor", "viewer"):
        lights = await desk.read(user, "/api/v1/stats/lights", **PERIOD)
        tally = await _list_lights(desk, user)
        assert (lights["green"], lights["yellow"], lights["red"], lights["stopped"]) == (
            tally["green"],
            tally["yellow"],
            tally["red"],
            tally[None],
        ), user
        # Every colour is in the scenario, so that a wrong reading cannot hide.
        assert (lights["red"], lights["yellow"], lights["green"]) == (1, 1, 3), lights
        assert lights["stopped"] == 1, lights
        summary = await desk.read(user, "/api/v1/stats/summary", **PERIOD)
        assert lights["open"] == summary["open"] == sum(tally.values()) == 6


async def test_the_lamps_follow_the_clock(desk: Desk) -> None:
    """At 19:55 the case filed at 17:30 is overdue and the one filed at 18:00 has used 96 % of
    its two hours: one more red, one fewer green, still one yellow."""
    before = await desk.read("supervisor", "/api/v1/stats/lights", **PERIOD)
    desk.at(175)
    after = await desk.read("supervisor", "/api/v1/stats/lights", **PERIOD)
    assert after["red"] == before["red"] + 1
    assert after["yellow"] == before["yellow"] == 1
    assert after["green"] == before["green"] - 1
    assert after["open"] == before["open"]


async def test_the_lamps_keep_to_the_callers_places(desk: Desk) -> None:
    """A place outside the caller's scope is not found, never answered with zeros."""
    response = await desk.client.get(
        "/api/v1/stats/lights",
        params={"region_id": str(OTHER_TOWNSHIP), **PERIOD},
        headers=desk.headers["staff1"],
    )
    assert response.status_code == 404, response.text
    grid = await desk.read("grid1", "/api/v1/stats/lights", **PERIOD)
    assert grid["open"] == 6
