"""Personal data in the points store and micro-wishes: in the person's export, gone with a
cancelled account (its purchases undone, its wishes withdrawn or handed back), and erased from
ended wishes after the retention period."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.demo.seed import demo_id
from app.models import PointsEntry, Reward, Wish
from app.privacy.retention import prune_personal_data
from tests.conftest import DEMO_PASSWORD, LoginFn
from tests.reports.conftest import photo_bytes

EAST = str(demo_id("community", "陕坝镇", "东街社区"))
BAG = demo_id("reward", "东街社区", "环保购物袋")
NOW = datetime.now(UTC).replace(microsecond=0)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _points(session: AsyncSession, username: str, points: int) -> None:
    session.add(
        PointsEntry(
            user_id=demo_id("user", username),
            rule="accepted",
            points=points,
            points_before_cap=points,
            community_id=uuid.UUID(EAST),
        )
    )
    await session.commit()


async def _wish(client: httpx.AsyncClient, headers: dict[str, str], title: str) -> str:
    body = {"community_id": EAST, "title": title, "phone": "13904781234", "address": "3号楼"}
    return str(ok(await client.post("/api/v1/wishes", json=body, headers=headers), 201)["id"])


async def test_the_export_holds_ones_wishes_and_purchases(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    resident, courier = await login("resident1"), await login("courier1")
    await _points(session, "courier1", 50)
    wish = await _wish(client, resident, "修自行车")
    ok(await client.post(f"/api/v1/wishes/{wish}/publish", headers=await login("staff1")))
    ok(await client.post(f"/api/v1/wishes/{wish}/claim", headers=courier))
    bought = ok(
        await client.post("/api/v1/redemptions", json={"reward_id": str(BAG)}, headers=courier),
        201,
    )

    mine = ok(await client.get("/api/v1/me/export", headers=resident))
    [posted] = [w for w in mine["wishes"] if w["id"] == wish]
    assert (posted["part"], posted["contact_phone"], posted["address"]) == (
        "resident",
        "13904781234",
        "3号楼",
    )
    theirs = ok(await client.get("/api/v1/me/export", headers=courier))
    [claimed] = theirs["wishes"]
    # The volunteer's copy is the volunteer's data, not the resident's.
    assert (claimed["part"], claimed["contact_phone"], claimed["address"]) == (
        "volunteer",
        None,
        None,
    )
    assert [(r["reward"], r["code"], r["points"]) for r in theirs["redemptions"]] == [
        ("环保购物袋", bought["code"], 20)
    ]


async def test_a_cancelled_account_undoes_its_purchases_and_lets_go_of_its_wishes(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    courier, staff = await login("courier1"), await login("staff1")
    await _points(session, "courier1", 50)
    stock = (await session.get_one(Reward, BAG)).stock
    ok(await client.post("/api/v1/redemptions", json={"reward_id": str(BAG)}, headers=courier), 201)
    own = await _wish(client, courier, "帮忙搬家具")
    taken = await _wish(client, await login("resident1"), "修自行车")
    ok(await client.post(f"/api/v1/wishes/{taken}/publish", headers=staff))
    ok(await client.post(f"/api/v1/wishes/{taken}/claim", headers=courier))

    cancelled = await client.post(
        "/api/v1/me/cancel", json={"password": DEMO_PASSWORD}, headers=courier
    )
    assert cancelled.status_code == 200, cancelled.text

    session.expire_all()
    assert (await session.get_one(Reward, BAG)).stock == stock
    [purchase] = ok(await client.get("/api/v1/redemptions", headers=staff))["items"]
    assert purchase["status"] == "cancelled"
    own_wish = await session.get_one(Wish, uuid.UUID(own))
    assert own_wish.status.value == "withdrawn"
    assert (own_wish.resident_name, own_wish.resident_phone, own_wish.address) == (None,) * 3
    handed_back = ok(await client.get(f"/api/v1/wishes/{taken}", headers=staff))
    assert (handed_back["status"], handed_back["claimant"]) == ("published", None)
    total = await session.scalar(
        select(PointsEntry.points).where(
            PointsEntry.user_id == demo_id("user", "courier1"),
            PointsEntry.rule == "account_closed",
        )
    )
    assert total is not None
    assert total <= 0


async def test_a_cancelled_residents_wish_under_way_is_confirmed_by_staff(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    """Nobody is left to confirm it: the community's staff do, at once, once it is done."""
    resident, staff, courier = (
        await login("resident1"),
        await login("staff1"),
        await login("courier1"),
    )
    wish = await _wish(client, resident, "修自行车")
    ok(await client.post(f"/api/v1/wishes/{wish}/publish", headers=staff))
    ok(await client.post(f"/api/v1/wishes/{wish}/claim", headers=courier))
    cancelled = await client.post(
        "/api/v1/me/cancel", json={"password": DEMO_PASSWORD}, headers=resident
    )
    assert cancelled.status_code == 200, cancelled.text
    claimed = ok(await client.get(f"/api/v1/wishes/{wish}", headers=courier))
    # Still the volunteer's to do, with nobody left to call.
    assert claimed["status"] == "claimed"
    assert claimed["contact"] == {"name": None, "phone": None, "address": None}
    photo = ("done.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")
    upload = ok(await client.post("/api/v1/uploads", files={"file": photo}, headers=courier), 201)
    ok(
        await client.post(
            f"/api/v1/wishes/{wish}/fulfil", json={"photo_id": upload["id"]}, headers=courier
        )
    )
    confirmed = ok(await client.post(f"/api/v1/wishes/{wish}/confirm", headers=staff))
    assert confirmed["status"] == "confirmed"


async def test_an_ended_wish_loses_its_contact_after_the_retention_period(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    settings: Settings = app.state.settings
    resident = await login("resident1")
    old, recent, open_one = [await _wish(client, resident, t) for t in ("甲", "乙", "丙")]
    for wish_id in (old, recent):
        ok(await client.post(f"/api/v1/wishes/{wish_id}/withdraw", json={}, headers=resident))
    days = settings.retention_days
    for wish_id, age in ((old, days + 1), (recent, days - 1), (open_one, days + 1)):
        await session.execute(
            update(Wish)
            .where(Wish.id == uuid.UUID(wish_id))
            .values(updated_at=NOW - timedelta(days=age))
        )
    await session.commit()

    pruned = await prune_personal_data(app.state.sessionmaker, settings, NOW)

    assert pruned.deleted.get("wish_contacts") == 1
    session.expire_all()
    contacts = {
        str(w.id): w.resident_phone
        for w in (await session.scalars(select(Wish).where(Wish.resident_id.is_not(None)))).all()
    }
    assert contacts[old] is None
    assert contacts[recent] == "13904781234"
    assert contacts[open_one] == "13904781234"
