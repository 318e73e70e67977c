"""Purchases racing each other, each request on its own connection and in its own transaction,
on both databases: the stock is never oversold, the same points are never spent twice (on
SQLite too, where reads outside a transaction would see a balance a concurrent purchase had
already spent), a retried purchase is bought once, and a purchase is settled once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
from sqlalchemy import select

from app.models import PointsEntry, Redemption
from app.models.enums import RedemptionStatus
from tests.store.support import Store, answer, problem

BUYERS = 50
STOCK = 10
RETRIES = 5
RETRY_ROUNDS = 5


def _outcomes(responses: list[httpx.Response]) -> Counter[tuple[int, str]]:
    """How many answers of each (status, problem code) came back ("" for a success)."""
    return Counter(
        (r.status_code, "" if r.is_success else str(r.json().get("code"))) for r in responses
    )


async def _redeemed_rows(store: Store, reward_ids: list[str]) -> list[PointsEntry]:
    """The ``redeemed`` ledger rows of purchases of these rewards."""
    rows = list(
        await store.session.scalars(
            select(PointsEntry)
            .join(Redemption, Redemption.id == PointsEntry.redemption_id)
            .where(
                PointsEntry.rule == "redeemed",
                Redemption.reward_id.in_([uuid.UUID(r) for r in reward_ids]),
            )
        )
    )
    store.session.expunge_all()
    await store.session.rollback()
    return rows


async def test_fifty_buyers_at_once_get_exactly_the_stock(store: Store) -> None:
    reward = await store.put_up(points_price=10, stock=STOCK)
    buyers = [f"buyer{number:02d}" for number in range(BUYERS)]
    ids = [await store.new_user(username) for username in buyers]
    await store.grant_many(ids, 100)  # earned in 东街社区: its shelf is in their sight
    for username in buyers:  # signed in beforehand: only the purchases race
        await store.headers(username)

    responses = await asyncio.gather(*(store.buy(u, reward["id"]) for u in buyers))

    assert _outcomes(responses) == {(201, ""): STOCK, (409, "out_of_stock"): BUYERS - STOCK}
    winners = {buyer: r.json() for buyer, r in zip(buyers, responses, strict=True) if r.is_success}
    assert all(body["balance"] == 90 for body in winners.values())
    assert await store.stock(reward["id"]) == 0
    rows = await _redeemed_rows(store, [reward["id"]])
    assert len(rows) == STOCK
    assert {str(row.redemption_id) for row in rows} == {b["id"] for b in winners.values()}
    assert {row.user_id for row in rows} == {store.user_id(buyer) for buyer in winners}
    assert len({body["code"] for body in winners.values()}) == STOCK
    for buyer in buyers:
        assert await store.balance(buyer) == (90 if buyer in winners else 100), buyer
    shelf = answer(await store.get(f"/rewards/{reward['id']}", "staff1"))
    assert (shelf["stock"], shelf["on_shelf"]) == (0, False)
    sold = answer(await store.get("/redemptions", "staff1", reward_id=reward["id"], limit=100))
    assert len(sold["items"]) == STOCK


async def test_twenty_purchases_at_once_spend_the_points_once(store: Store) -> None:
    rewards = [
        await store.put_up(name=name, points_price=10, stock=100)
        for name in ("洗衣液", "毛巾", "香皂", "雨伞")
    ]
    await store.grant("courier1", 30)  # enough for three
    await store.headers("courier1")

    responses = await asyncio.gather(
        *(store.buy("courier1", rewards[n % len(rewards)]["id"]) for n in range(20))
    )

    assert _outcomes(responses) == {(201, ""): 3, (409, "not_enough_points"): 17}
    balances = sorted(r.json()["balance"] for r in responses if r.is_success)
    assert balances == [0, 10, 20]
    balance = await store.balance("courier1")
    assert balance == 0
    assert (await store.my_points("courier1"))["balance"] == balance
    ledger = await store.ledger("courier1")
    assert [(row.rule, row.points) for row in ledger] == [("redeemed", -10)] * 3
    assert 30 + sum(row.points for row in ledger) == balance >= 0
    stocks = [await store.stock(reward["id"]) for reward in rewards]
    assert sum(100 - stock for stock in stocks) == 3
    assert len(await store.redemptions("courier1")) == 3


async def test_a_purchase_retried_at_once_with_its_key_is_bought_once(store: Store) -> None:
    """A phone that sends the purchase again before the first answer came (same key) gets the
    first purchase, even when that purchase spent the last points: not a 409. Several rounds,
    as one round may not meet at the wrong moment."""
    reward = await store.put_up(points_price=30, stock=RETRY_ROUNDS * 2)
    await store.headers("courier1")

    for round_number in range(RETRY_ROUNDS):
        await store.grant("courier1", 30)  # enough for one
        key = f"buy-once-{round_number}"

        responses = await asyncio.gather(
            *(store.buy("courier1", reward["id"], key=key) for _ in range(RETRIES))
        )

        assert _outcomes(responses) == {(201, ""): RETRIES}, [r.text for r in responses]
        assert len({r.json()["id"] for r in responses}) == 1
        replayed = [r.headers.get("Idempotent-Replayed") == "true" for r in responses]
        assert sum(replayed) == RETRIES - 1
        assert len(await store.redemptions("courier1")) == round_number + 1
        assert await store.balance("courier1") == 0
        assert await store.stock(reward["id"]) == RETRY_ROUNDS * 2 - round_number - 1


async def test_a_purchase_is_settled_once_however_many_try(store: Store) -> None:
    reward = await store.put_up(points_price=30, stock=5)
    await store.grant("courier1", 100)
    bought = await store.bought("courier1", reward["id"])
    for username in ("courier1", "staff1"):
        await store.headers(username)

    responses = await asyncio.gather(
        *(store.cancel("courier1", bought["id"]) for _ in range(4)),
        *(store.cancel("staff1", bought["id"]) for _ in range(4)),
        *(store.hand_over("staff1", bought["code"]) for _ in range(4)),
    )

    assert _outcomes(responses) == {(200, ""): 1, (409, "invalid_transition"): 11}
    (won,) = [r.json() for r in responses if r.is_success]
    row = await store.redemption(bought["id"])
    assert row.status.value == won["status"]
    cancelled = row.status is RedemptionStatus.cancelled
    refunds = [entry for entry in await store.ledger("courier1") if entry.points > 0]
    assert len(refunds) == (1 if cancelled else 0)
    assert await store.balance("courier1") == (100 if cancelled else 70)
    assert await store.stock(reward["id"]) == (5 if cancelled else 4)
    for response in responses:
        if not response.is_success:
            problem(response, 409, "invalid_transition")
