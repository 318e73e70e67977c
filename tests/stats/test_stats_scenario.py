"""The statistics of one fixed scenario, every figure worked out by hand from docs/product.md
("What the dashboards measure", "Deadlines and lights", "The working calendar").

Fourteen cases driven through the API with a frozen clock, at moments chosen on purpose, in late
August 2026 (no public holiday: working hours are 09:00–12:00 and 13:00–18:00 China time, Monday
to Friday; "wh" below). Two categories of the demo, one of each kind of hours:

- 井盖 ``manhole_cover``: accept within 2, resolve within 24 **calendar** hours;
- 路灯 ``street_light_failure``: accept within 24, resolve within 40 **working** hours.

Two communities of 陕坝镇: 东街社区 (staff1, grid worker grid1) and 北街社区 (staff2). Two units,
both paired with 东街社区: AGRI 旗农牧和科技局 (unit1) and SCIENCE 旗科协 (unit4). The counted
period is the cases filed from Mon 24 Aug 00:00 to Wed 2 Sep 00:00 (China time); the statistics
are read on Fri 4 Sep at 12:00 (NOW). Each case, China time (Aug unless "Sep"):

P  井盖 东街, resident1. Filed Fri 21 10:00, accepted 10:30 (resolve due Sat 22 10:30), started;
   resolved Mon 24 09:00 (late), closed 10:00. Filed before the period: in no sheet, but its
   closure is in the series of closures (the series counts by the time of the event).
C  井盖 东街, grid1. Filed Mon 24 08:00 (accept due 10:00), accepted 09:00 (1 h; resolve due Tue
   25 09:00), started 09:30; ON HOLD Mon 24 12:00 – Wed 26 12:00 (48 h: due moves to Thu 27
   09:00); resolved Wed 26 18:00, closed 19:00 (normal). To resolve: 57 h − 48 h held = 9 h.
   Rated unsatisfied.
G  井盖 东街, resident1. Filed Mon 24 10:00 (accept due 12:00), REJECTED 11:00.
I  路灯 东街, grid1. Filed Mon 24 14:00 (accept due Thu 27 14:00), accepted 15:00 (1 wh;
   resolve due Mon 31 15:00). Whistled 15:30 to SCIENCE (accept due Thu 27 15:30), which
   DECLINES Tue 25 10:00 (unclear_ownership): back to accepted. Whistled 10:30 to AGRI (accept
   due Fri 28 10:30), accepted 11:00 (0.5 wh; complete due Tue Sep 1 11:00); AGRI asks for
   more time Fri 28 10:00 until Thu Sep 3 18:00, GRANTED 11:00; completes Wed Sep 2 10:00 (on
   time by the extension): the case is RESOLVED (late) and stays so, not yet verified.
   To resolve: Mon 3 + 5 × 8 + Tue Sep 1 8 + Wed 1 = 52 wh. Job: 47 wh of 62 allowed.
B  路灯 东街, courier1. Filed Tue 25 11:30 (accept due Fri 28 11:30), accepted 13:30 ACROSS THE
   LUNCH BREAK (0.5 + 0.5 = 1 wh; resolve due Tue Sep 1 13:30), started 14:00; ON HOLD Tue 25
   16:00 – Wed 26 10:00 (18 calendar hours, 2 + 1 = 3 wh: due moves to Tue Sep 1 16:30);
   resolved Wed 26 15:00, closed 16:00 (normal). To resolve: 4.5 + 5 = 9.5 wh − 3 wh held
   = 6.5 wh. Rated basically satisfied.
D  井盖 东街, resident1. Filed Tue 25 20:00 (accept due 22:00), accepted 21:00 (1 h; resolve due
   Wed 26 21:00). Whistled 21:30 to SCIENCE (accept due 23:30), accepted 22:30 (1 h; complete
   due Wed 26 22:30); SCIENCE asks for more time Wed 26 20:00 until Thu 27 12:00, REFUSED
   21:00; completes Thu 27 10:30, LATE (36 h of 24 allowed): resolved late, closed 11:00
   (closure overdue). To resolve: 37.5 h. Rated satisfied.
E  路灯 东街, grid1. Filed Wed 26 09:00 (accept due Fri 28 18:00), accepted 09:30 (0.5 wh;
   resolve due Wed Sep 2 09:30). Whistled 10:00 to AGRI (accept due Mon 31 10:00), accepted
   11:00 (1 wh; complete due Wed Sep 2 11:00), completes Thu 27 11:00: resolved; verification
   FAILS 14:00 (rework: the job is accepted again, complete due Thu Sep 3 14:00); AGRI completes
   again Fri 28 10:00, closed 11:00 (normal). To resolve: 7.5 + 8 + 1 = 16.5 wh. Job: from the
   acceptance to the last completion 6 + 8 + 1 = 15 wh, of 50 allowed (to the deadline in
   force). Rated basically satisfied.
F  井盖 东街, courier1. Filed Thu 27 08:00 (accept due 10:00), accepted 08:30 (0.5 h), started,
   resolved 12:00, closed 13:00 (normal), rated unsatisfied 15:00, REOPENED Fri 28 09:00
   (resolve due Sat 29 09:00), started 09:10: in progress and overdue now.
L  井盖 北街, resident1. Filed Thu 27 16:00 (accept due 18:00), accepted 17:45 (1.75 h; resolve
   due Fri 28 17:45), ON HOLD Fri 28 09:00 and still.
A  路灯 东街, resident1. Filed FRIDAY EVENING Fri 28 19:00 (accept due Wed Sep 2 18:00), accepted
   MONDAY Mon 31 10:00 (1 wh; resolve due Mon Sep 7 10:00). Whistled 10:30 to AGRI (accept due
   Thu Sep 3 10:30), accepted 11:00 (0.5 wh; complete due Mon Sep 7 11:00), completes Tue Sep 1
   15:00 (11 wh of 40): resolved, closed 16:00 (normal). To resolve: 7 + 5 = 12 wh. Rated
   satisfied.
H  路灯 东街, courier1. Filed Mon 31 07:30 (Sunday 23:30 in UTC; accept due Wed Sep 2 18:00),
   marked a DUPLICATE of A 10:05.
M  井盖 东街, grid1. Filed Mon 31 14:00 (accept due 16:00), accepted 14:30 (0.5 h; resolve due
   Tue Sep 1 14:30). Whistled 15:00 to SCIENCE (lead) and AGRI (assisting), both to answer by
   17:00. AGRI accepts 16:00 (1 h; complete due Tue Sep 1 16:00) and is not done; SCIENCE never
   answers. ESCALATED Tue Sep 1 09:00 to the banner (which owns it since; it is still 东街's
   case and in 陕坝镇). Dispatched and overdue now.
K  路灯 北街, courier2. Filed Mon 31 23:30 (accept due Thu Sep 3 18:00), accepted Tue Sep 1 09:30
   (0.5 wh; resolve due Tue Sep 8 09:30). Whistled 10:00 by the banner's supervisor to AGRI
   (accept due Fri Sep 4 10:00), accepted Wed Sep 2 09:00 (7 wh; complete due Tue Sep 8 18:00).
J  井盖 北街, resident1. Filed Tue Sep 1 00:10 (Monday 16:10 in UTC; accept due 02:10), never
   answered: overdue now.

The overdue sweep runs on Wed 26 at 23:00 (it records D's resolve clock and SCIENCE's completion
clock on D) and at NOW (J's accept clock, F's and M's resolve clocks, SCIENCE's accept clock and
AGRI's completion clock on M).

The statistics are read by the banner's supervisor, who sees every case. Hours are in each
category's kind of hours; p90 is linearly interpolated between the two nearest cases (Excel's
PERCENTILE.INC: rank 0.9 × (n − 1) from 0).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from app.core.clock import FrozenClock
from app.core.workcalendar import CHINA_TZ
from app.demo.seed import demo_id
from app.main import create_app
from app.workflow.overdue import sweep_overdue
from tests.conftest import DEMO_PASSWORD, DatabaseFactory, make_test_settings

API = "/api/v1"
MANHOLE, LIGHT = "manhole_cover", "street_light_failure"
EAST = demo_id("community", "陕坝镇", "东街社区")
NORTH = demo_id("community", "陕坝镇", "北街社区")
SHANBA = demo_id("region", "陕坝镇")
BANNER = demo_id("region", "杭锦后旗")
# WGS-84 points well inside each community's square; every case of a community is filed at its
# point, so each community's cases fall in one cell of the heat map whatever its grid.
EAST_POINT = (40.8436, 107.1499)
NORTH_POINT = (40.8555, 107.1400)
AGRI, SCIENCE = "旗农牧和科技局", "旗科协"
UNIT_STAFF = {AGRI: "unit1", SCIENCE: "unit4"}
UNIT_IDS = {AGRI: demo_id("unit", AGRI), SCIENCE: demo_id("unit", SCIENCE)}
# The banner's other units: its supervisor's sheet lists them with zeros.
IDLE_UNITS = {
    "旗红十字会",
    "旗交通运输局",
    "旗住建局",
    "旗城管执法局",
    "国网杭锦后旗供电公司",
    "杭锦后旗自来水公司",
    "旗消防救援大队",
    "旗市场监督管理局",
}
USERS = (
    "resident1",
    "courier1",
    "courier2",
    "grid1",
    "staff1",
    "staff2",
    "unit1",
    "unit4",
    "supervisor",
    "supervisor2",
    "viewer",
)


def china(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ)


PERIOD_FROM, PERIOD_TO = china(8, 24, 0), china(9, 2, 0)
NOW = china(9, 4, 12)
PERIOD = {"from": PERIOD_FROM.isoformat(), "to": PERIOD_TO.isoformat()}


def tiny_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), (90, 110, 70)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


PHOTO = tiny_jpeg()


def photos() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", ("photo.jpg", PHOTO, "image/jpeg"))]


@dataclass
class Scenario:
    """The cases of the scenario, driven through the API at the frozen clock's moments."""

    app: FastAPI
    client: httpx.AsyncClient
    clock: FrozenClock = field(default_factory=lambda: FrozenClock(china(8, 21, 9)))
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    cases: dict[str, str] = field(default_factory=dict)

    async def sign_in(self) -> None:
        # Tokens are checked against the real time: sign in before the clock is turned back.
        for user in USERS:
            response = await self.client.post(
                f"{API}/auth/token", data={"username": user, "password": DEMO_PASSWORD}
            )
            assert response.status_code == 200, response.text
            self.headers[user] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        self.app.state.clock = self.clock

    @staticmethod
    def _ok(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code in (200, 201), response.text
        body: dict[str, Any] = response.json()
        return body

    async def get(self, path: str, user: str = "supervisor", **params: Any) -> dict[str, Any]:
        return self._ok(
            await self.client.get(f"{API}{path}", params=params, headers=self.headers[user])
        )

    async def file(
        self,
        at: datetime,
        case: str,
        user: str,
        category: str,
        point: tuple[float, float],
        community: Any,
    ) -> None:
        self.clock.at = at
        body = self._ok(
            await self.client.post(
                f"{API}/reports",
                data={
                    "category_code": category,
                    "description": f"案件{case}：井盖或路灯出了问题",
                    "lat": str(point[0]),
                    "lng": str(point[1]),
                },
                files=photos(),
                headers=self.headers[user],
            )
        )
        assert body["community"]["id"] == str(community), body["community"]
        self.cases[case] = body["id"]

    async def act(self, at: datetime, user: str, case: str, action: str, **body: Any) -> None:
        self.clock.at = at
        self._ok(
            await self.client.post(
                f"{API}/reports/{self.cases[case]}/{action}", json=body, headers=self.headers[user]
            )
        )

    async def resolve(self, at: datetime, user: str, case: str) -> None:
        self.clock.at = at
        self._ok(
            await self.client.post(
                f"{API}/reports/{self.cases[case]}/resolve",
                data={"note": "已处理"},
                files=photos(),
                headers=self.headers[user],
            )
        )

    async def verify(self, at: datetime, case: str, *, passed: bool) -> None:
        self.clock.at = at
        self._ok(
            await self.client.post(
                f"{API}/reports/{self.cases[case]}/verify",
                data={"passed": "true" if passed else "false", "note": "现场核查"},
                headers=self.headers["staff1"],
            )
        )

    async def whistle(self, at: datetime, user: str, case: str, *units: str) -> None:
        await self.act(at, user, case, "whistle", unit_ids=[str(UNIT_IDS[u]) for u in units])

    async def _job_id(self, case: str, unit: str) -> str:
        listed = await self.get("/jobs", report_id=self.cases[case])
        (job,) = [j for j in listed["items"] if j["unit"]["name"] == unit]
        job_id: str = job["id"]
        return job_id

    async def job(
        self, at: datetime, user: str, case: str, unit: str, action: str, **body: Any
    ) -> None:
        job_id = await self._job_id(case, unit)
        self.clock.at = at
        self._ok(
            await self.client.post(
                f"{API}/jobs/{job_id}/{action}", json=body, headers=self.headers[user]
            )
        )

    async def complete(self, at: datetime, case: str, unit: str) -> None:
        job_id = await self._job_id(case, unit)
        self.clock.at = at
        self._ok(
            await self.client.post(
                f"{API}/jobs/{job_id}/complete",
                data={"note": "已办结"},
                files=photos(),
                headers=self.headers[UNIT_STAFF[unit]],
            )
        )

    async def sweep(self, at: datetime) -> None:
        self.clock.at = at
        calendar = await self.app.state.calendar.current()
        await sweep_overdue(self.app.state.sessionmaker, at, calendar, self.app.state.settings)


async def week_before(s: Scenario) -> None:
    await s.file(china(8, 21, 10), "P", "resident1", MANHOLE, EAST_POINT, EAST)
    await s.act(china(8, 21, 10, 30), "staff1", "P", "accept")
    await s.act(china(8, 21, 10, 40), "staff1", "P", "start")


async def monday_24(s: Scenario) -> None:
    await s.file(china(8, 24, 8), "C", "grid1", MANHOLE, EAST_POINT, EAST)
    await s.resolve(china(8, 24, 9), "grid1", "P")
    await s.act(china(8, 24, 9), "staff1", "C", "accept")
    await s.act(china(8, 24, 9, 30), "staff1", "C", "start")
    await s.verify(china(8, 24, 10), "P", passed=True)
    await s.file(china(8, 24, 10), "G", "resident1", MANHOLE, EAST_POINT, EAST)
    await s.act(china(8, 24, 11), "staff1", "G", "reject", reason="照片看不出井盖问题")
    await s.act(china(8, 24, 12), "supervisor", "C", "hold", reason="需更换整套井座，等待配件")
    await s.file(china(8, 24, 14), "I", "grid1", LIGHT, EAST_POINT, EAST)
    await s.act(china(8, 24, 15), "staff1", "I", "accept")
    await s.whistle(china(8, 24, 15, 30), "staff1", "I", SCIENCE)


async def tuesday_25(s: Scenario) -> None:
    await s.job(
        china(8, 25, 10),
        "unit4",
        "I",
        SCIENCE,
        "decline",
        reason_code="unclear_ownership",
        reason="路灯产权不明",
    )
    await s.whistle(china(8, 25, 10, 30), "staff1", "I", AGRI)
    await s.job(china(8, 25, 11), "unit1", "I", AGRI, "accept")
    await s.file(china(8, 25, 11, 30), "B", "courier1", LIGHT, EAST_POINT, EAST)
    await s.act(china(8, 25, 13, 30), "staff1", "B", "accept")
    await s.act(china(8, 25, 14), "staff1", "B", "start")
    await s.act(china(8, 25, 16), "supervisor", "B", "hold", reason="等待电力部门停电检修")
    await s.file(china(8, 25, 20), "D", "resident1", MANHOLE, EAST_POINT, EAST)
    await s.act(china(8, 25, 21), "staff1", "D", "accept")
    await s.whistle(china(8, 25, 21, 30), "staff1", "D", SCIENCE)
    await s.job(china(8, 25, 22, 30), "unit4", "D", SCIENCE, "accept")


async def wednesday_26(s: Scenario) -> None:
    await s.file(china(8, 26, 9), "E", "grid1", LIGHT, EAST_POINT, EAST)
    await s.act(china(8, 26, 9, 30), "staff1", "E", "accept")
    await s.act(china(8, 26, 10), "supervisor", "B", "resume")
    await s.whistle(china(8, 26, 10), "staff1", "E", AGRI)
    await s.job(china(8, 26, 11), "unit1", "E", AGRI, "accept")
    await s.act(china(8, 26, 12), "supervisor", "C", "resume")
    await s.resolve(china(8, 26, 15), "grid1", "B")
    await s.verify(china(8, 26, 16), "B", passed=True)
    await s.act(china(8, 26, 17), "courier1", "B", "rate", satisfaction="basically_satisfied")
    await s.resolve(china(8, 26, 18), "grid1", "C")
    await s.verify(china(8, 26, 19), "C", passed=True)
    await s.act(china(8, 26, 20), "grid1", "C", "rate", satisfaction="unsatisfied")
    until = china(8, 27, 12).isoformat()
    await s.job(
        china(8, 26, 20), "unit4", "D", SCIENCE, "extension", until=until, reason="夜间无法施工"
    )
    await s.job(china(8, 26, 21), "staff1", "D", SCIENCE, "extension/refuse", note="井盖须当天恢复")
    await s.sweep(china(8, 26, 23))


async def thursday_27(s: Scenario) -> None:
    await s.file(china(8, 27, 8), "F", "courier1", MANHOLE, EAST_POINT, EAST)
    await s.act(china(8, 27, 8, 30), "staff1", "F", "accept")
    await s.act(china(8, 27, 8, 40), "staff1", "F", "start")
    await s.complete(china(8, 27, 10, 30), "D", SCIENCE)
    await s.verify(china(8, 27, 11), "D", passed=True)
    await s.complete(china(8, 27, 11), "E", AGRI)
    await s.act(china(8, 27, 12), "resident1", "D", "rate", satisfaction="satisfied")
    await s.resolve(china(8, 27, 12), "grid1", "F")
    await s.verify(china(8, 27, 13), "F", passed=True)
    await s.verify(china(8, 27, 14), "E", passed=False)
    await s.act(china(8, 27, 15), "courier1", "F", "rate", satisfaction="unsatisfied")
    await s.file(china(8, 27, 16), "L", "resident1", MANHOLE, NORTH_POINT, NORTH)
    await s.act(china(8, 27, 17, 45), "staff2", "L", "accept")


async def friday_28(s: Scenario) -> None:
    await s.act(china(8, 28, 9), "staff1", "F", "reopen", reason="井盖又松动了")
    await s.act(china(8, 28, 9), "supervisor", "L", "hold", reason="道路改造，井盖随工程更换")
    await s.act(china(8, 28, 9, 10), "staff1", "F", "start")
    await s.complete(china(8, 28, 10), "E", AGRI)
    until = china(9, 3, 18).isoformat()
    await s.job(china(8, 28, 10), "unit1", "I", AGRI, "extension", until=until, reason="灯杆需更换")
    await s.job(china(8, 28, 11), "staff1", "I", AGRI, "extension/grant")
    await s.verify(china(8, 28, 11), "E", passed=True)
    await s.act(china(8, 28, 12), "grid1", "E", "rate", satisfaction="basically_satisfied")
    await s.file(china(8, 28, 19), "A", "resident1", LIGHT, EAST_POINT, EAST)


async def next_week(s: Scenario) -> None:
    await s.file(china(8, 31, 7, 30), "H", "courier1", LIGHT, EAST_POINT, EAST)
    await s.act(china(8, 31, 10), "staff1", "A", "accept")
    await s.act(china(8, 31, 10, 5), "staff1", "H", "mark-duplicate", duplicate_of=s.cases["A"])
    await s.whistle(china(8, 31, 10, 30), "staff1", "A", AGRI)
    await s.job(china(8, 31, 11), "unit1", "A", AGRI, "accept")
    await s.file(china(8, 31, 14), "M", "grid1", MANHOLE, EAST_POINT, EAST)
    await s.act(china(8, 31, 14, 30), "staff1", "M", "accept")
    await s.whistle(china(8, 31, 15), "staff1", "M", SCIENCE, AGRI)
    await s.job(china(8, 31, 16), "unit1", "M", AGRI, "accept")
    await s.file(china(8, 31, 23, 30), "K", "courier2", LIGHT, NORTH_POINT, NORTH)
    await s.file(china(9, 1, 0, 10), "J", "resident1", MANHOLE, NORTH_POINT, NORTH)
    await s.act(china(9, 1, 9), "staff1", "M", "escalate", reason="旗科协未报到，请旗里督办")
    await s.act(china(9, 1, 9, 30), "staff2", "K", "accept")
    await s.whistle(china(9, 1, 10), "supervisor", "K", AGRI)
    await s.complete(china(9, 1, 15), "A", AGRI)
    await s.verify(china(9, 1, 16), "A", passed=True)
    await s.act(china(9, 1, 17), "resident1", "A", "rate", satisfaction="satisfied")
    await s.job(china(9, 2, 9), "unit1", "K", AGRI, "accept")
    await s.complete(china(9, 2, 10), "I", AGRI)
    await s.sweep(NOW)


@pytest.fixture(scope="module")
async def scenario(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Scenario]:
    """The scenario played once on its own clone of the demo database; the tests only read."""
    url = await database_factory.clone_template()
    app = create_app(make_test_settings(url, tmp_path_factory.mktemp("stats_scenario")))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            played = Scenario(app, client)
            await played.sign_in()
            for day in (week_before, monday_24, tuesday_25, wednesday_26, thursday_27):
                await day(played)
            await friday_28(played)
            await next_week(played)
            assert played.clock.at == NOW
            yield played
    finally:
        app.state.photo_pool.shutdown()
        await app.state.engine.dispose()
        await database_factory.drop(url)


MISSING = object()


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, int | float):
        return bool(actual == pytest.approx(expected, rel=1e-9, abs=1e-9))
    return bool(actual == expected)


