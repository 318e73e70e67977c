"""A month of work for the demo: cases filed by couriers and the grid worker, accepted,
handled in house or whistled to paired units, verified, rated — or still open, some late —
played through the HTTP API as the demo accounts, on a clock moved from action to action.

Nothing is written around the API: every case has its timeline, jobs, deadlines, points and
events as if people had done the work, so the dashboards, the statistics and the ledger have
something true to show. Seeded (``random.Random``): the same month every time."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from PIL import Image, ImageDraw

from app.core.clock import Clock, FrozenClock
from app.core.config import Settings
from app.core.partitions import make_months
from app.demo.organisation import organisation
from app.demo.plans import Plan, Step, Story
from app.workflow.overdue import sweep_overdue

V1 = "/api/v1"
# The oldest case of the month is filed this many days before now.
DAYS_BACK = 27
# What people report, with what they write: (category, description).
HAZARDS: tuple[tuple[str, str], ...] = (
    ("chaotic_parking", "小区门口车辆乱停，堵住了人行道"),
    ("piled_rubbish", "巷口堆放建筑垃圾，已经好几天了"),
    ("exposed_garbage", "垃圾桶满溢，周围散落垃圾"),
    ("street_light_failure", "路灯不亮，晚上出行不安全"),
    ("manhole_cover", "井盖破损，有行人踩空的危险"),
    ("road_damage", "路面塌陷一个大坑，车辆绕行"),
    ("water_pipe_leak", "自来水管漏水，路面结冰"),
    ("blocked_fire_lane", "消防通道被杂物堵塞"),
    ("illegal_small_ads", "单元门口乱贴小广告"),
)
# Each case's fate and how often it comes.
FATES: tuple[tuple[str, int], ...] = (
    ("closed_in_house", 24),
    ("closed_whistled", 24),
    ("reworked", 6),
    ("declined_then_done", 6),
    ("dispatched", 10),
    ("accepted", 8),
    ("resolved", 5),
    ("submitted", 11),
    ("rejected", 6),
)


def photo_jpeg(seed: int) -> bytes:
    """A plain photo-sized JPEG: a sky, a street and a mark, different for every seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", (960, 720), (rng.randrange(90, 140), 150, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 430, 960, 720), fill=(rng.randrange(80, 120),) * 3)
    x, y = rng.randrange(100, 800), rng.randrange(450, 650)
    draw.ellipse((x, y, x + 90, y + 40), fill=(40, 30, 20))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


class DemoMonth:
    """Plays the month on an app whose clock ``turn_back`` sets (access tokens are checked
    against the real time: everyone signs in first, then the clock is turned back)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        turn_back: Callable[[FrozenClock], None],
        password: str,
        end: datetime,
    ) -> None:
        self.client, self.turn_back, self.password, self.end = client, turn_back, password, end
        self.clock = FrozenClock(end)
        self.rng = random.Random(20261204)
        self.tokens: dict[str, dict[str, str]] = {}
        self.photos = 0

    async def _headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            answer = await self.client.post(
                f"{V1}/auth/token", data={"username": username, "password": self.password}
            )
            answer.raise_for_status()
            self.tokens[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        return self.tokens[username]

    async def _call(self, username: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = await self.client.post(
            f"{V1}{path}", headers=await self._headers(username), **kwargs
        )
        if answer.status_code >= 400:
            raise RuntimeError(f"{username} {path}: {answer.status_code} {answer.text}")
        body: dict[str, Any] = answer.json()
        return body

    def _photos(self) -> list[tuple[str, tuple[str, bytes, str]]]:
        self.photos += 1
        return [("photos", (f"photo{self.photos}.jpg", photo_jpeg(self.photos), "image/jpeg"))]

    async def play(self, cases: int) -> int:
        """Files and works ``cases`` cases over the 28 days before ``end``; the steps of all
        run in time order. Answers how many were filed."""
        places = await self._places()
        for username in _accounts():
            await self._headers(username)
        self.turn_back(self.clock)
        steps: list[Step] = []
        for _ in range(cases):
            steps += self._story(self.rng.choice(places))
        steps.sort(key=lambda step: step.at)
        # A case's later steps would come after today: it stays where it is now.
        for step in steps:
            if step.at <= self.end:
                self.clock.at = step.at
                await step.act()
        return cases

    async def _places(self) -> list[tuple[str, str, float, float]]:
        """(community, its staff account, a point in it) for the communities couriers report in."""
        answer = await self.client.get(
            f"{V1}/communities", params={"limit": 100}, headers=await self._headers("admin")
        )
        answer.raise_for_status()
        staff = {name: f"staff{n}" for n, name in enumerate(sorted(_community_names()), 1)}
        reported = {name for courier in organisation().couriers for name in courier.approved}
        return [
            (c["name"], staff[c["name"]], c["center"]["lat"], c["center"]["lng"])
            for c in answer.json()["items"]
            if c["name"] in reported and c["center"] is not None
        ]

    def _reporter(self, community: str) -> str:
        couriers = [c.username for c in organisation().couriers if community in c.approved]
        if community == sorted(_community_names())[0] and self.rng.random() < 0.3:
            return "grid1"
        return self.rng.choice(couriers)

    def _story(self, place: tuple[str, str, float, float]) -> list[Step]:
        community, staff, lat, lng = place
        category, description = self.rng.choice(HAZARDS)
        story = Story(
            community=community,
            staff=staff,
            reporter=self._reporter(community),
            category=category,
            description=description,
            lat=lat + self.rng.uniform(-0.0015, 0.0015),
            lng=lng + self.rng.uniform(-0.0015, 0.0015),
        )
        fate = self.rng.choices([f for f, _ in FATES], [w for _, w in FATES])[0]
        # Open fates are the recent ones; ended cases had time to end.
        days_back = (
            self.rng.uniform(0.2, 6)
            if fate in ("submitted", "resolved")
            else (self.rng.uniform(1, DAYS_BACK))
        )
        filed = self.end - timedelta(days=days_back)
        return Plan(self, story, filed).steps(fate)


def _accounts() -> list[str]:
    org = organisation()
    staff = [f"staff{n}" for n in range(1, len(_community_names()) + 1)]
    units = [unit.staff_username for unit in org.units]
    return ["grid1", *staff, *units, *(courier.username for courier in org.couriers)]


def _community_names() -> list[str]:
    return [c.name for township in organisation().townships for c in township.communities]


async def play_month(app: FastAPI, settings: Settings, cases: int) -> None:
    """The demo month through ``app``'s API, in process, then one overdue sweep at the real
    now, as the worker would run it. Ends the app's engine and photo threads."""
    now = Clock().now()

    def turn_back(clock: FrozenClock) -> None:
        app.state.clock = clock

    try:
        await app.state.photo_storage.prepare()
        async with app.state.sessionmaker() as session, session.begin():
            # The month's cases are filed in the past: their months' partitions first.
            await make_months(session, now - timedelta(days=DAYS_BACK), now)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            await DemoMonth(client, turn_back, settings.demo_password, now).play(cases)
        calendar = await app.state.calendar.current()
        await sweep_overdue(app.state.sessionmaker, now, calendar, settings)
    finally:
        app.state.photo_pool.shutdown()
        await app.state.engine.dispose()
