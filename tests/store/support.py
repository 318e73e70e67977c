"""What the points store (积分超市) tests share: shelves stocked and purchases made through the
API, points granted as ledger rows, and what the database holds read back fresh."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import demo_id
from app.models import PointsEntry, Redemption, Reward
from app.models.enums import RedemptionStatus
from app.points.schemas import PointsRule
from tests.conftest import DEMO_PASSWORD
from tests.points.conftest import EAST, SF_COMPANY, SOUTH, ZTO_COMPANY
from tests.support import Json as Json
from tests.support import answer as answer
from tests.support import problem as problem

__all__ = [
    "EAST",
    "NORTH",
    "SF_COMPANY",
    "SOUTH",
    "ZTO_COMPANY",
    "Json",
    "LedgerRow",
    "RedemptionRow",
    "Store",
    "answer",
    "problem",
]

API = "/api/v1"
# staff2 runs 北街社区's shelf (staffN is the N-th community by name).
NORTH = demo_id("community", "陕坝镇", "北街社区")
NEW_USER_PASSWORD = "a-store-test-password"


@dataclass(frozen=True)
class LedgerRow:
    rule: str
    points: int
    redemption_id: uuid.UUID | None


@dataclass(frozen=True)
class RedemptionRow:
    id: uuid.UUID
    reward_id: uuid.UUID
    status: RedemptionStatus
    points: int
    code: str
    handed_over_at: datetime | None
    cancelled_at: datetime | None


@dataclass
class Store:
    """The store as its users and shops see it, and as the database holds it."""

    client: httpx.AsyncClient
    session: AsyncSession
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
            token = answer(response)["access_token"]
            self.tokens[username] = {"Authorization": f"Bearer {token}"}
        return self.tokens[username]

    async def get(self, path: str, username: str, **params: Any) -> httpx.Response:
        headers = await self.headers(username)
        return await self.client.get(f"{API}{path}", params=params, headers=headers)

    async def post(
        self, path: str, username: str, body: Json | None = None, **headers: str
    ) -> httpx.Response:
        auth = await self.headers(username)
        return await self.client.post(f"{API}{path}", json=body or {}, headers={**auth, **headers})

    async def patch(self, path: str, username: str, body: Json) -> httpx.Response:
        headers = await self.headers(username)
        return await self.client.patch(f"{API}{path}", json=body, headers=headers)

    # --- the shelves and the purchases ---

    async def put_up(self, username: str = "staff1", **fields: Any) -> Json:
        """A reward put on a shelf (东街社区's unless a shop is given); the 201 body."""
        body: Json = {"name": "洗衣液 2kg", "points_price": 10, "stock": 5, **fields}
        if "company_id" not in body:
            body.setdefault("community_id", str(EAST))
        return answer(await self.post("/rewards", username, body), 201)

    async def buy(self, username: str, reward_id: str, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return await self.post("/redemptions", username, {"reward_id": reward_id}, **headers)

    async def bought(self, username: str, reward_id: str) -> Json:
        return answer(await self.buy(username, reward_id), 201)

    async def hand_over(self, username: str, code: str) -> httpx.Response:
        return await self.post("/redemptions/hand-over", username, {"code": code})

    async def cancel(
        self, username: str, redemption_id: str, reason: str | None = None
    ) -> httpx.Response:
        body = {"reason": reason} if reason else {}
        return await self.post(f"/redemptions/{redemption_id}/cancel", username, body)

    async def my_points(self, username: str) -> Json:
        return answer(await self.get("/points/me", username))

    # --- people and their points ---

    async def new_user(self, username: str, roles: list[Json] | None = None) -> uuid.UUID:
        """An account made by the administrator through the API."""
        body = {
            "username": username,
            "display_name": f"用户{username}",
            "password": NEW_USER_PASSWORD,
            "roles": roles or [],
        }
        user = answer(await self.post("/users", "admin", body), 201)
        self.ids[username] = uuid.UUID(user["id"])
        self.passwords[username] = NEW_USER_PASSWORD
        return self.ids[username]

    async def manager(self, username: str, company: uuid.UUID) -> uuid.UUID:
        """A manager of a courier company's shop (the role ``company_manager``)."""
        role = {"role": "company_manager", "scope_id": str(company)}
        return await self.new_user(username, [role])

    async def grant(
        self, username: str, points: int, community: uuid.UUID = EAST, at: datetime | None = None
    ) -> None:
        """Points earned in ``community`` (an accepted report's award): its shelf in sight."""
        await self.grant_many([self.user_id(username)], points, community, at)

    async def grant_many(
        self,
        user_ids: list[uuid.UUID],
        points: int,
        community: uuid.UUID = EAST,
        at: datetime | None = None,
    ) -> None:
        self.session.add_all(
            PointsEntry(
                user_id=user_id,
                rule=PointsRule.accepted.value,
                points=points,
                points_before_cap=points,
                community_id=community,
                created_at=at or datetime.now(UTC),
            )
            for user_id in user_ids
        )
        await self.session.commit()

    # --- what the database holds (read fresh; no snapshot kept for the next read) ---

    async def stock(self, reward_id: str) -> int:
        stock = await self.session.scalar(
            select(Reward.stock).where(Reward.id == uuid.UUID(reward_id))
        )
        await self.session.rollback()
        assert stock is not None
        return stock

    async def balance(self, username: str) -> int:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.user_id == self.user_id(username)
            )
        )
        await self.session.rollback()
        return int(total or 0)

    async def ledger(self, username: str) -> list[LedgerRow]:
        """The person's ledger rows other than the awards ``grant`` gave, oldest first."""
        rows = await self.session.execute(
            select(PointsEntry.rule, PointsEntry.points, PointsEntry.redemption_id)
            .where(
                PointsEntry.user_id == self.user_id(username),
                PointsEntry.rule != PointsRule.accepted.value,
            )
            .order_by(PointsEntry.created_at, PointsEntry.rule)
        )
        ledger = [LedgerRow(row.rule, row.points, row.redemption_id) for row in rows]
        await self.session.rollback()
        return ledger

    async def redemptions(self, username: str | None = None) -> list[RedemptionRow]:
        """The purchases of ``username`` (of everyone when None), oldest first."""
        stmt = select(
            Redemption.id,
            Redemption.reward_id,
            Redemption.status,
            Redemption.points,
            Redemption.code,
            Redemption.handed_over_at,
            Redemption.cancelled_at,
        ).order_by(Redemption.created_at, Redemption.id)
        if username is not None:
            stmt = stmt.where(Redemption.user_id == self.user_id(username))
        rows = [RedemptionRow(*row) for row in await self.session.execute(stmt)]
        await self.session.rollback()
        return rows

    async def redemption(self, redemption_id: str) -> RedemptionRow:
        (row,) = [r for r in await self.redemptions() if r.id == uuid.UUID(redemption_id)]
        return row