def differences(actual: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """Every field whose value is not the expected one, as ``field: (actual, expected)``; a
    field missing on either side shows as such."""
    keys = actual.keys() | expected.keys()
    return {
        key: (actual.get(key, MISSING), expected.get(key, MISSING))
        for key in sorted(keys)
        if not _same(actual.get(key, MISSING), expected.get(key, MISSING))
    }


def without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


def counted(mapping: dict[str, int]) -> dict[str, int]:
    """A count per key without the zeros (a sheet may list them or leave them out)."""
    return {key: value for key, value in mapping.items() if value}


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_period(body: dict[str, Any], start: datetime, end: datetime) -> None:
    assert (at(body["period"]["from"]), at(body["period"]["to"])) == (start, end)


# ---------------------------------------------------------------------------------------------
# The case measures. Of the thirteen cases filed in the period (P is not), now:
#   closed: A B C E (normal), D (overdue) · in progress: F (reopened) · resolved: I
#   dispatched: K M · on hold: L · submitted: J · rejected: G · duplicate: H
# Accepted (立案) ever: A B C D E F I K L M; whistled: A D E I K M; never dispatched: B C F L.
# Due to close: the accepted, not on hold (not L), resolved or closed (A B C D E I) or past the
# resolve deadline (F: Sat 29 09:00, M: Tue Sep 1 14:30; not K: Tue Sep 8) = 8.
# Ratings: satisfied A D; basically satisfied B E; unsatisfied C F.
# Hours to accept: A 1, B 1, C 1, D 1, E 0.5, F 0.5, I 1, K 0.5, L 1.75, M 0.5.
# Hours to resolve (resolved or closed): A 12, B 6.5, C 9, D 37.5, E 16.5, I 52 (F reopened
# and in progress: not counted).
# ---------------------------------------------------------------------------------------------

SUMMARY_MEASURES: dict[str, Any] = {
    "total": 13,
    "open": 6,  # F I J K L M
    "overdue_open": 3,  # J (accept), F and M (resolve); L is on hold, I resolved, K not due
    "due_to_close": 8,  # A B C D E I F M
    "closed": 5,  # A B C D E
    "closed_on_time": 4,  # A B C E; D was resolved after its deadline
    "closure_rate": 5 / 8,
    "on_time_closure_rate": 4 / 8,
    "reworks": 1,  # E's failed verification
    "rework_rate": 1 / 8,
    "response_due": 13,  # J's deadline came; the twelve others were answered before theirs
    "responded_on_time": 12,  # all but J (G rejected and H marked duplicate in time)
    "response_rate": 12 / 13,
    "resolved": 6,  # A B C D E closed, I resolved; F (reopened) and M not
    "resolution_rate": 6 / 8,
    "ratings": 6,
    "satisfied": 2,
    "basically_satisfied": 2,
    "unsatisfied": 2,
    "satisfaction_rate": (2 + 0.9 * 2) / 6,  # 3.8 / 6
    # 0.1 × 12/13 + 0.5 × 0.75 + 0.4 × 3.8/6, the weights summing to 1
    "score": 0.1 * 12 / 13 + 0.5 * 6 / 8 + 0.4 * 3.8 / 6,
    "accepted": 10,
    "handled_by_community": 4,  # B C F L
    "whistled": 6,  # A D E I K M
    "whistled_share": 6 / 10,
    "self_resolved": 0,
    "mean_hours_to_accept": 8.75 / 10,  # 1+1+1+1+0.5+0.5+1+0.5+1.75+0.5
    "mean_hours_to_resolve": 133.5 / 6,  # 12+6.5+9+37.5+16.5+52 = 22.25
}


async def test_the_summary_counts_the_cases_filed_in_the_period(scenario: Scenario) -> None:
    body = await scenario.get("/stats/summary", **PERIOD)

    assert_period(body, PERIOD_FROM, PERIOD_TO)
    measures = without(body, "period", "counts_by_status", "hours_to_accept", "hours_to_resolve")
    assert differences(measures, SUMMARY_MEASURES) == {}
    assert counted(body["counts_by_status"]) == {
        "closed": 5,  # A B C D E
        "in_progress": 1,  # F
        "resolved": 1,  # I
        "dispatched": 2,  # K M
        "on_hold": 1,  # L
        "submitted": 1,  # J
        "rejected": 1,  # G
        "duplicate": 1,  # H
    }


async def test_hours_to_accept_and_to_resolve_in_each_category_s_kind_of_hours(
    scenario: Scenario,
) -> None:
    body = await scenario.get("/stats/summary", **PERIOD)

    # Sorted: 0.5 0.5 0.5 0.5 1 1 1 1 1 1.75; rank 0.9 × 9 = 8.1: 1 + 0.1 × (1.75 − 1).
    # A (Friday 19:00 to Monday 10:00) took 1 working hour, B (11:30 to 13:30 over the lunch
    # break) 1, K (Monday 23:30 to Tuesday 09:30) 0.5.
    assert differences(body["hours_to_accept"], {"count": 10, "mean": 0.875, "p90": 1.075}) == {}
    # Sorted: 6.5 9 12 16.5 37.5 52; rank 0.9 × 5 = 4.5: 37.5 + 0.5 × (52 − 37.5).
    # B: 9.5 working hours less the 3 it was held; C: 57 calendar hours less the 48 held;
    # E: until its final resolution; F, reopened and not resolved again, is left out.
    assert differences(body["hours_to_resolve"], {"count": 6, "mean": 22.25, "p90": 44.75}) == {}


# SCIENCE had a job on I (declined), D and M: the cases a unit filter, and its staff, count.
SCIENCE_CASES_MEASURES: dict[str, Any] = {
    "total": 3,
    "open": 2,  # I (resolved), M
    "overdue_open": 1,  # M
    "due_to_close": 3,  # I resolved, D closed, M past its resolve deadline
    "closed": 1,
    "closed_on_time": 0,  # D's closure is overdue
    "closure_rate": 1 / 3,
    "on_time_closure_rate": 0.0,
    "reworks": 0,
    "rework_rate": 0.0,
    "response_due": 3,
    "responded_on_time": 3,
    "response_rate": 1.0,
    "resolved": 2,  # I, D
    "resolution_rate": 2 / 3,
    "ratings": 1,
    "satisfied": 1,
    "basically_satisfied": 0,
    "unsatisfied": 0,
    "satisfaction_rate": 1.0,
    "score": 0.1 * 1 + 0.5 * 2 / 3 + 0.4 * 1,
    "accepted": 3,
    "handled_by_community": 0,
    "whistled": 3,
    "whistled_share": 1.0,
    "self_resolved": 0,
    "mean_hours_to_accept": 2.5 / 3,  # I 1 wh, D 1 h, M 0.5 h
    "mean_hours_to_resolve": 89.5 / 2,  # I 52 wh, D 37.5 h
}


def measures_of(body: dict[str, Any]) -> dict[str, Any]:
    return without(body, "period", "counts_by_status", "hours_to_accept", "hours_to_resolve")


async def test_a_unit_filter_counts_the_cases_it_has_a_job_on(scenario: Scenario) -> None:
    body = await scenario.get("/stats/summary", unit_id=str(UNIT_IDS[SCIENCE]), **PERIOD)

    assert differences(measures_of(body), SCIENCE_CASES_MEASURES) == {}
    assert counted(body["counts_by_status"]) == {"resolved": 1, "closed": 1, "dispatched": 1}
    # 0.5 1 1: rank 1.8 → 1 + 0.8 × 0; 37.5 52: rank 0.9 → 37.5 + 0.9 × 14.5.
    assert differences(body["hours_to_accept"], {"count": 3, "mean": 2.5 / 3, "p90": 1.0}) == {}
    assert differences(body["hours_to_resolve"], {"count": 2, "mean": 44.75, "p90": 50.55}) == {}


async def test_the_period_takes_in_its_first_moment_and_not_its_last(scenario: Scenario) -> None:
    # From C's filing (Mon 24 08:00) to H's (Mon 31 07:30): C G I B D E F L A.
    body = await scenario.get(
        "/stats/summary",
        **{"from": china(8, 24, 8).isoformat(), "to": china(8, 31, 7, 30).isoformat()},
    )

    assert body["total"] == 9
    assert counted(body["counts_by_status"]) == {
        "closed": 5,  # A B C D E
        "in_progress": 1,  # F
        "resolved": 1,  # I
        "on_hold": 1,  # L
        "rejected": 1,  # G
    }


async def test_without_a_period_the_last_30_days_up_to_now_are_counted(
    scenario: Scenario,
) -> None:
    body = await scenario.get("/stats/summary")

    # From Wed 5 Aug 12:00: P (Fri 21) too, and every case since.
    assert_period(body, china(8, 5, 12), NOW)
    assert body["total"] == 14
    assert counted(body["counts_by_status"])["closed"] == 6  # P A B C D E


# ---------------------------------------------------------------------------------------------
# By community and by category.
# ---------------------------------------------------------------------------------------------

EAST_MEASURES: dict[str, Any] = {
    # A B C D E F G H I M
    "total": 10,
    "open": 3,  # F I M
    "overdue_open": 2,  # F M
    "due_to_close": 8,  # A B C D E I F M
    "closed": 5,
    "closed_on_time": 4,
    "closure_rate": 5 / 8,
    "on_time_closure_rate": 4 / 8,
    "reworks": 1,
    "rework_rate": 1 / 8,
    "response_due": 10,
    "responded_on_time": 10,
    "response_rate": 1.0,
    "resolved": 6,
    "resolution_rate": 6 / 8,
    "ratings": 6,
    "satisfied": 2,
    "basically_satisfied": 2,
    "unsatisfied": 2,
    "satisfaction_rate": 3.8 / 6,
    "score": 0.1 * 1 + 0.5 * 6 / 8 + 0.4 * 3.8 / 6,
    "accepted": 8,  # A B C D E F I M
    "handled_by_community": 3,  # B C F
    "whistled": 5,  # A D E I M
    "whistled_share": 5 / 8,
    "self_resolved": 0,
    "mean_hours_to_accept": 6.5 / 8,  # A 1, B 1, C 1, D 1, E 0.5, F 0.5, I 1, M 0.5
    "mean_hours_to_resolve": 133.5 / 6,
}

NORTH_MEASURES: dict[str, Any] = {
    # J K L
    "total": 3,
    "open": 3,
    "overdue_open": 1,  # J; L is on hold, K within its deadlines
    "due_to_close": 0,  # L on hold, K not past its resolve deadline
    "closed": 0,
    "closed_on_time": 0,
    "closure_rate": None,
    "on_time_closure_rate": None,
    "reworks": 0,
    "rework_rate": None,
    "response_due": 3,
    "responded_on_time": 2,  # K L
    "response_rate": 2 / 3,
    "resolved": 0,
    "resolution_rate": None,
    "ratings": 0,
    "satisfied": 0,
    "basically_satisfied": 0,
    "unsatisfied": 0,
    "satisfaction_rate": None,
    "score": 2 / 3,  # the response rate alone: 0.1 × 2/3 ÷ 0.1
    "accepted": 2,  # K L
    "handled_by_community": 1,  # L
    "whistled": 1,  # K
    "whistled_share": 1 / 2,
    "self_resolved": 0,
    "mean_hours_to_accept": 2.25 / 2,  # K 0.5 wh, L 1.75 h
    "mean_hours_to_resolve": None,
}

MANHOLE_MEASURES: dict[str, Any] = {
    # C D F G J L M
    "total": 7,
    "open": 4,  # F J L M
    "overdue_open": 3,  # F J M
    "due_to_close": 4,  # C D F M
    "closed": 2,  # C D
    "closed_on_time": 1,  # C
    "closure_rate": 2 / 4,
    "on_time_closure_rate": 1 / 4,
    "reworks": 0,
    "rework_rate": 0.0,
    "response_due": 7,
    "responded_on_time": 6,  # all but J
    "response_rate": 6 / 7,
    "resolved": 2,
    "resolution_rate": 2 / 4,
    "ratings": 3,  # C unsatisfied, D satisfied, F unsatisfied
    "satisfied": 1,
    "basically_satisfied": 0,
    "unsatisfied": 2,
    "satisfaction_rate": 1 / 3,
    "score": 0.1 * 6 / 7 + 0.5 * 2 / 4 + 0.4 * 1 / 3,
    "accepted": 5,  # C D F L M
    "handled_by_community": 3,  # C F L
    "whistled": 2,  # D M
    "whistled_share": 2 / 5,
    "self_resolved": 0,
    "mean_hours_to_accept": 4.75 / 5,  # C 1, D 1, F 0.5, L 1.75, M 0.5 (calendar hours)
    "mean_hours_to_resolve": 46.5 / 2,  # C 9, D 37.5
}

LIGHT_MEASURES: dict[str, Any] = {
    # A B E H I K
    "total": 6,
    "open": 2,  # I K
    "overdue_open": 0,
    "due_to_close": 4,  # A B E I
    "closed": 3,  # A B E
    "closed_on_time": 3,
    "closure_rate": 3 / 4,
    "on_time_closure_rate": 3 / 4,
    "reworks": 1,  # E
    "rework_rate": 1 / 4,
    "response_due": 6,
    "responded_on_time": 6,
    "response_rate": 1.0,
    "resolved": 4,
    "resolution_rate": 1.0,
    "ratings": 3,  # A satisfied, B and E basically satisfied
    "satisfied": 1,
    "basically_satisfied": 2,
    "unsatisfied": 0,
    "satisfaction_rate": 2.8 / 3,
    "score": 0.1 * 1 + 0.5 * 1 + 0.4 * 2.8 / 3,
    "accepted": 5,  # A B E I K
    "handled_by_community": 1,  # B
    "whistled": 4,  # A E I K
    "whistled_share": 4 / 5,
    "self_resolved": 0,
    "mean_hours_to_accept": 4 / 5,  # A 1, B 1, E 0.5, I 1, K 0.5 (working hours)
    "mean_hours_to_resolve": 87 / 4,  # A 12, B 6.5, E 16.5, I 52
}


async def test_the_community_sheet_has_a_row_per_community_largest_first(
    scenario: Scenario,
) -> None:
    body = await scenario.get("/stats/communities", **PERIOD)

    assert_period(body, PERIOD_FROM, PERIOD_TO)
    rows = [row for row in body["items"] if row["total"]]
    assert [row["name"] for row in rows] == ["东街社区", "北街社区"]
    east, north = rows
    place = {"region_id": str(SHANBA)}
    assert (
        differences(east, {**EAST_MEASURES, **place, "community_id": str(EAST), "name": "东街社区"})
        == {}
    )
    assert (
        differences(
            north, {**NORTH_MEASURES, **place, "community_id": str(NORTH), "name": "北街社区"}
        )
        == {}
    )


async def test_the_category_sheet_has_a_row_per_leaf_category_largest_first(
    scenario: Scenario,
) -> None:
    body = await scenario.get("/stats/categories", **PERIOD)

    assert_period(body, PERIOD_FROM, PERIOD_TO)
    rows = [row for row in body["items"] if row["total"]]
    assert [row["category"] for row in rows] == [MANHOLE, LIGHT]
    manhole, light = rows
    parent = {"parent": "component_public_facilities"}
    assert (
        differences(
            manhole, {**MANHOLE_MEASURES, **parent, "category": MANHOLE, "name": "井盖缺失破损"}
        )
        == {}
    )
    assert (
        differences(light, {**LIGHT_MEASURES, **parent, "category": LIGHT, "name": "路灯故障"})
        == {}
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"community_id": str(NORTH)}, NORTH_MEASURES),
        ({"community_id": str(EAST)}, EAST_MEASURES),
        ({"category": LIGHT}, LIGHT_MEASURES),
        # The township's communities' cases, M (owned by the banner since its escalation) too.
        ({"region_id": str(SHANBA)}, SUMMARY_MEASURES),
        # A top class counts its leaves: both categories are 公用设施.
        ({"category": "component_public_facilities"}, SUMMARY_MEASURES),
    ],
    ids=["north-street", "east-street", "street-lights", "township", "top-class"],
)
async def test_a_filtered_summary_measures_what_the_sheet_s_row_does(
    scenario: Scenario, filters: dict[str, str], expected: dict[str, Any]
) -> None:
    body = await scenario.get("/stats/summary", **filters, **PERIOD)

    measures = without(body, "period", "counts_by_status", "hours_to_accept", "hours_to_resolve")
    assert differences(measures, expected) == {}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("viewer", SUMMARY_MEASURES),  # the banner's, as its supervisor
        ("supervisor2", SUMMARY_MEASURES),  # 陕坝镇's: M, escalated to the banner, too
        ("staff1", EAST_MEASURES),
        ("staff2", NORTH_MEASURES),
        ("unit4", SCIENCE_CASES_MEASURES),  # the cases its unit has a job on
    ],
)
async def test_each_caller_counts_the_cases_they_may_see(
    scenario: Scenario, user: str, expected: dict[str, Any]
) -> None:
    body = await scenario.get("/stats/summary", user=user, **PERIOD)

    assert differences(measures_of(body), expected) == {}


