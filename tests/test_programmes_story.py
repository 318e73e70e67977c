"""The README's second walkthrough, through the HTTP API with the demo accounts: 随手清 earns
points, the points buy an item of 东街社区's store that the staff hand over against its code,
and a resident's micro-wish goes from review to a volunteer's points."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LoginFn
from tests.reports.conftest import photo_bytes

BEFORE = ("before.jpg", photo_bytes("DSCN0010.jpg"), "image/jpeg")
AFTER = ("after.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")
API = "/api/v1"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _clear_on_the_spot(
    client: httpx.AsyncClient, courier: dict[str, str], staff: dict[str, str]
) -> None:
    report = ok(
        await client.post(
            f"{API}/reports",
            headers=courier,
            data={
                "category_code": "exposed_garbage",
                "description": "巷口堆放的垃圾已随手清理",
                "lat": "40.8436",
                "lng": "107.1499",
                "handled_on_the_spot": "true",
            },
            files=[("photos", BEFORE), ("after_photos", AFTER)],
        ),
        201,
    )
    assert (report["status"], report["handled_on_the_spot"]) == ("resolved", True)
    checked = ok(
        await client.post(
            f"{API}/reports/{report['id']}/verify", headers=staff, data={"passed": "true"}
        )
    )
    assert checked["status"] == "closed"


async def test_cleared_on_the_spot_then_spent_in_the_store(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    courier, staff = await login("courier1"), await login("staff1")
    before = ok(await client.get(f"{API}/points/me", headers=courier))["balance"]
    await _clear_on_the_spot(client, courier, staff)
    points = ok(await client.get(f"{API}/points/me", headers=courier))
    assert points["balance"] == before + 20
    assert (points["items"][0]["rule"], points["items"][0]["points"]) == ("self_resolved", 20)

    shelf = ok(await client.get(f"{API}/rewards", headers=courier))["items"]
    assert {(r["name"], r["points_price"]) for r in shelf} == {
        ("环保购物袋", 20),
        ("洗衣液 2kg", 120),
        ("理发券", 80),
        ("电动车充电卡 50 元", 200),
    }
    bag = next(r for r in shelf if r["name"] == "环保购物袋")
    bought = ok(
        await client.post(
            f"{API}/redemptions",
            json={"reward_id": bag["id"]},
            headers={**courier, "Idempotency-Key": "walkthrough-bag-1"},
        ),
        201,
    )
    assert (bought["status"], bought["points"], bought["balance"]) == (
        "pending",
        20,
        before,
    )
    handed = ok(
        await client.post(
            f"{API}/redemptions/hand-over",
            json={"code": bought["code"].lower()},
            headers=staff,
        )
    )
    assert (handed["status"], handed["buyer"]["display_name"]) == ("handed_over", "孙浩")
    after = ok(await client.get(f"{API}/points/me", headers=courier))
    assert after["balance"] == before
    assert after["earned_today"] == 20  # spending is not earning
    assert ok(await client.get(f"{API}/rewards/{bag['id']}", headers=courier))["stock"] == 49


async def test_a_micro_wish_from_review_to_the_volunteers_points(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    staff, resident = await login("staff1"), await login("resident1")
    volunteer = await login("volunteer1")
    [wish] = ok(await client.get(f"{API}/wishes?status=submitted", headers=staff))["items"]
    # Under review, the wish is the community's business: its volunteer does not see it yet.
    assert (await client.get(f"{API}/wishes/{wish['id']}", headers=volunteer)).status_code == 404
    published = ok(await client.post(f"{API}/wishes/{wish['id']}/publish", headers=staff))
    assert (published["status"], published["contact"]) == ("published", None)

    listed = ok(await client.get(f"{API}/wishes?status=published", headers=volunteer))["items"]
    assert {w["title"] for w in listed} == {"帮忙更换楼道灯泡", "想要一台收音机", "陪同去医院复查"}
    assert all(w["contact"] is None for w in listed)
    claimed = ok(await client.post(f"{API}/wishes/{wish['id']}/claim", headers=volunteer))
    assert claimed["contact"]["name"] == "吴桂兰"
    assert claimed["actions"] == ["release", "fulfil"]

    upload = ok(await client.post(f"{API}/uploads", files={"file": AFTER}, headers=volunteer), 201)
    fulfilled = ok(
        await client.post(
            f"{API}/wishes/{wish['id']}/fulfil",
            json={"photo_id": upload["id"], "note": "灯泡已换好"},
            headers=volunteer,
        )
    )
    assert fulfilled["status"] == "fulfilled"
    picture = await client.get(fulfilled["fulfilment_picture"]["display_url"])
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/jpeg"

    confirmed = ok(await client.post(f"{API}/wishes/{wish['id']}/confirm", headers=resident))
    assert (confirmed["status"], confirmed["actions"]) == ("confirmed", ["thank"])
    thanked = ok(
        await client.post(
            f"{API}/wishes/{wish['id']}/thank", json={"note": "谢谢小周！"}, headers=resident
        )
    )
    assert thanked["thanks_note"] == "谢谢小周！"
    points = ok(await client.get(f"{API}/points/me", headers=volunteer))
    assert points["balance"] == 10
    assert [(e["rule"], e["wish_id"]) for e in points["items"]] == [("wish_fulfilled", wish["id"])]
