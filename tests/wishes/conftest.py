"""Helpers for the micro-wish (微心愿) tests: wishes posted and moved through the API by the demo
people (and people made for a test), and what the database holds read back fresh.

The cast: resident1 posts wishes to 东街社区 (EAST), staff1 reviews them, courier1 (checked in
with 东街社区) claims and fulfils them; grid1 is another volunteer of 东街社区; staff2 is the
staff of 北街社区 (NORTH), courier3 a courier checked in with 北街社区 and 新华社区 only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock, FrozenClock
from app.demo.seed import demo_id
from app.models import OutboxEvent, PointsEntry, Wish
from app.models.enums import Role, WishStatus
from app.wishes.transitions import WishAction
from tests.conftest import DEMO_PASSWORD
from tests.points.conftest import EAST, SOUTH
from tests.reports.conftest import photo_bytes
from tests.support import Json as Json
from tests.support import answer as answer
from tests.support import problem as problem

__all__ = ["EAST", "NORTH", "SOUTH", "Json", "WishRow", "Wishes", "answer", "problem"]

API = "/api/v1"
NORTH = demo_id("community", "陕坝镇", "北街社区")
TOUDAOQIAO = demo_id("region", "头道桥镇")
NEW_USER_PASSWORD = "a-wish-test-password"
PHOTO = ("Canon_40D.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")

RESIDENT, STAFF, CLAIMANT = "resident1", "staff1", "courier1"
CLAIMED_STATUSES = frozenset({WishStatus.claimed, WishStatus.fulfilled, WishStatus.confirmed})


# What each action needs in its body (fulfil: a photo, uploaded by the caller at the time).
ACTION_BODIES: dict[WishAction, Json] = {
    WishAction.decline: {"reason": "不属于微心愿的范围，请拨打 12345"},
    WishAction.withdraw: {"reason": "家里人已经帮忙了"},
    WishAction.release: {"reason": "这周出差，做不了"},
    WishAction.fulfil: {"note": "灯泡已换好"},
    WishAction.reopen: {"reason": "灯泡还是不亮"},
    WishAction.thank: {"note": "谢谢小伙子！"},
}

# How a wish posted by resident1 reaches each status: (action, who) in order.
PATHS: dict[WishStatus, list[tuple[WishAction, str]]] = {
    WishStatus.submitted: [],
    WishStatus.published: [(WishAction.publish, STAFF)],
    WishStatus.declined: [(WishAction.decline, STAFF)],
    WishStatus.withdrawn: [(WishAction.withdraw, RESIDENT)],
    WishStatus.claimed: [(WishAction.publish, STAFF), (WishAction.claim, CLAIMANT)],
    WishStatus.fulfilled: [
        (WishAction.publish, STAFF),
        (WishAction.claim, CLAIMANT),
        (WishAction.fulfil, CLAIMANT),
    ],
    WishStatus.confirmed: [
        (WishAction.publish, STAFF),
        (WishAction.claim, CLAIMANT),
        (WishAction.fulfil, CLAIMANT),
        (WishAction.confirm, RESIDENT),
    ],
}


@dataclass(frozen=True)
class WishRow:
    """A wish as the database holds it."""

    status: WishStatus
    resident_id: uuid.UUID | None
    posted_by_id: uuid.UUID | None
    claimant_id: uuid.UUID | None
    resident_name: str | None
    resident_phone: str | None
    address: str | None
    decline_reason: str | None
    reviewed_by_id: uuid.UUID | None
    fulfilled_at: datetime | None
    fulfilment_picture_id: uuid.UUID | None
    confirmed_at: datetime | None
    confirmed_by_id: uuid.UUID | None
    thanks_note: str | None
    version: int
    updated_at: datetime


@dataclass
class Wishes:
    """Micro-wishes as their people see them through the API, and as the database holds them."""

    client: httpx.AsyncClient
    session: AsyncSession
    app: FastAPI
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def user_id(self, username: str) -> uuid.UUID:
        return self.ids.get(username) or demo_id("user", username)

    async def headers(self, username: str) -> dict[str, str]:
        """The Authorization header of ``username`` (a demo account or one made here)."""
        if username not in self.tokens:
            password = self.passwords.get(username, DEMO_PASSWORD)
            response = await self.client.post(
                f"{API}/auth/token", data={"username": username, "password": password}
            )
            self.tokens[username] = {"Authorization": f"Bearer {answer(response)['access_token']}"}
        return self.tokens[username]

    async def get(self, path: str, username: str, **params: Any) -> httpx.Response:
        headers = await self.headers(username)
        return await self.client.get(f"{API}{path}", params=params, headers=headers)

    async def post(self, path: str, username: str, body: Json | None = None) -> httpx.Response:
        headers = await self.headers(username)
        return await self.client.post(f"{API}{path}", json=body or {}, headers=headers)

    # --- people ---

    async def make_user(self, username: str, role: Role, scope_id: uuid.UUID | None) -> None:
        """An account made by the administrator, with one role."""
        roles = [{"role": role.value, "scope_id": str(scope_id) if scope_id else None}]
        body = {
            "username": username,
            "display_name": f"测试{username}",
            "password": NEW_USER_PASSWORD,
            "roles": roles,
        }
        made = answer(await self.post("/users", "admin", body), 201)
        self.ids[username] = uuid.UUID(made["id"])
        self.passwords[username] = NEW_USER_PASSWORD

    async def grant(self, username: str, role: Role, scope_id: uuid.UUID) -> None:
        """One more role for an account, given by the administrator."""
        body = {"role": role.value, "scope_id": str(scope_id)}
        answer(await self.post(f"/users/{self.user_id(username)}/roles", "admin", body), 201)

    async def register(self, username: str, phone: str | None = None) -> None:
        """A resident signing up by themselves."""
        body = {
            "username": username,
            "display_name": f"居民{username}",
            "password": NEW_USER_PASSWORD,
            "phone": phone,
        }
        made = answer(await self.client.post(f"{API}/auth/register", json=body), 201)
        self.ids[username] = uuid.UUID(made["id"])
        self.passwords[username] = NEW_USER_PASSWORD

    # --- wishes ---

    async def upload(self, username: str) -> str:
        """A photo uploaded by ``username``: its id."""
        headers = await self.headers(username)
        response = await self.client.post(
            f"{API}/uploads", files=[("file", PHOTO)], headers=headers
        )
        upload_id: str = answer(response, 201)["id"]
        return upload_id

    async def create(self, username: str = RESIDENT, **fields: Any) -> Json:
        """A wish posted to 东街社区 (unless ``community_id`` is given): the 201 body."""
        body: Json = {"community_id": str(EAST), "title": "帮忙更换楼道灯泡", **fields}
        return answer(await self.post("/wishes", username, body), 201)

    async def act(
        self, wish_id: str, action: WishAction, username: str, body: Json | None = None
    ) -> httpx.Response:
        """``action`` taken by ``username``, with the body it needs unless one is given."""
        if body is None:
            body = dict(ACTION_BODIES.get(action, {}))
            if action is WishAction.fulfil:
                body["photo_id"] = await self.upload(username)
        return await self.post(f"/wishes/{wish_id}/{action.value}", username, body)

    async def read(self, wish_id: str, username: str) -> Json:
        return answer(await self.get(f"/wishes/{wish_id}", username))

    async def drive(self, status: WishStatus, **fields: Any) -> Json:
        """A wish posted by resident1 and moved to ``status``: the last answer."""
        wish = await self.create(**fields)
        for action, username in PATHS[status]:
            wish = answer(await self.act(wish["id"], action, username))
        assert wish["status"] == status.value
        return wish

    async def listed(self, username: str, **params: Any) -> list[str]:
        """The ids of the wishes ``username`` lists (one page of 100)."""
        page = answer(await self.get("/wishes", username, limit=100, **params))
        return [item["id"] for item in page["items"]]

    # --- the clock ---

    def freeze_clock(self, at: datetime | None = None) -> FrozenClock:
        """Stop the app's clock (at the present unless told): the returned clock advances."""
        clock = FrozenClock(at or Clock().now())
        self.app.state.clock = clock
        return clock

    # --- what the database holds ---

    async def row(self, wish_id: str) -> WishRow:
        try:
            wish = await self.session.scalar(
                select(Wish)
                .where(Wish.id == uuid.UUID(wish_id))
                .execution_options(populate_existing=True)
            )
            assert wish is not None
            return WishRow(**{name: getattr(wish, name) for name in WishRow.__dataclass_fields__})
        finally:
            await self.session.rollback()  # the next read sees what was written since

    async def wish_count(self) -> int:
        try:
            return int(await self.session.scalar(select(func.count()).select_from(Wish)) or 0)
        finally:
            await self.session.rollback()

    async def events_of(self, wish_id: str) -> list[tuple[str, str]]:
        """(type, status) of the outbox events of a wish, oldest first."""
        try:
            rows = await self.session.scalars(
                select(OutboxEvent).where(OutboxEvent.type.like("wish.%")).order_by(OutboxEvent.id)
            )
            return [
                (row.type, row.payload["wish"]["status"])
                for row in rows
                if row.payload["wish"]["id"] == wish_id
            ]
        finally:
            await self.session.rollback()

    async def wish_points(self, username: str) -> list[tuple[uuid.UUID | None, int, int]]:
        """(wish, points, before the caps) of the ``wish_fulfilled`` entries of a person."""
        try:
            rows = await self.session.scalars(
                select(PointsEntry)
                .where(
                    PointsEntry.user_id == self.user_id(username),
                    PointsEntry.rule == "wish_fulfilled",
                )
                .order_by(PointsEntry.created_at)
            )
            return [(row.wish_id, row.points, row.points_before_cap) for row in rows]
        finally:
            await self.session.rollback()


@pytest.fixture
def wishes(client: httpx.AsyncClient, session: AsyncSession, app: FastAPI) -> Wishes:
    return Wishes(client=client, session=session, app=app)