# ---------------------------------------------------------------------------------------------
# One sheet per unit. Every job was sent within the period.
# AGRI (旗农牧和科技局), five jobs, all accepted by their accept deadline:
#   I  sent Tue 25 10:30, accepted 11:00 (0.5 wh); due Tue Sep 1 11:00, extended to Thu Sep 3
#      18:00; completed Wed Sep 2 10:00: on time, 47 wh of the 62 from acceptance to deadline.
#   E  sent Wed 26 10:00, accepted 11:00 (1 wh); reworked; completed again Fri 28 10:00 with the
#      deadline then in force Thu Sep 3 14:00: on time, 15 wh of 50.
#   A  sent Mon 31 10:30, accepted 11:00 (0.5 wh); completed Tue Sep 1 15:00: 11 wh of 40.
#   M  (assisting) sent Mon 31 15:00, accepted 16:00 (1 h); due Tue Sep 1 16:00: overdue now.
#   K  sent Tue Sep 1 10:00, accepted Wed Sep 2 09:00 (7 wh); due Tue Sep 8 18:00: on time now.
#   It led I, E, A and K; of those, A was rated satisfied and E basically satisfied.
# SCIENCE (旗科协), three jobs:
#   I  (lead) sent Mon 24 15:30, declined Tue 25 10:00 (unclear_ownership), before its deadline.
#   D  (lead) sent Tue 25 21:30, accepted 22:30 (1 h, on time); asked for more time, refused;
#      completed Thu 27 10:30, 12 h after its deadline Wed 26 22:30: 36 h of 24.
#   M  (lead) sent Mon 31 15:00, never answered; its accept deadline 17:00 has passed.
#   Of the cases it led, D was rated satisfied (I and M are not rated).
# ---------------------------------------------------------------------------------------------

