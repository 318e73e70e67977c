"""Buying rewards with points (积分兑换): the debit, the refusals, Idempotency-Key, the hand-over
at the shop, cancelling, who sees a purchase, and that spending is not earning."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi import FastAPI

from app.core.clock import FrozenClock
from app.core.workcalendar import CHINA_TZ
from app.models.enums import RedemptionStatus
from app.store.redemptions import CODE_ALPHABET, CODE_LENGTH
from app.store.transitions import REDEMPTION_TRANSITIONS, RedemptionAction, ShopActor
from tests.store.support import EAST, SF_COMPANY, Json, LedgerRow, Store, answer, problem

REDEEMED, REFUNDED = "redeemed", "redemption_refunded"


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def _unchanged(store: Store, username: str, reward: Json, balance: int) -> None:
    """Nothing was bought: the balance, the stock and the ledger are as they were."""
    assert await store.balance(username) == balance
    assert await store.stock(reward["id"]) == reward["stock"]
    assert await store.redemptions(username) == []
    assert await store.ledger(username) == []
    assert (await store.my_points(username))["balance"] == balance


async def test_a_purchase_debits_the_balance_and_takes_one_item(store: Store) -> None:
    reward = await store.put_up(points_price=30, stock=5)
    await store.grant("courier1", 100)

    body = await store.bought("courier1", reward["id"])

    assert body["status"] == "pending"
    assert (body["points"], body["balance"]) == (30, 70)
    assert body["reward"] == {"id": reward["id"], "name": "洗衣液 2kg"}
    assert body["community"] == {"id": str(EAST), "name": "东街社区"}
    assert body["company"] is None
    assert body["buyer"] == {"id": str(store.user_id("courier1")), "display_name": "孙浩"}
    assert len(body["code"]) == CODE_LENGTH
    assert set(body["code"]) <= set(CODE_ALPHABET)
    (row,) = await store.redemptions("courier1")
    assert (str(row.id), row.status, row.points, row.code) == (
        body["id"],
        RedemptionStatus.pending,
        30,
        body["code"],
    )
    assert await store.ledger("courier1") == [LedgerRow(REDEEMED, -30, row.id)]
    assert await store.balance("courier1") == 70
    assert await store.stock(reward["id"]) == 4
    shelf = answer(await store.get(f"/rewards/{reward['id']}", "courier1"))
    assert (shelf["stock"], shelf["bought_this_month"]) == (4, 1)
    points = await store.my_points("courier1")
    assert points["balance"] == 70
    assert (points["items"][0]["rule"], points["items"][0]["points"]) == (REDEEMED, -30)
    assert points["items"][0]["redemption_id"] == body["id"]
    mine = answer(await store.get("/redemptions", "courier1", mine="true"))
    assert [item["id"] for item in mine["items"]] == [body["id"]]
    # The shop sees the purchase, but neither its code (the buyer's proof at the counter) nor
    # the buyer's balance.
    seen = answer(await store.get(f"/redemptions/{body['id']}", "staff1"))
    assert (seen["code"], seen["balance"]) == (None, None)


async def test_not_enough_points_buys_nothing(store: Store) -> None:
    reward = await store.put_up(points_price=30, stock=5)
    await store.grant("courier1", 29)

    refused = problem(await store.buy("courier1", reward["id"]), 409, "not_enough_points")

    assert "29" in refused["detail"]
    await _unchanged(store, "courier1", reward, 29)
    await store.grant("courier1", 1)
    assert (await store.bought("courier1", reward["id"]))["balance"] == 0


async def test_a_sold_out_reward_is_refused(store: Store) -> None:
    reward = await store.put_up(points_price=10, stock=1)
    empty = await store.put_up(name="空货架", points_price=10, stock=0)
    await store.grant("courier1", 50)
    await store.grant("courier2", 50)
    await store.bought("courier1", reward["id"])

    problem(await store.buy("courier2", reward["id"]), 409, "out_of_stock")
    problem(await store.buy("courier2", empty["id"]), 409, "out_of_stock")

    assert await store.stock(reward["id"]) == 0
    await _unchanged(store, "courier2", empty, 50)


async def test_the_monthly_limit_counts_purchases_not_cancelled(store: Store) -> None:
    reward = await store.put_up(points_price=10, stock=10, monthly_limit=2)
    await store.grant("courier1", 100)
    await store.grant("courier2", 100)
    first = await store.bought("courier1", reward["id"])
    await store.bought("courier1", reward["id"])

    problem(await store.buy("courier1", reward["id"]), 409, "monthly_limit_reached")

    assert await store.balance("courier1") == 80
    assert await store.stock(reward["id"]) == 8
    assert len(await store.redemptions("courier1")) == 2
    # Another buyer has a limit of their own.
    await store.bought("courier2", reward["id"])
    # A cancelled purchase frees its place under the limit.
    answer(await store.cancel("courier1", first["id"]))
    assert (await store.bought("courier1", reward["id"]))["balance"] == 80
    problem(await store.buy("courier1", reward["id"]), 409, "monthly_limit_reached")
    shelf = answer(await store.get(f"/rewards/{reward['id']}", "courier1"))
    assert (shelf["bought_this_month"], shelf["stock"]) == (2, 7)


async def test_the_monthly_limit_starts_again_with_the_china_month(
    store: Store, app: FastAPI
) -> None:
    reward = await store.put_up(points_price=10, stock=5, monthly_limit=1)
    await store.headers("courier1")  # signed in first: a token's lifetime runs in real time
    clock = FrozenClock(datetime(2025, 1, 31, 15, 30, tzinfo=UTC))  # 23:30 in China
    app.state.clock = clock
    await store.grant("courier1", 50, at=clock.now())
    await store.bought("courier1", reward["id"])
    problem(await store.buy("courier1", reward["id"]), 409, "monthly_limit_reached")

    clock.advance(hours=1)  # 1 February in China, still 31 January in UTC

    assert (await store.bought("courier1", reward["id"]))["balance"] == 30
    problem(await store.buy("courier1", reward["id"]), 409, "monthly_limit_reached")
    assert await store.stock(reward["id"]) == 3


async def test_a_reward_not_yet_on_sale_is_refused(store: Store) -> None:
    reward = await store.put_up(points_price=10, available_from=_in(2))
    await store.grant("courier1", 50)

    problem(await store.buy("courier1", reward["id"]), 409, "reward_unavailable")

    await _unchanged(store, "courier1", reward, 50)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"is_active": False}, id="taken off the shelf"),
        pytest.param(
            {"available_from": "2020-01-01T00:00:00Z", "available_until": "2020-02-01T00:00:00Z"},
            id="window closed",
        ),
    ],
)
async def test_the_shop_cannot_buy_what_is_not_on_sale(store: Store, change: Json) -> None:
    """The shop's own staff see every item of their shelf, on sale or not; they may buy what is
    on sale like anyone who earned points there, and nothing else."""
    reward = await store.put_up(points_price=10)
    answer(await store.patch(f"/rewards/{reward['id']}", "staff1", change))
    await store.grant("staff1", 50)

    problem(await store.buy("staff1", reward["id"]), 409, "reward_unavailable")

    await _unchanged(store, "staff1", reward, 50)


async def test_a_retried_purchase_with_its_key_is_answered_once(store: Store) -> None:
    reward = await store.put_up(points_price=30, stock=5)
    other = await store.put_up(name="毛巾", points_price=5, stock=5)
    await store.grant("courier1", 100)
    await store.grant("courier2", 100)

    first = await store.buy("courier1", reward["id"], key="buy-detergent-1")
    again = await store.buy("courier1", reward["id"], key="buy-detergent-1")

    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    (row,) = await store.redemptions("courier1")
    assert str(row.id) == first.json()["id"]
    assert await store.ledger("courier1") == [LedgerRow(REDEEMED, -30, row.id)]
    assert await store.balance("courier1") == 70
    assert await store.stock(reward["id"]) == 4
    # The key with another reward is a mistake; another person's key is their own.
    reused = await store.buy("courier1", other["id"], key="buy-detergent-1")
    problem(reused, 422, "idempotency_key_reused")
    assert await store.stock(other["id"]) == 5
    theirs = answer(await store.buy("courier2", reward["id"], key="buy-detergent-1"), 201)
    assert theirs["id"] != row.id
    assert await store.stock(reward["id"]) == 3


async def test_the_shop_hands_over_against_the_code(store: Store) -> None:
    reward = await store.put_up(points_price=30)
    await store.grant("courier1", 100)
    bought = await store.bought("courier1", reward["id"])

    handed = answer(await store.hand_over("staff1", f" {bought['code'].lower()} "))

    assert (handed["id"], handed["status"]) == (bought["id"], "handed_over")
    assert handed["handed_over_at"] is not None
    row = await store.redemption(bought["id"])
    assert row.status is RedemptionStatus.handed_over
    assert row.handed_over_at is not None
    # The points stay spent, the item is gone.
    assert await store.balance("courier1") == 70
    assert await store.stock(reward["id"]) == 4
    assert await store.ledger("courier1") == [LedgerRow(REDEEMED, -30, row.id)]
    problem(await store.hand_over("staff1", bought["code"]), 409, "invalid_transition")


async def test_a_company_manager_hands_over_from_the_company_shelf(store: Store) -> None:
    await store.manager("sf_manager", SF_COMPANY)
    reward = await store.put_up("sf_manager", points_price=20, company_id=str(SF_COMPANY))
    await store.grant("courier1", 20)
    bought = await store.bought("courier1", reward["id"])
    assert bought["company"] == {"id": str(SF_COMPANY), "name": "顺丰速运"}
    assert await store.ledger("courier1") == [LedgerRow(REDEEMED, -20, uuid.UUID(bought["id"]))]

    handed = answer(await store.hand_over("sf_manager", bought["code"]))

    assert handed["status"] == "handed_over"
    assert (await store.redemption(bought["id"])).status is RedemptionStatus.handed_over


async def test_only_the_shop_of_the_reward_hands_it_over(store: Store) -> None:
    await store.manager("sf_manager", SF_COMPANY)
    reward = await store.put_up(points_price=10)
    await store.grant("courier1", 50)
    bought = await store.bought("courier1", reward["id"])

    # Another community's staff, a company's manager, a supervisor: no such code.
    for username in ("staff2", "sf_manager", "grid1", "supervisor"):
        problem(await store.hand_over(username, bought["code"]), 404, "not_found")
    # The buyer sees the purchase, and may not hand it over to themselves.
    problem(await store.hand_over("courier1", bought["code"]), 403, "forbidden")
    problem(await store.hand_over("staff1", "ZZZZ2222"), 404, "not_found")

    assert (await store.redemption(bought["id"])).status is RedemptionStatus.pending
    assert answer(await store.hand_over("admin", bought["code"]))["status"] == "handed_over"


async def test_the_buyer_cancels_and_gets_points_and_item_back(store: Store) -> None:
    reward = await store.put_up(points_price=30, stock=5)
    await store.grant("courier1", 100)
    bought = await store.bought("courier1", reward["id"])

    body = answer(await store.cancel("courier1", bought["id"], reason="不需要了"))

    assert (body["status"], body["cancel_reason"]) == ("cancelled", "不需要了")
    assert body["balance"] == 100
    assert body["cancelled_at"] is not None
    rid = uuid.UUID(bought["id"])
    assert await store.ledger("courier1") == [
        LedgerRow(REDEEMED, -30, rid),
        LedgerRow(REFUNDED, 30, rid),
    ]
    assert await store.balance("courier1") == 100
    assert await store.stock(reward["id"]) == 5
    points = await store.my_points("courier1")
    assert points["balance"] == 100
    assert (points["items"][0]["rule"], points["items"][0]["redemption_id"]) == (REFUNDED, str(rid))
    # Cancelled twice: refused, nothing paid back twice.
    problem(await store.cancel("courier1", bought["id"]), 409, "invalid_transition")
    problem(await store.cancel("staff1", bought["id"]), 409, "invalid_transition")
    assert len(await store.ledger("courier1")) == 2
    assert await store.balance("courier1") == 100
    assert await store.stock(reward["id"]) == 5


async def test_an_item_handed_over_cannot_be_cancelled(store: Store) -> None:
    reward = await store.put_up(points_price=30, stock=5)
    await store.grant("courier1", 100)
    bought = await store.bought("courier1", reward["id"])
    answer(await store.hand_over("staff1", bought["code"]))

    for username in ("courier1", "staff1"):
        problem(await store.cancel(username, bought["id"]), 409, "invalid_transition")

    assert (await store.redemption(bought["id"])).status is RedemptionStatus.handed_over
    assert await store.balance("courier1") == 70
    assert await store.stock(reward["id"]) == 4
    assert [row.rule for row in await store.ledger("courier1")] == [REDEEMED]


async def test_nobody_else_sees_or_cancels_a_purchase(store: Store) -> None:
    reward = await store.put_up(points_price=10)
    await store.grant("courier1", 50)
    await store.grant("courier2", 50)
    bought = await store.bought("courier1", reward["id"])
    path = f"/redemptions/{bought['id']}"

    for username in ("courier2", "staff2", "grid1", "supervisor", "resident1"):
        problem(await store.get(path, username), 404, "not_found")
        problem(await store.cancel(username, bought["id"]), 404, "not_found")
        assert answer(await store.get("/redemptions", username))["items"] == [], username

    assert (await store.redemption(bought["id"])).status is RedemptionStatus.pending
    assert await store.balance("courier1") == 40
    listed = answer(await store.get("/redemptions", "staff1", status="pending"))
    assert [item["id"] for item in listed["items"]] == [bought["id"]]
    assert answer(await store.get("/redemptions", "staff1", mine="true"))["items"] == []


async def test_spending_and_refunds_are_not_earnings(store: Store, app: FastAPI) -> None:
    for username in ("staff1", "courier1"):  # signed in first: a token's times are real
        await store.headers(username)
    # Noon in China: the day's purchases and awards fall on one day, whenever the test runs.
    today = datetime.now(CHINA_TZ).date()
    clock = FrozenClock(datetime.combine(today, time(12), CHINA_TZ).astimezone(UTC))
    app.state.clock = clock
    reward = await store.put_up(points_price=30, stock=5)
    await store.grant("courier1", 50, at=clock.now())
    await store.grant("courier2", 40, at=clock.now())
    before = await store.my_points("courier1")
    assert (before["earned_today"], before["earned_this_month"]) == (50, 50)

    clock.advance(minutes=1)
    cancelled = await store.bought("courier1", reward["id"])
    clock.advance(minutes=1)
    answer(await store.cancel("courier1", cancelled["id"]))
    clock.advance(minutes=1)
    await store.bought("courier1", reward["id"])

    after = await store.my_points("courier1")
    assert (after["balance"], after["earned_today"], after["earned_this_month"]) == (20, 50, 50)
    assert [item["rule"] for item in after["items"]] == [REDEEMED, REFUNDED, REDEEMED, "accepted"]
    # The reporters of 东街社区 ranked by what they earned: a refund is no second award, a
    # purchase takes nothing from what was earned.
    board = answer(await store.get("/leaderboard", "courier1", scope="community", id=str(EAST)))
    ranked = [(item["rank"], item["name"], item["points"]) for item in board["items"]]
    assert ranked == [(1, "孙浩", 50), (2, "马俊", 40)]
    places = answer(await store.get("/leaderboard", "courier1", scope="community"))
    assert [(item["name"], item["points"]) for item in places["items"]] == [("东街社区", 90)]


async def _purchase_in(store: Store, status: RedemptionStatus) -> Json:
    """A purchase of courier1 at 东街社区's shelf brought into ``status`` through the API."""
    reward = await store.put_up(points_price=30, stock=5)
    await store.grant("courier1", 100)
    bought = await store.bought("courier1", reward["id"])
    if status is RedemptionStatus.handed_over:
        answer(await store.hand_over("staff1", bought["code"]))
    elif status is RedemptionStatus.cancelled:
        answer(await store.cancel("courier1", bought["id"]))
    assert (await store.redemption(bought["id"])).status is status
    return {**bought, "reward_id": reward["id"]}


