"""The world the authorisation matrix calls into: one cloned demo database per test process,
signed-in callers for every role, standing objects in three places (东街社区, the callers' own;
头道桥社区, a sibling township's; 东风社区, in a county made for the test that no role but the
administrator reaches), and factories for the objects an action uses up: cases, jobs, people,
places, and the points store's rewards and purchases and the micro-wishes.

Access tokens are minted as ``POST /auth/token`` mints them (a login row and a JWT), without
going through the password check: that endpoint is a row of the matrix like any other, and a
world signs in a score of accounts. The calls come from a public address, not loopback, so that
``/metrics`` answers as it would to the internet.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message

from app.core import security
from app.core.config import Settings
from app.demo.seed import demo_id
from app.main import create_app
from app.models import (
    AuthSession,
    Community,
    OutboxEvent,
    PointsEntry,
    RefreshToken,
    User,
    WebhookDelivery,
    Wish,
)
from app.models.enums import DeliveryStatus
from app.points.schemas import PointsRule
from tests.conftest import DEMO_PASSWORD, make_test_settings

API = "/api/v1"
# Where the matrix's calls come from: an address of the public internet (TEST-NET-2).
CALLER_ADDRESS = ("198.51.100.20", 51000)
# Webhooks reach public addresses only; an address literal needs no resolver.
WEBHOOK_URL = "https://93.184.215.14/suishoupai"
OTHER_WEBHOOK_URL = "https://93.184.215.15/changed"

# The demo account behind each role of the matrix ("key" is a dashboard key of the banner).
ROLE_USERS: Mapping[str, str] = {
    "admin": "admin",
    "supervisor": "supervisor",
    "supervisor2": "supervisor2",
    "viewer": "viewer",
    "staff1": "staff1",
    "grid1": "grid1",
    "unit1": "unit1",
    "unit3": "unit3",
    "courier1": "courier1",
    "resident1": "resident1",
}
# Demo accounts that only help to build things: couriers asking to check in, and the staff and
# a courier of 头道桥社区.
HELPER_USERS = ("courier3", "courier4", "courier5", "courier7", "courier8", "courier6", "staff5")
# Couriers who may ask to check in anywhere the matrix needs (none has asked the places yet).
CHECK_IN_COURIERS = ("courier3", "courier4", "courier5", "courier7", "courier8")

CITY = demo_id("region", "巴彦淖尔市")
BANNER = demo_id("region", "杭锦后旗")
SHANBA = demo_id("region", "陕坝镇")
EAST_STREET = demo_id("community", "陕坝镇", "东街社区")
EAST_STREET_POINT = (40.8436, 107.1499)
UNIT_1 = demo_id("unit", "旗农牧和科技局")
UNIT_3 = demo_id("unit", "旗交通运输局")
SF_EXPRESS = demo_id("courier_company", "顺丰速运")
SF_SHANBA_BRANCH = demo_id("courier_branch", "顺丰速运", "顺丰速运杭锦后旗营业部")
PENDING_EAST_STREET_CHECK_IN = demo_id("check_in", "courier11", "东街社区")

# 头道桥社区, of 头道桥镇: the banner's, not 陕坝镇's (supervisor2's).
TOUDAOQIAO = demo_id("community", "头道桥镇", "头道桥社区")

# The county outside everyone's reach but the administrator's: 磴口县 of the same city, which
# the demo leaves out. Its community's square lies 50 km from the banner's communities.
FAR_POINT = (40.3300, 107.0000)
FAR_BOUNDARY = {
    "type": "Polygon",
    "coordinates": [
        [[106.99, 40.32], [107.01, 40.32], [107.01, 40.34], [106.99, 40.34], [106.99, 40.32]]
    ],
}
# Where test-made communities with a boundary go: far from every point a report is filed at.
REMOTE_LNG, REMOTE_LAT = 100.0, 30.0

CATEGORY = "chaotic_parking"

# The points store: what a test reward costs and how many are on hand, and the points its buyers
# (each place's volunteer) are given, as earned there before this month: enough for every
# purchase the matrix makes, and this month's caps stay as the rest of the world leaves them.
REWARD_PRICE = 1
REWARD_STOCK = 1000
BUYERS_POINTS = 1000
POINTS_EARNED_DAYS_AGO = 40
# The actions that take a new micro-wish (submitted) to confirmed, in order.
WISH_ACTIONS = ("publish", "claim", "fulfil", "confirm")

# Calls in flight at once: fewer than the app's pooled connections (ten on PostgreSQL).
IN_FLIGHT = 8


def tiny_jpeg() -> bytes:
    """A small real photo: the photo pipeline checks content, and a small one is quick."""
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), (120, 90, 60)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


PHOTO = tiny_jpeg()


def photo_files(count: int = 1) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", (f"photo{i}.jpg", PHOTO, "image/jpeg")) for i in range(count)]


@dataclass(frozen=True)
class Place:
    """One side of the matrix: the place of its objects and who works there."""

    name: str
    community: uuid.UUID
    township: uuid.UUID
    county: uuid.UUID
    point: tuple[float, float]
    unit: uuid.UUID  # the unit its cases are whistled to
    unit_role: str  # the staff of that unit
    reporter: str  # who files its reports (a role or a helper account)
    staff: str  # who triages them, runs its shelf and reviews its wishes
    whistler: str  # who calls its unit
    # Who posts its micro-wishes (None: its staff, for a resident without an account).
    resident: str | None = None
    # A person of the community with points earned there: claims its wishes, buys on its shelf.
    volunteer: str | None = None


@dataclass
class Base:
    """The standing objects of each place, made once per world: a case whistled to the place's
    unit, its photo and job, a person and a pending check-in, a reward on the community's shelf
    and a published micro-wish; for 东街社区 and 东风社区 also a webhook of the unit with a
    parked delivery, a unit, a courier branch and a purchase of the reward by the place's
    volunteer."""

    report: dict[str, str] = field(default_factory=dict)
    photo: dict[str, str] = field(default_factory=dict)
    job: dict[str, str] = field(default_factory=dict)
    webhook: dict[str, str] = field(default_factory=dict)
    delivery: dict[str, str] = field(default_factory=dict)
    user: dict[str, str] = field(default_factory=dict)
    check_in: dict[str, str] = field(default_factory=dict)
    unit: dict[str, str] = field(default_factory=dict)
    branch: dict[str, str] = field(default_factory=dict)
    reward: dict[str, str] = field(default_factory=dict)
    redemption: dict[str, str] = field(default_factory=dict)
    wish: dict[str, str] = field(default_factory=dict)
    done_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Answer:
    """What one call answered: enough to classify it and to say what happened."""

    status: int
    code: str | None
    body: Any


class SetupFailed(AssertionError):
    """Building an object the matrix needs did not work: the test cannot say anything."""


class World:
    def __init__(self, app: FastAPI, settings: Settings, client: httpx.AsyncClient) -> None:
        self.app = app
        self.settings = settings
        self.client = client
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}}
        self.places: dict[str, Place] = {}
        self.staff_id: dict[str, str] = {}  # the community staff member of each place
        self.base = Base()
        self._names = itertools.count(1)
        # Beyond the pool, every call would open (and close) a connection of its own.
        self._in_flight = asyncio.Semaphore(IN_FLIGHT)
        self._check_in_couriers: dict[str, set[str]] = {}
        self._integration_cases: dict[str, str] = {}

    # --- making the world ---------------------------------------------------------------

    @classmethod
    async def build(cls, database_url: str, workdir: Path) -> World:
        settings = make_test_settings(database_url, workdir)
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app, client=CALLER_ADDRESS)
        client = httpx.AsyncClient(transport=transport, base_url="http://test")
        world = cls(app, settings, client)
        try:
            await world._sign_in(*ROLE_USERS, *HELPER_USERS)
            await world._build_places()
            await world._build_base()
        except BaseException:
            await world.close()
            raise
        return world

    async def close(self) -> None:
        await self.client.aclose()
        self.app.state.photo_pool.shutdown()
        await self.app.state.engine.dispose()

    async def login_row(self, username: str) -> uuid.UUID:
        """A new login (session) of a demo account, as signing in would record it."""
        session_id = uuid.uuid4()
        async with self.app.state.sessionmaker() as db:
            db.add(
                AuthSession(
                    id=session_id,
                    user_id=await self._user_id(db, username),
                    created_at=datetime.now(UTC),
                    client_address=CALLER_ADDRESS[0],
                )
            )
            await db.commit()
        return session_id

    async def _user_id(self, db: AsyncSession, username: str) -> uuid.UUID:
        user_id = await db.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise SetupFailed(f"no user {username}")
        return uuid.UUID(str(user_id))

    async def bearer(self, username: str) -> dict[str, str]:
        """The Authorization header of a new login of ``username``."""
        session_id = await self.login_row(username)
        async with self.app.state.sessionmaker() as db:
            user_id = await self._user_id(db, username)
        token, _ = security.create_access_token(
            self.settings, user_id, session_id, datetime.now(UTC)
        )
        return {"Authorization": f"Bearer {token}"}

    async def refresh_token(self, username: str) -> str:
        """An unused refresh token of a new login of ``username``."""
        session_id = await self.login_row(username)
        token = security.new_refresh_token()
        now = datetime.now(UTC)
        async with self.app.state.sessionmaker() as db:
            db.add(
                RefreshToken(
                    session_id=session_id,
                    token_hash=security.sha256_hex(token),
                    issued_at=now,
                    expires_at=now + timedelta(days=1),
                )
            )
            await db.commit()
        return token

    async def _sign_in(self, *usernames: str) -> None:
        for username in usernames:
            role = next((r for r, u in ROLE_USERS.items() if u == username), username)
            self.headers[role] = await self.bearer(username)
        key = await self.ok(
            "admin",
            "POST",
            f"{API}/api-keys",
            json={"name": "大屏-杭锦后旗", "region_id": str(BANNER)},
        )
        self.headers["key"] = {"Authorization": f"Bearer {key['key']}"}

    async def _build_places(self) -> None:
        far = await self._build_far_county()
        self.staff_id = {
            "in": str(demo_id("user", "staff1")),
            "out": far["farstaff"],
            "near": str(demo_id("user", "staff5")),
        }
        self.places = {
            "in": Place(
                name="东街社区",
                community=EAST_STREET,
                township=SHANBA,
                county=BANNER,
                point=EAST_STREET_POINT,
                unit=UNIT_1,
                unit_role="unit1",
                reporter="courier1",
                staff="staff1",
                whistler="staff1",
                resident="resident1",
                volunteer="courier1",
            ),
            "out": Place(
                name="东风社区",
                community=uuid.UUID(far["community"]),
                township=uuid.UUID(far["township"]),
                county=uuid.UUID(far["county"]),
                point=FAR_POINT,
                unit=UNIT_3,
                unit_role="unit3",
                reporter="farstaff",
                staff="farstaff",
                whistler="admin",
                resident="farresident",
                volunteer="farvolunteer",
            ),
            "near": Place(
                name="头道桥社区",
                community=TOUDAOQIAO,
                township=demo_id("region", "头道桥镇"),
                county=BANNER,
                point=await self._centre_of(TOUDAOQIAO),
                unit=UNIT_3,
                unit_role="unit3",
                reporter="courier6",
                staff="staff5",
                whistler="staff5",
            ),
        }

    async def _build_far_county(self) -> dict[str, str]:
        """磴口县, its township 巴彦高勒镇 and its community 东风社区 with its people, signed in:
        a staff member, a resident and a volunteer. The ids, by kind of place and by username."""
        county = await self.ok(
            "admin",
            "POST",
            f"{API}/regions",
            json={"name": "磴口县", "code": "150822", "parent_id": str(CITY)},
        )
        township = await self.ok(
            "admin",
            "POST",
            f"{API}/regions",
            json={"name": "巴彦高勒镇", "code": "150822100", "parent_id": county["id"]},
        )
        community = await self.ok(
            "admin",
            "POST",
            f"{API}/communities",
            json={"name": "东风社区", "region_id": township["id"], "boundary": FAR_BOUNDARY},
        )
        ids = {"county": county["id"], "township": township["id"], "community": community["id"]}
        there = {"scope_id": community["id"]}
        people = (
            ("farstaff", "东风社区工作人员", {"role": "community_staff", **there}),
            ("farresident", "东风社区居民", {"role": "reporter"}),
            ("farvolunteer", "东风社区志愿者", {"role": "volunteer", **there}),
        )
        for username, display_name, role in people:
            person = await self.ok(
                "admin",
                "POST",
                f"{API}/users",
                json={
                    "username": username,
                    "display_name": display_name,
                    "password": DEMO_PASSWORD,
                    "roles": [role],
                },
            )
            self.headers[username] = await self.bearer(username)
            ids[username] = person["id"]
        return ids

    async def _centre_of(self, community_id: uuid.UUID) -> tuple[float, float]:
        async with self.app.state.sessionmaker() as db:
            community = await db.get(Community, community_id)
        if community is None or community.center_lat is None or community.center_lng is None:
            raise SetupFailed(f"the demo has no community {community_id} with a centre")
        return community.center_lat, community.center_lng

    async def _build_base(self) -> None:
        await asyncio.gather(
            *(self._build_base_of(scope) for scope in self.places),
            *(self._build_programmes_of(scope) for scope in self.places),
        )
        # Lists of reports are read up to here: what actions make later does not crowd them.
        await asyncio.sleep(0.002)
        self.base.done_at = datetime.now(UTC)

    async def _build_base_of(self, scope: str) -> None:
        base, place = self.base, self.places[scope]
        report = await self.report(scope, "dispatched")
        base.report[scope] = report["id"]
        base.photo[scope] = report["photos"][0]["id"]
        base.job[scope] = report["jobs"][0]["id"]
        if scope == "near":
            base.user[scope] = self.staff_id[scope]
            base.check_in[scope] = (await self.check_in(scope))["id"]
            return
        webhook = await self.ok(
            place.unit_role, "POST", f"{API}/webhooks", json={"url": WEBHOOK_URL, "events": ["*"]}
        )
        base.webhook[scope] = webhook["id"]
        base.delivery[scope] = await self.parked_delivery(webhook["id"], report["id"])
        if scope == "in":
            base.user[scope] = (await self.new_user(scope, "grid_worker"))["id"]
            base.unit[scope] = str(UNIT_1)
            base.branch[scope] = str(SF_SHANBA_BRANCH)
            base.check_in[scope] = str(PENDING_EAST_STREET_CHECK_IN)
        else:
            base.user[scope] = (await self.new_user(scope, "community_staff"))["id"]
            base.unit[scope] = (await self.new_unit(scope))["id"]
            base.branch[scope] = (await self.new_branch(scope))["id"]
            base.check_in[scope] = (await self.check_in(scope))["id"]

    async def _build_programmes_of(self, scope: str) -> None:
        """The place's points store and micro-wishes: a reward on its shelf, a published wish;
        where the place has a volunteer, their points and a purchase of the reward."""
        base, place = self.base, self.places[scope]
        base.reward[scope] = (await self.reward(scope))["id"]
        base.wish[scope] = (await self.wish(scope, "published"))["id"]
        if place.volunteer is not None:
            await self.give_points(place.volunteer, place.community, BUYERS_POINTS)
            base.redemption[scope] = (await self.redemption(scope))["id"]

    async def parked_delivery(self, webhook_id: str, report_id: str) -> str:
        """A delivery the worker gave up on, as the retry endpoint expects one: the worker does
        not run in the tests, so it is written as the worker would have left it."""
        delivery_id = uuid.uuid4()
        async with self.app.state.sessionmaker() as db:
            event = (
                await db.execute(
                    select(OutboxEvent.id, OutboxEvent.created_at)
                    .where(OutboxEvent.report_id == uuid.UUID(report_id))
                    .order_by(OutboxEvent.id)
                    .limit(1)
                )
            ).one()
            db.add(
                WebhookDelivery(
                    id=delivery_id,
                    webhook_id=uuid.UUID(webhook_id),
                    event_id=event.id,
                    event_created_at=event.created_at,
                    status=DeliveryStatus.parked,
                    attempts=self.settings.webhook_max_attempts,
                    last_status_code=503,
                    last_error="http_status",
                )
            )
            await db.commit()
        return str(delivery_id)

    async def integration_case(self, scope: str) -> str:
        """A case of the place filed through Open311 by a filing key of its county, with a
        contact: its id. Made on first use."""
        if scope not in self._integration_cases:
            place = self.places[scope]
            key = await self.request(
                "admin",
                "POST",
                "/api/v1/api-keys",
                json={
                    "name": self.name("接入方"),
                    "region_id": str(place.county),
                    "may_file": True,
                },
            )
            lat, lng = place.point
            filed = await self.client.post(
                "/open311/v2/requests.json",
                data={
                    "api_key": key.body["key"],
                    "service_code": "piled_rubbish",
                    "lat": str(lat),
                    "long": str(lng),
                    "phone": "13800138000",
                },
            )
            assert filed.status_code == 200, filed.text
            number = filed.json()[0]["service_request_id"]
            found = await self.request("admin", "GET", "/api/v1/reports", params={"q": number})
            self._integration_cases[scope] = found.body["items"][0]["id"]
        return self._integration_cases[scope]

    # --- calling ------------------------------------------------------------------------

    def number(self) -> int:
        """A number nobody used yet in this world."""
        return next(self._names)

    def name(self, stem: str) -> str:
        """A name nobody used yet in this world."""
        return f"{stem}{self.number()}"

    async def headers_of_new_login(self, role: str) -> dict[str, str]:
        """The role's Authorization header on a login of its own (for calls that end it); a
        dashboard key or an anonymous caller has no login to make."""
        if role not in ROLE_USERS:
            return self.headers[role]
        return await self.bearer(ROLE_USERS[role])

    async def request(
        self,
        role: str,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> Answer:
        """One call as ``role`` (``url``: the whole path, /api/v1 included); ``headers`` add to
        or replace the role's."""
        sent = {**self.headers[role], **(headers or {})}
        if stream:
            return await self._stream_start(url, sent)
        async with self._in_flight:
            response = await self.client.request(method, url, headers=sent, **kwargs)
        body: Any = None
        if response.content and "json" in response.headers.get("content-type", ""):
            body = response.json()
        code = body.get("code") if isinstance(body, dict) else None
        return Answer(response.status_code, code, body)

    async def ok(self, role: str, method: str, path: str, **kwargs: Any) -> Any:
        """A call that must succeed: the world cannot be built otherwise. Objects are built
        side by side; PostgreSQL may give one of two racing requests up (409
        ``conflict_retry``), and the API asks to send it again then."""
        for _ in range(5):
            answer = await self.request(role, method, path, **kwargs)
            if answer.code != "conflict_retry":
                break
            await asyncio.sleep(0.05)
        if not 200 <= answer.status < 300:
            raise SetupFailed(f"{role} {method} {path}: {answer.status} {answer.body}")
        return answer.body

    async def _stream_start(self, url: str, headers: Mapping[str, str]) -> Answer:
        """The status of a streamed answer, read as soon as it starts; then the client goes
        away (the test transport would wait for an endless stream to end)."""
        started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        gone = asyncio.Event()
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": url,
            "raw_path": url.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"test"), *raw_headers],
            "client": CALLER_ADDRESS,
            "server": ("test", 80),
        }
        body_sent = False
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        first_chunk = asyncio.Event()

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start" and not started.done():
                started.set_result(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                first_chunk.set()
                if not message.get("more_body", False):
                    gone.set()

        task = asyncio.create_task(self.app(scope, receive, send))
        try:
            status = await asyncio.wait_for(asyncio.shield(started), timeout=10)
            # The first chunk: the stream is then waiting for events, not in the middle of
            # a query that leaving would cut off.
            await asyncio.wait_for(first_chunk.wait(), timeout=10)
            if status >= 300:
                await asyncio.wait_for(gone.wait(), timeout=10)
        finally:
            gone.set()
            try:
                await asyncio.wait_for(task, timeout=10)
            except TimeoutError:
                task.cancel()
        body: Any = None
        code = None
        if status >= 300 and chunks:
            body = json.loads(b"".join(chunks))
            code = body.get("code")
        return Answer(status, code, body)

    # --- factories: objects an action may use up ----------------------------------------

    async def submit(self, scope: str, role: str | None = None) -> dict[str, Any]:
        place = self.places[scope]
        lat, lng = place.point
        return dict(
            await self.ok(
                role or place.reporter,
                "POST",
                f"{API}/reports",
                data={
                    "category_code": CATEGORY,
                    "description": "巷口乱停车，消防车进不去",
                    "lat": str(lat),
                    "lng": str(lng),
                },
                files=photo_files(),
            )
        )

    async def report(self, scope: str, status: str) -> dict[str, Any]:
        """A new case of the place, brought to ``status`` the ordinary way."""
        place = self.places[scope]
        report = await self.submit(scope)
        rid = report["id"]
        if status == "submitted":
            return report
        report = dict(await self.ok(place.staff, "POST", f"{API}/reports/{rid}/accept", json={}))
        if status == "accepted":
            return report
        if status == "dispatched":
            return dict(
                await self.ok(
                    place.whistler,
                    "POST",
                    f"{API}/reports/{rid}/whistle",
                    json={"unit_ids": [str(place.unit)]},
                )
            )
        if status == "on_hold":
            return dict(
                await self.ok(
                    "admin", "POST", f"{API}/reports/{rid}/hold", json={"reason": "冬季停工"}
                )
            )
        report = await self.ok(place.staff, "POST", f"{API}/reports/{rid}/start", json={})
        if status == "in_progress":
            return dict(report)
        report = await self.ok(
            place.staff,
            "POST",
            f"{API}/reports/{rid}/resolve",
            data={"note": "已处理"},
            files=photo_files(),
        )
        if status == "resolved":
            return dict(report)
        report = await self.ok(
            place.staff, "POST", f"{API}/reports/{rid}/verify", data={"passed": "true"}
        )
        if status == "closed":
            return dict(report)
        raise SetupFailed(f"no way to a {status} report")

    async def job(self, scope: str, status: str = "pending", *, extension: bool = False) -> str:
        """A new job of the place's unit on a new case of the place."""
        report = await self.report(scope, "dispatched")
        job_id = str(report["jobs"][0]["id"])
        unit = self.places[scope].unit_role
        if status == "accepted":
            await self.ok(unit, "POST", f"{API}/jobs/{job_id}/accept", json={})
        if extension:
            until = (datetime.now(UTC) + timedelta(days=60)).isoformat()
            await self.ok(
                unit,
                "POST",
                f"{API}/jobs/{job_id}/extension",
                json={"until": until, "reason": "材料未到"},
            )
        return job_id

    async def new_user(self, scope: str, role: str) -> dict[str, Any]:
        """A person with ``role`` in the place's community (made by the administrator)."""
        return dict(
            await self.ok(
                "admin",
                "POST",
                f"{API}/users",
                json={
                    "username": self.name(f"person{scope}"),
                    "display_name": "测试人员",
                    "password": DEMO_PASSWORD,
                    "roles": [{"role": role, "scope_id": str(self.places[scope].community)}],
                },
            )
        )

    async def new_unit(self, scope: str) -> dict[str, Any]:
        return dict(
            await self.ok(
                "admin",
                "POST",
                f"{API}/units",
                json={
                    "name": self.name("测试单位"),
                    "kind": "department",
                    "region_id": str(self.places[scope].county),
                },
            )
        )

    async def new_branch(self, scope: str) -> dict[str, Any]:
        return dict(
            await self.ok(
                "admin",
                "POST",
                f"{API}/courier-branches",
                json={
                    "company_id": str(SF_EXPRESS),
                    "name": self.name("顺丰速运测试网点"),
                    "region_id": str(self.places[scope].township),
                },
            )
        )

    async def new_region(self, scope: str) -> dict[str, Any]:
        """An empty township in the place's county."""
        return dict(
            await self.ok(
                "admin",
                "POST",
                f"{API}/regions",
                json={"name": self.name("测试镇"), "parent_id": str(self.places[scope].county)},
            )
        )

    async def new_community(self, scope: str) -> dict[str, Any]:
        """An empty community of the place's township, with no boundary: routing never picks
        it, so it takes no report from the place's own community."""
        return dict(
            await self.ok(
                "admin",
                "POST",
                f"{API}/communities",
                json={"name": self.name("测试社区"), "region_id": str(self.places[scope].township)},
            )
        )

    async def new_grid(self, scope: str) -> dict[str, Any]:
        return dict(
            await self.ok(
                "admin",
                "POST",
                f"{API}/communities/{self.places[scope].community}/grids",
                json={"name": self.name("测试网格")},
            )
        )

    async def new_pairing(self, scope: str) -> dict[str, Any]:
        """A pairing of the place's community with a new unit of its county."""
        unit = await self.new_unit(scope)
        return dict(
            await self.ok(
                "admin",
                "POST",
                f"{API}/communities/{self.places[scope].community}/pairings",
                json={"unit_id": unit["id"], "category_codes": ["street_light_failure"]},
            )
        )

    async def check_in(self, scope: str) -> dict[str, Any]:
        """A pending check-in with the place's community, of a helper courier who has none
        there yet."""
        used = self._check_in_couriers.setdefault(scope, set())
        courier = next(c for c in CHECK_IN_COURIERS if c not in used)
        used.add(courier)
        return dict(
            await self.ok(
                courier,
                "POST",
                f"{API}/communities/{self.places[scope].community}/check-ins",
                json={"note": "新接手片区投递"},
            )
        )

    async def new_webhook(self, scope: str) -> dict[str, Any]:
        unit = self.places[scope].unit
        return dict(
            await self.ok(
                "admin",
                "POST",
                f"{API}/webhooks",
                json={"url": WEBHOOK_URL, "events": ["*"], "unit_id": str(unit)},
            )
        )

    async def reward(self, scope: str) -> dict[str, Any]:
        """A new reward on the place's shelf, put up by its staff."""
        place = self.places[scope]
        return dict(
            await self.ok(
                place.staff,
                "POST",
                f"{API}/rewards",
                json={
                    "name": self.name("环保购物袋"),
                    "description": "社区定制",
                    "points_price": REWARD_PRICE,
                    "stock": REWARD_STOCK,
                    "community_id": str(place.community),
                },
            )
        )

    async def redemption(self, scope: str) -> dict[str, Any]:
        """A new purchase of the place's standing reward by its volunteer (pending, its code
        not yet shown at the shop)."""
        volunteer = self.volunteer_of(scope)
        return dict(
            await self.ok(
                volunteer,
                "POST",
                f"{API}/redemptions",
                json={"reward_id": self.base.reward[scope]},
            )
        )

    def volunteer_of(self, scope: str) -> str:
        volunteer = self.places[scope].volunteer
        if volunteer is None:
            raise SetupFailed(f"{self.places[scope].name} has no volunteer in the matrix")
        return volunteer

    async def give_points(self, username: str, community: uuid.UUID, points: int) -> None:
        """Points ``username`` earned in ``community`` (an accepted report's award, as the
        service records one) before this month: its shelf is then in their sight."""
        async with self.app.state.sessionmaker() as db:
            db.add(
                PointsEntry(
                    user_id=await self._user_id(db, username),
                    rule=PointsRule.accepted.value,
                    points=points,
                    points_before_cap=points,
                    community_id=community,
                    created_at=datetime.now(UTC) - timedelta(days=POINTS_EARNED_DAYS_AGO),
                )
            )
            await db.commit()

    async def upload(self, role: str) -> str:
        """A photo uploaded by ``role`` ahead of what it is for: its id."""
        upload = await self.ok(
            role, "POST", f"{API}/uploads", files=[("file", ("photo.jpg", PHOTO, "image/jpeg"))]
        )
        return str(upload["id"])

    async def wish(
        self, scope: str, status: str, *, resident_silent: bool = False
    ) -> dict[str, Any]:
        """A new micro-wish of the place, brought to ``status`` the ordinary way: posted by its
        resident (or by its staff, for a resident without an account), published by its staff,
        claimed and fulfilled (with a photo) by its volunteer, confirmed by its resident.
        ``resident_silent``: fulfilled so long ago that the resident's time to confirm is over,
        and its staff may confirm it for them."""
        place = self.places[scope]
        body = {
            "community_id": str(place.community),
            "title": self.name("微心愿"),
            "address": "3号楼2单元401",
        }
        if place.resident is None:
            body |= {"resident_name": "王秀英", "phone": "13804781234"}
        wish = dict(
            await self.ok(place.resident or place.staff, "POST", f"{API}/wishes", json=body)
        )
        for action in WISH_ACTIONS:
            if wish["status"] == status:
                return wish
            wish = await self._wish_step(scope, wish["id"], action)
            if action == "fulfil" and resident_silent:
                await self._fulfilled_long_ago(wish["id"])
        if wish["status"] != status:
            raise SetupFailed(f"no way to a {status} wish")
        return wish

    async def _wish_step(self, scope: str, wish_id: str, action: str) -> dict[str, Any]:
        place = self.places[scope]
        if action == "publish":
            actor = place.staff
        elif action == "confirm":
            actor = place.resident or place.staff
        else:
            actor = self.volunteer_of(scope)
        body = (
            {"photo_id": await self.upload(actor), "note": "已完成"} if action == "fulfil" else {}
        )
        return dict(await self.ok(actor, "POST", f"{API}/wishes/{wish_id}/{action}", json=body))

    async def _fulfilled_long_ago(self, wish_id: str) -> None:
        """As if the wish had been fulfilled a day longer ago than its resident has to confirm."""
        days = self.settings.wish_confirm_days + 1
        async with self.app.state.sessionmaker() as db:
            wish = await db.get(Wish, uuid.UUID(wish_id))
            if wish is None or wish.fulfilled_at is None:
                raise SetupFailed(f"wish {wish_id} is not fulfilled")
            wish.fulfilled_at = datetime.now(UTC) - timedelta(days=days)
            await db.commit()