AGRI_ROW: dict[str, Any] = {
    "unit_id": str(UNIT_IDS[AGRI]),
    "name": AGRI,
    "kind": "department",
    "region_id": str(BANNER),
    "received": 5,
    "accepted": 5,
    "accepted_on_time": 5,
    "declined": 0,
    "decline_rate": 0 / 5,
    "extensions_asked": 1,  # on I
    "extensions_granted": 1,
    "completed": 3,  # I E A
    "completed_on_time": 3,
    "completed_late": 0,
    "pending_on_time": 1,  # K
    "overdue_now": 1,  # M
    "reworked": 1,  # E
    "response_due": 5,  # all answered before their deadline
    "response_rate": 5 / 5,
    "completion_due": 4,  # I E A completed, M past its deadline (K is not)
    "completion_rate": 3 / 4,
    "on_time_completion_rate": 3 / 4,
    "mean_hours_to_accept": 10 / 5,  # 0.5 + 1 + 0.5 + 1 + 7
    "mean_hours_to_complete": 73 / 3,  # 47 + 15 + 11
    "mean_share_of_time_used": (47 / 62 + 15 / 50 + 11 / 40) / 3,
    "ratings": 2,  # A, E
    "satisfaction_rate": (1 + 0.9) / 2,
    "score": 0.1 * 1 + 0.5 * 3 / 4 + 0.4 * 0.95,
}

