"""The shelves of the points store: who puts rewards up and changes them, what is refused, and
who sees which shelf."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Reward
from tests.store.support import (
    EAST,
    NORTH,
    SF_COMPANY,
    ZTO_COMPANY,
    Json,
    Store,
    answer,
    problem,
)


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def _reward_row(store: Store, reward_id: str) -> Reward:
    reward = await store.session.get_one(Reward, uuid.UUID(reward_id), populate_existing=True)
    store.session.expunge(reward)
    await store.session.rollback()
    return reward


async def _reward_count(store: Store) -> int:
    count = await store.session.scalar(select(func.count()).select_from(Reward))
    await store.session.rollback()
    return int(count or 0)


async def _seen(store: Store, username: str, **params: Any) -> list[str]:
    """The names on the shelves ``username`` sees."""
    page = answer(await store.get("/rewards", username, **params))
    return [item["name"] for item in page["items"]]


async def _make_people(store: Store) -> None:
    await store.manager("sf_manager", SF_COMPANY)
    await store.manager("zto_manager", ZTO_COMPANY)


async def test_staff_put_a_reward_on_their_community_shelf(store: Store) -> None:
    response = await store.post(
        "/rewards",
        "staff1",
        {
            "name": "洗衣液 2kg",
            "description": "立白",
            "points_price": 120,
            "stock": 20,
            "monthly_limit": 2,
            "available_until": _in(30),
            "community_id": str(EAST),
        },
    )

    body = answer(response, 201)
    assert body["name"] == "洗衣液 2kg"
    assert body["description"] == "立白"
    assert (body["points_price"], body["stock"], body["monthly_limit"]) == (120, 20, 2)
    assert body["is_active"] is True
    assert body["on_shelf"] is True
    assert body["community"] == {"id": str(EAST), "name": "东街社区"}
    assert body["company"] is None
    assert body["picture"] is None
    assert body["bought_this_month"] == 0
    assert body["available_from"] is None
    row = await _reward_row(store, body["id"])
    assert (row.name, row.points_price, row.stock, row.monthly_limit) == ("洗衣液 2kg", 120, 20, 2)
    assert row.community_id == EAST
    assert row.company_id is None
    assert row.created_by_id == store.user_id("staff1")
    assert row.available_until is not None
    assert (
        row.available_until.isoformat()
        == datetime.fromisoformat(body["available_until"]).isoformat()
    )


NO_SHOP: Json = {"community_id": None}
BOTH_SHOPS: Json = {"community_id": str(EAST), "company_id": str(SF_COMPANY)}


@pytest.mark.parametrize(
    ("username", "fields", "loc"),
    [
        pytest.param("staff1", NO_SHOP, ["body"], id="no shop"),
        pytest.param("admin", BOTH_SHOPS, ["body"], id="both shops"),
        pytest.param("staff1", {"points_price": 0}, ["body", "points_price"], id="price 0"),
        pytest.param("staff1", {"points_price": -5}, ["body", "points_price"], id="price < 0"),
        pytest.param("staff1", {"stock": -1}, ["body", "stock"], id="negative stock"),
        pytest.param("staff1", {"monthly_limit": 0}, ["body", "monthly_limit"], id="limit 0"),
        pytest.param("staff1", {"name": ""}, ["body", "name"], id="empty name"),
        pytest.param(
            "staff1",
            {"available_from": _in(5), "available_until": _in(4)},
            ["body"],
            id="until before from",
        ),
        pytest.param(
            "staff1",
            {"available_from": "2026-12-01T08:00:00"},
            ["body", "available_from"],
            id="time without zone",
        ),
        pytest.param(
            "admin",
            {"community_id": str(uuid.uuid4())},
            ["body", "community_id"],
            id="unknown community",
        ),
        pytest.param(
            "admin",
            {"company_id": str(uuid.uuid4())},
            ["body", "company_id"],
            id="unknown company",
        ),
    ],
)
async def test_an_invalid_reward_is_refused(
    store: Store, username: str, fields: Json, loc: list[str]
) -> None:
    body: Json = {"name": "洗衣液 2kg", "points_price": 10, "stock": 5, "community_id": str(EAST)}
    if "company_id" in fields and "community_id" not in fields:
        del body["community_id"]
    body.update(fields)

    refused = problem(await store.post("/rewards", username, body), 422, "validation_error")

    assert any(error["loc"][: len(loc)] == loc for error in refused["errors"]), refused
    assert await _reward_count(store) == 0


@pytest.mark.parametrize(
    ("username", "shop", "status"),
    [
        ("staff1", EAST, 201),
        ("admin", EAST, 201),
        ("admin", SF_COMPANY, 201),
        ("sf_manager", SF_COMPANY, 201),
        ("staff2", EAST, 403),
        ("grid1", EAST, 403),
        ("courier1", EAST, 403),
        ("courier1", SF_COMPANY, 403),
        ("supervisor", EAST, 403),
        ("zto_manager", SF_COMPANY, 403),
        ("sf_manager", EAST, 403),
        ("staff1", SF_COMPANY, 403),
    ],
)
async def test_who_may_put_up_a_reward(
    store: Store, username: str, shop: uuid.UUID, status: int
) -> None:
    await _make_people(store)
    field = "company_id" if shop in (SF_COMPANY, ZTO_COMPANY) else "community_id"

    response = await store.post(
        "/rewards", username, {"name": "毛巾", "points_price": 5, "stock": 3, field: str(shop)}
    )

    if status == 201:
        body = answer(response, 201)
        shelf = body["company"] if field == "company_id" else body["community"]
        assert shelf["id"] == str(shop)
        assert (await _reward_row(store, body["id"])).created_by_id == store.user_id(username)
    else:
        problem(response, 403, "forbidden")
        assert await _reward_count(store) == 0


@pytest.mark.parametrize(
    ("username", "shop", "status"),
    [
        ("staff1", EAST, 200),
        ("admin", EAST, 200),
        ("sf_manager", SF_COMPANY, 200),
        ("admin", SF_COMPANY, 200),
        # They see the shelf but do not run it.
        ("grid1", EAST, 403),
        ("courier1", EAST, 403),
        ("supervisor", EAST, 403),
        ("courier1", SF_COMPANY, 403),
        # They do not even see it.
        ("staff2", EAST, 404),
        ("zto_manager", SF_COMPANY, 404),
        ("courier2", SF_COMPANY, 404),
    ],
)
async def test_who_may_change_a_reward(
    store: Store, username: str, shop: uuid.UUID, status: int
) -> None:
    await _make_people(store)
    if shop == EAST:
        reward = await store.put_up("staff1")
    else:
        reward = await store.put_up("sf_manager", company_id=str(SF_COMPANY))

    response = await store.patch(
        f"/rewards/{reward['id']}", username, {"name": "洗衣液 3kg", "stock_change": 2}
    )

    row = await _reward_row(store, reward["id"])
    if status == 200:
        body = answer(response)
        assert (body["name"], body["stock"]) == ("洗衣液 3kg", 7)
        assert (row.name, row.stock) == ("洗衣液 3kg", 7)
    else:
        problem(response, status, "forbidden" if status == 403 else "not_found")
        assert (row.name, row.stock) == ("洗衣液 2kg", 5)


async def test_stock_changes_by_a_delta_and_never_below_zero(store: Store) -> None:
    reward = await store.put_up(stock=5)
    path = f"/rewards/{reward['id']}"

    assert answer(await store.patch(path, "staff1", {"stock_change": 3}))["stock"] == 8
    assert answer(await store.patch(path, "staff1", {"stock_change": -8}))["stock"] == 0
    assert await store.stock(reward["id"]) == 0

    refused = problem(
        await store.patch(path, "staff1", {"stock_change": -1, "name": "改名"}),
        422,
        "validation_error",
    )

    assert refused["errors"][0]["loc"] == ["body", "stock_change"]
    row = await _reward_row(store, reward["id"])
    assert (row.stock, row.name) == (0, "洗衣液 2kg")
    shown = answer(await store.get(path, "staff1"))
    assert (shown["stock"], shown["name"], shown["on_shelf"]) == (0, "洗衣液 2kg", False)


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"name": None}, ["body", "name"]),
        ({"points_price": None}, ["body", "points_price"]),
        ({"is_active": None}, ["body", "is_active"]),
        ({"points_price": 0}, ["body", "points_price"]),
        ({"available_until": "2020-01-01T00:00:00+08:00"}, ["body", "available_until"]),
        ({"unknown": 1}, ["body", "unknown"]),
    ],
)
async def test_an_invalid_change_changes_nothing(
    store: Store, change: Json, loc: list[str]
) -> None:
    reward = await store.put_up(available_from=_in(-1))

    response = await store.patch(
        f"/rewards/{reward['id']}", "staff1", {**change, "stock_change": 4}
    )

    refused = problem(response, 422, "validation_error")
    assert any(error["loc"][: len(loc)] == loc for error in refused["errors"]), refused
    row = await _reward_row(store, reward["id"])
    assert (row.stock, row.points_price, row.is_active) == (5, 10, True)
    assert row.available_until is None


async def test_a_reward_off_the_shelf_is_hidden_from_buyers(store: Store) -> None:
    reward = await store.put_up()
    path = f"/rewards/{reward['id']}"
    assert await _seen(store, "courier1") == ["洗衣液 2kg"]

    changed = answer(await store.patch(path, "staff1", {"is_active": False}))

    assert (changed["is_active"], changed["on_shelf"]) == (False, False)
    assert (await _reward_row(store, reward["id"])).is_active is False
    assert await _seen(store, "courier1") == []
    problem(await store.get(path, "courier1"), 404, "not_found")
    problem(await store.buy("courier1", reward["id"]), 404, "not_found")
    # The shop still sees it, to put it back.
    assert await _seen(store, "staff1") == ["洗衣液 2kg"]
    assert answer(await store.get(path, "staff1"))["is_active"] is False

    answer(await store.patch(path, "staff1", {"is_active": True}))

    assert answer(await store.get(path, "courier1"))["on_shelf"] is True


async def test_shelves_in_and_out_of_their_window(store: Store) -> None:
    await store.put_up(name="已结束", available_from=_in(-10), available_until=_in(-1))
    await store.put_up(name="即将上架", available_from=_in(2))
    await store.put_up(name="售罄", stock=0)
    await store.put_up(name="在售")

    page = answer(await store.get("/rewards", "courier1"))

    shelf = {item["name"]: item["on_shelf"] for item in page["items"]}
    assert shelf == {"即将上架": False, "售罄": False, "在售": True}
    assert sorted(await _seen(store, "staff1")) == sorted(["已结束", "即将上架", "售罄", "在售"])


async def test_a_company_shelf_is_seen_by_its_couriers_and_managers_only(store: Store) -> None:
    await _make_people(store)
    reward = await store.put_up("sf_manager", name="顺丰保温杯", company_id=str(SF_COMPANY))
    path = f"/rewards/{reward['id']}"

    for username in ("courier1", "sf_manager", "admin"):
        assert await _seen(store, username) == ["顺丰保温杯"], username
        assert answer(await store.get(path, username))["company"]["id"] == str(SF_COMPANY)
    # Another company's courier (checked in with 东街社区 too) and manager; a community's
    # staff; the region's supervisor: company shelves are not theirs.
    for username in ("courier2", "zto_manager", "staff1", "supervisor"):
        assert await _seen(store, username) == [], username
        problem(await store.get(path, username), 404, "not_found")


async def test_a_community_shelf_is_seen_by_its_people_only(store: Store) -> None:
    reward = await store.put_up(name="东街洗衣液")
    path = f"/rewards/{reward['id']}"

    # Its staff and grid worker, couriers checked in with it, the supervisors of its banner
    # and of its township, the viewer of its banner.
    for username in ("staff1", "grid1", "courier1", "courier2", "supervisor", "supervisor2"):
        assert await _seen(store, username) == ["东街洗衣液"], username
        assert answer(await store.get(path, username))["community"]["id"] == str(EAST)
    assert await _seen(store, "viewer") == ["东街洗衣液"]
    # Another community's staff; a courier only asking to check in; a unit; a resident.
    for username in ("staff2", "courier11", "unit1", "resident1"):
        assert await _seen(store, username) == [], username
        problem(await store.get(path, username), 404, "not_found")


async def test_earning_points_in_a_community_brings_its_shelf_in_sight(store: Store) -> None:
    await store.put_up(name="东街洗衣液")
    await store.put_up("staff2", name="北街毛巾", community_id=str(NORTH))
    assert await _seen(store, "resident1") == []

    await store.grant("resident1", 30, community=NORTH)

    assert await _seen(store, "resident1") == ["北街毛巾"]
    assert await _seen(store, "staff2") == ["北街毛巾"]
    assert await _seen(store, "staff1") == ["东街洗衣液"]


async def test_the_shelves_can_be_narrowed_to_one_shop(store: Store) -> None:
    await store.put_up(name="东街洗衣液")
    await store.put_up("staff2", name="北街毛巾", community_id=str(NORTH))
    await store.put_up("admin", name="顺丰保温杯", company_id=str(SF_COMPANY))

    assert sorted(await _seen(store, "admin")) == sorted(["东街洗衣液", "北街毛巾", "顺丰保温杯"])
    assert await _seen(store, "admin", community_id=str(NORTH)) == ["北街毛巾"]
    assert await _seen(store, "admin", company_id=str(SF_COMPANY)) == ["顺丰保温杯"]
    assert await _seen(store, "courier1", community_id=str(NORTH)) == []
