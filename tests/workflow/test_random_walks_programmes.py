"""Random sequences of micro-wish steps and points-store purchases by random people, driven
through the HTTP API by hypothesis (the companion of test_random_walks.py, for the programmes
beyond reporting).

After every step: the wish's status is one of its machine's and its fields agree with it, a
refused step changed nothing, its volunteer was paid at most once and only once it was
confirmed; every person's balance is the sum of their ledger and never below zero; a reward's
stock never goes below zero and, with the purchases not cancelled, adds up to what it started
with; each purchase was debited once and refunded at most once, exactly when cancelled. No step
may ever answer 5xx."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import demo_id
from app.models import PointsEntry, Redemption, Reward, User
from app.models.enums import RedemptionStatus, WishStatus
from app.wishes.transitions import WishAction
from tests.conftest import LoginFn
from tests.reports.conftest import photo_bytes

EAST = str(demo_id("community", "陕坝镇", "东街社区"))
PEOPLE = [
    "staff1", "staff2", "grid1", "volunteer1", "courier1", "courier2", "resident1", "admin",
    "supervisor",
]  # fmt: skip
BUYERS = ("courier1", "courier2", "grid1", "volunteer1")
PHOTO = ("done.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")
REFUSALS = {403, 404, 409, 422}
STOCK = 3
BODIES: dict[WishAction, dict[str, Any]] = {
    WishAction.decline: {"reason": "不属于微心愿"},
    WishAction.reopen: {"reason": "还没有修好"},
    WishAction.thank: {"note": "谢谢！"},
}
USUAL_ACTOR = {
    WishAction.publish: "staff1",
    WishAction.decline: "resident1",  # a decline ends the walk: usually refused
    WishAction.withdraw: "courier2",  # so does a withdrawal
    WishAction.claim: "courier1",
    WishAction.release: "courier1",
    WishAction.fulfil: "courier1",
    WishAction.confirm: "resident1",
    WishAction.reopen: "resident1",
    WishAction.thank: "resident1",
}
STORE_ACTOR = {"buy": "courier1", "cancel": "courier1", "hand_over": "staff1"}
WEIGHTED = [
    *[("wish", a.value) for a in WishAction],
    *[("wish", "publish")] * 3,
    *[("wish", "claim")] * 3,
    *[("wish", "fulfil")] * 4,
    *[("wish", "confirm")] * 3,
    *[("store", "buy")] * 5,
    *[("store", "cancel")] * 2,
    *[("store", "hand_over")] * 2,
]
STEPS = st.tuples(st.sampled_from(WEIGHTED), st.sampled_from([*[None] * 8, *PEOPLE]))


async def _setup(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> tuple[str, str]:
    """A wish of resident1 for 东街社区, a reward of its shelf, and points to spend."""
    for username in BUYERS:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        session.add(
            PointsEntry(
                user_id=user_id,
                rule="accepted",
                points=35,
                points_before_cap=35,
                community_id=uuid.UUID(EAST),
            )
        )
    await session.commit()
    wish = await client.post(
        "/api/v1/wishes",
        json={"community_id": EAST, "title": "修自行车", "phone": "13904781234"},
        headers=await login("resident1"),
    )
    assert wish.status_code == 201, wish.text
    reward = await client.post(
        "/api/v1/rewards",
        json={"name": "毛巾", "points_price": 15, "stock": STOCK, "monthly_limit": 2,
              "community_id": EAST},
        headers=await login("staff1"),
    )  # fmt: skip
    assert reward.status_code == 201, reward.text
    return wish.json()["id"], reward.json()["id"]


async def _wish_step(
    client: httpx.AsyncClient, headers: dict[str, str], wish_id: str, action: WishAction
) -> httpx.Response:
    body: dict[str, Any] = dict(BODIES.get(action, {}))
    if action is WishAction.fulfil:
        upload = await client.post("/api/v1/uploads", files={"file": PHOTO}, headers=headers)
        body = {"photo_id": upload.json()["id"]} if upload.status_code == 201 else {
            "photo_id": str(uuid.uuid4())
        }  # fmt: skip
    return await client.post(f"/api/v1/wishes/{wish_id}/{action.value}", json=body, headers=headers)


async def _store_step(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    admin: dict[str, str],
    reward_id: str,
    name: str,
    session: AsyncSession,
) -> httpx.Response:
    if name == "buy":
        return await client.post(
            "/api/v1/redemptions", json={"reward_id": reward_id}, headers=headers
        )
    pending = (await client.get("/api/v1/redemptions?status=pending", headers=admin)).json()[
        "items"
    ]
    if name == "cancel":
        target = pending[0]["id"] if pending else str(uuid.uuid4())
        return await client.post(f"/api/v1/redemptions/{target}/cancel", json={}, headers=headers)
    # The code is the buyer's, shown to nobody else: read where the buyer would.
    code = await session.scalar(
        select(Redemption.code).where(Redemption.id == uuid.UUID(pending[0]["id"]))
    ) if pending else "NOSUCH22"  # fmt: skip
    return await client.post("/api/v1/redemptions/hand-over", json={"code": code}, headers=headers)


async def _check_wish(session: AsyncSession, wish: dict[str, Any]) -> None:
    status = WishStatus(wish["status"])
    event(f"wish reached {status.value}")
    assert (wish["claimant"] is not None) == (
        status in (WishStatus.claimed, WishStatus.fulfilled, WishStatus.confirmed)
    )
    assert (wish["claimed_at"] is not None) == (wish["claimant"] is not None)
    assert (wish["fulfilled_at"] is not None) == (
        status in (WishStatus.fulfilled, WishStatus.confirmed)
    )
    assert (wish["confirmed_at"] is not None) == (status is WishStatus.confirmed)
    assert (wish["withdrawn_at"] is not None) == (status is WishStatus.withdrawn)
    paid = (
        await session.scalars(
            select(PointsEntry).where(PointsEntry.wish_id == uuid.UUID(wish["id"]))
        )
    ).all()
    assert len(paid) == (1 if status is WishStatus.confirmed else 0)
    assert all(p.rule == "wish_fulfilled" for p in paid)


async def _check_ledgers(session: AsyncSession, reward_id: str) -> None:
    balances = (
        await session.execute(
            select(PointsEntry.user_id, func.sum(PointsEntry.points)).group_by(PointsEntry.user_id)
        )
    ).all()
    assert all(total >= 0 for _, total in balances), balances
    reward = await session.get_one(Reward, uuid.UUID(reward_id))
    purchases = (
        await session.scalars(select(Redemption).where(Redemption.reward_id == reward.id))
    ).all()
    live = [r for r in purchases if r.status is not RedemptionStatus.cancelled]
    assert reward.stock >= 0
    assert reward.stock + len(live) == STOCK
    for purchase in purchases:
        event(f"purchase {purchase.status.value}")
        rules = sorted(
            (
                await session.scalars(
                    select(PointsEntry.rule).where(PointsEntry.redemption_id == purchase.id)
                )
            ).all()
        )
        refunded = purchase.status is RedemptionStatus.cancelled
        assert rules == (["redeemed", "redemption_refunded"] if refunded else ["redeemed"])


@hypothesis_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=15, max_size=35))
async def test_random_walks_of_wishes_and_purchases_keep_the_invariants(
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    steps: list[tuple[tuple[str, str], str | None]],
) -> None:
    wish_id, reward_id = await _setup(client, login, session)
    admin = await login("admin")
    wish = (await client.get(f"/api/v1/wishes/{wish_id}", headers=admin)).json()
    for (kind, name), chosen in steps:
        if kind == "wish":
            action = WishAction(name)
            person = chosen or USUAL_ACTOR[action]
            response = await _wish_step(client, await login(person), wish_id, action)
        else:
            person = chosen or STORE_ACTOR[name]
            response = await _store_step(
                client, await login(person), admin, reward_id, name, session
            )
        assert response.status_code < 500, (kind, name, person, response.text)
        assert response.status_code in REFUSALS | {200, 201}, (name, person, response.text)
        after = (await client.get(f"/api/v1/wishes/{wish_id}", headers=admin)).json()
        if kind == "wish" and response.status_code in REFUSALS:
            assert after == wish, (name, person)
        session.expire_all()
        await _check_wish(session, after)
        await _check_ledgers(session, reward_id)
        wish = after