SCIENCE_ROW: dict[str, Any] = {
    "unit_id": str(UNIT_IDS[SCIENCE]),
    "name": SCIENCE,
    "kind": "public_body",
    "region_id": str(BANNER),
    "received": 3,
    "accepted": 1,  # D
    "accepted_on_time": 1,
    "declined": 1,  # I
    "decline_rate": 1 / 3,
    "extensions_asked": 1,  # on D
    "extensions_granted": 0,
    "completed": 1,
    "completed_on_time": 0,
    "completed_late": 1,  # D
    "pending_on_time": 0,
    "overdue_now": 1,  # M, pending past its accept deadline
    "reworked": 0,
    "response_due": 3,  # I answered before its deadline, D too, M's deadline came
    "response_rate": 1 / 3,
    "completion_due": 1,  # D
    "completion_rate": 1 / 1,
    "on_time_completion_rate": 0 / 1,
    "mean_hours_to_accept": 1.0,  # D, calendar hours
    "mean_hours_to_complete": 36.0,  # D: Tue 22:30 to Thu 10:30
    "mean_share_of_time_used": 36 / 24,
    "ratings": 1,  # D
    "satisfaction_rate": 1.0,
    "score": 0.1 * 1 / 3 + 0.5 * 1 + 0.4 * 1,
}