ACTOR_USERS = {ShopActor.buyer: "courier1", ShopActor.shop: "staff1"}


@pytest.mark.parametrize("actor", list(ShopActor))
@pytest.mark.parametrize("action", list(RedemptionAction))
@pytest.mark.parametrize("status", list(RedemptionStatus))
async def test_every_status_and_action(
    store: Store, status: RedemptionStatus, action: RedemptionAction, actor: ShopActor
) -> None:
    """Each (status, action) of the table moves the purchase where the table says, for the
    actors it names; every pair not in the table is refused with 409 and changes nothing."""
    bought = await _purchase_in(store, status)
    balance, stock = await store.balance("courier1"), await store.stock(bought["reward_id"])
    user = ACTOR_USERS[actor]
    rule = REDEMPTION_TRANSITIONS.get((status, action))

    if action is RedemptionAction.hand_over:
        response = await store.hand_over(user, bought["code"])
    else:
        response = await store.cancel(user, bought["id"])

    if rule is None:
        problem(response, 409, "invalid_transition")
    elif actor not in rule.actors:
        problem(response, 403, "forbidden")
    else:
        assert answer(response)["status"] == rule.to.value
        assert (await store.redemption(bought["id"])).status is rule.to
        refunded = rule.to is RedemptionStatus.cancelled
        assert await store.balance("courier1") == balance + (30 if refunded else 0)
        assert await store.stock(bought["reward_id"]) == stock + (1 if refunded else 0)
        return
    assert (await store.redemption(bought["id"])).status is status
    assert await store.balance("courier1") == balance
    assert await store.stock(bought["reward_id"]) == stock