async def test_the_unit_sheet_has_one_row_per_unit_of_the_banner(scenario: Scenario) -> None:
    body = await scenario.get("/stats/units", **PERIOD)

    assert_period(body, PERIOD_FROM, PERIOD_TO)
    rows = {row["name"]: row for row in body["items"]}
    assert rows.keys() == {AGRI, SCIENCE, *IDLE_UNITS}
    agri, science = rows[AGRI], rows[SCIENCE]
    assert counted(agri["declined_by_reason"]) == {}
    assert counted(science["declined_by_reason"]) == {"unclear_ownership": 1}
    assert differences(without(agri, "declined_by_reason"), AGRI_ROW) == {}
    assert differences(without(science, "declined_by_reason"), SCIENCE_ROW) == {}
    for name in IDLE_UNITS:
        idle = rows[name]
        counts = {k: v for k, v in idle.items() if isinstance(v, int) and not isinstance(v, bool)}
        assert set(counts.values()) == {0}, (name, counts)
        rates = ("decline_rate", "response_rate", "completion_rate", "satisfaction_rate", "score")
        assert {idle[rate] for rate in rates} == {None}, (name, idle)
        assert counted(idle["declined_by_reason"]) == {}


async def test_a_unit_s_staff_see_their_own_unit_s_row(scenario: Scenario) -> None:
    body = await scenario.get("/stats/units", user="unit4", **PERIOD)

    (row,) = body["items"]
    assert counted(row["declined_by_reason"]) == {"unclear_ownership": 1}
    assert differences(without(row, "declined_by_reason"), SCIENCE_ROW) == {}


# ---------------------------------------------------------------------------------------------
# Time series: the period is the time of the event; buckets are days, ISO weeks (from Monday)
# and months of China time.
# ---------------------------------------------------------------------------------------------

SERIES_FROM, SERIES_TO = china(8, 24, 0), china(9, 5, 0)


async def series(scenario: Scenario, interval: str, metric: str) -> dict[date, int]:
    body = await scenario.get(
        "/stats/timeseries",
        interval=interval,
        metric=metric,
        **{"from": SERIES_FROM.isoformat(), "to": SERIES_TO.isoformat()},
    )
    assert_period(body, SERIES_FROM, SERIES_TO)
    assert (body["interval"], body["metric"]) == (interval, metric)
    points = {date.fromisoformat(p["start"]): p["count"] for p in body["items"]}
    assert len(points) == len(body["items"])
    return {start: count for start, count in points.items() if count}


async def test_reports_are_counted_on_their_day_of_china_time(scenario: Scenario) -> None:
    assert await series(scenario, "day", "submitted") == {
        date(2026, 8, 24): 3,  # C G I
        date(2026, 8, 25): 2,  # B D
        date(2026, 8, 26): 1,  # E
        date(2026, 8, 27): 2,  # F L
        date(2026, 8, 28): 1,  # A (19:00)
        # H at 07:30 (Sunday 23:30 in UTC), M, and K at 23:30 Beijing time on the 31st
        date(2026, 8, 31): 3,
        date(2026, 9, 1): 1,  # J at 00:10 on the 1st (still the 31st in UTC)
    }


async def test_weeks_start_on_monday_and_months_on_the_first_in_china(scenario: Scenario) -> None:
    # H, filed Monday 31 at 07:30, is in the week of the 31st (in UTC it was still Sunday).
    assert await series(scenario, "week", "submitted") == {
        date(2026, 8, 24): 9,  # C G I B D E F L A
        date(2026, 8, 31): 4,  # H M K J
    }
    # K (23:30 on the 31st) in August; J (00:10 on the 1st) in September.
    assert await series(scenario, "month", "submitted") == {
        date(2026, 8, 1): 12,
        date(2026, 9, 1): 1,
    }


async def test_acceptances_closures_and_overdue_clocks_on_the_day_they_happened(
    scenario: Scenario,
) -> None:
    # The first acceptance: F's reopening does not move it.
    assert await series(scenario, "day", "accepted") == {
        date(2026, 8, 24): 2,  # C I
        date(2026, 8, 25): 2,  # B D
        date(2026, 8, 26): 1,  # E
        date(2026, 8, 27): 2,  # F L (17:45)
        date(2026, 8, 31): 2,  # A M
        date(2026, 9, 1): 1,  # K
    }
    # P, filed before the series' period, was closed in it; F was closed on the 27th (and
    # reopened the day after: the closure happened all the same).
    assert await series(scenario, "day", "closed") == {
        date(2026, 8, 24): 1,  # P
        date(2026, 8, 26): 2,  # B C
        date(2026, 8, 27): 2,  # D F
        date(2026, 8, 28): 1,  # E
        date(2026, 9, 1): 1,  # A
    }
    assert await series(scenario, "day", "overdue") == {
        date(2026, 8, 26): 2,  # the 23:00 sweep: D's resolve clock, SCIENCE's completion on D
        date(2026, 9, 4): 5,  # J accept, F resolve, M resolve, M: SCIENCE accept, AGRI complete
    }


# ---------------------------------------------------------------------------------------------
# Heat map and couriers.
# ---------------------------------------------------------------------------------------------


def _bounds(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    ring = geometry["coordinates"][0]
    lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
    return min(lngs), min(lats), max(lngs), max(lats)


async def test_the_heat_map_has_a_cell_per_place_with_cases(scenario: Scenario) -> None:
    body = await scenario.get(
        "/stats/heatmap", bbox="107.13,40.835,107.165,40.865", cell_m="500", **PERIOD
    )

    assert body["type"] == "FeatureCollection"
    assert body["cell_m"] == 500
    assert_period(body, PERIOD_FROM, PERIOD_TO)
    cells: dict[str, Any] = {}
    for feature in body["features"]:
        assert feature["geometry"]["type"] == "Polygon"
        min_lng, min_lat, max_lng, max_lat = _bounds(feature["geometry"])
        # 500 m is 0.0045° of latitude, and 0.0059° of longitude at 40.85° N.
        assert max_lat - min_lat == pytest.approx(0.00449, rel=0.05)
        assert max_lng - min_lng == pytest.approx(0.00594, rel=0.05)
        for name, (lat, lng) in (("东街", EAST_POINT), ("北街", NORTH_POINT)):
            if min_lng <= lng < max_lng and min_lat <= lat < max_lat:
                cells[name] = feature["properties"]
    assert len(body["features"]) == 2
    # P, filed before the period at 东街's point, is not counted.
    assert cells == {"东街": {"count": 10, "open": 3}, "北街": {"count": 3, "open": 3}}


async def test_courier_companies_and_branches(scenario: Scenario) -> None:
    body = await scenario.get("/stats/couriers", **PERIOD)

    assert_period(body, PERIOD_FROM, PERIOD_TO)
    companies = {row["name"]: row for row in body["items"]}
    # Couriers with an approved check-in (the demo's): 中国邮政 courier3 and courier9, 京东物流
    # courier4 and courier13, 中通快递 courier2 and courier10, the others one each (韵达's and
    # 极兔's second couriers are still waiting).
    assert {name: row["checked_in"] for name, row in companies.items()} == {
        "中国邮政": 2,
        "顺丰速运": 1,
        "京东物流": 2,
        "中通快递": 2,
        "圆通速递": 1,
        "申通快递": 1,
        "韵达快递": 1,
        "极兔速递": 1,
    }
    idle = {"active": 0, "reports": 0, "valid_reports": 0, "points": 0}
    for name in companies.keys() - {"顺丰速运", "中通快递"}:
        assert {k: companies[name][k] for k in idle} == idle, name

    # courier1 (顺丰) filed B and F (accepted: 10 points each; closed: 5 each) and H (a
    # duplicate: nothing); F's reopening pays nothing back or again.
    sf = companies["顺丰速运"]
    sf_figures = {"checked_in": 1, "active": 1, "reports": 3, "valid_reports": 2, "points": 30}
    assert differences(without(sf, "company_id", "name", "branches"), sf_figures) == {}
    assert [without(b, "branch_id") for b in sf["branches"]] == [
        {"name": "顺丰速运杭锦后旗营业部", **sf_figures}
    ]
    # courier2 (中通, its 杭锦后旗分部) filed K, accepted: 10 points; courier10 of its 团结镇
    # branch is checked in and filed nothing.
    zto = companies["中通快递"]
    zto_figures = {"checked_in": 2, "active": 1, "reports": 1, "valid_reports": 1, "points": 10}
    assert differences(without(zto, "company_id", "name", "branches"), zto_figures) == {}
    branches = {b["name"]: without(b, "branch_id", "name") for b in zto["branches"]}
    assert branches == {
        "中通快递杭锦后旗分部": {
            "checked_in": 1,
            "active": 1,
            "reports": 1,
            "valid_reports": 1,
            "points": 10,
        },
        "中通快递团结镇服务点": {"checked_in": 1, **idle},
    }
