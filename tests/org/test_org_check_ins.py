"""Couriers checking in (报到) with communities, and the staff deciding: who sees what, who
decides what."""

from __future__ import annotations

from typing import Any

import httpx

from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.org.conftest import DemoIds, Headers

COURIER11_EAST = demo_id("check_in", "courier11", "东街社区")  # pending in community 1
COURIER12_EAST = demo_id("check_in", "courier12", "东街社区")  # pending in community 1
COURIER13_NORTH = demo_id("check_in", "courier13", "北街社区")  # pending in community 2
COURIER6_TOUDAOQIAO = demo_id("check_in", "courier6", "头道桥社区")  # approved, another town


async def all_check_ins(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/check-ins", params={"limit": 200, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_courier_checks_in_for_their_own_branch(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    response = await client.post(
        f"/api/v1/communities/{demo.north_street}/check-ins",
        json={"note": "负责北街片区"},
        headers=await login("courier1"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "pending"
    assert body["community"] == {"id": str(demo.north_street), "name": "北街社区"}
    assert body["branch"] == {"id": str(demo.sf_branch), "name": "顺丰速运杭锦后旗营业部"}
    assert body["courier"]["display_name"] == "孙浩"
    assert body["note"] == "负责北街片区"
    assert body["decided_at"] is None
    assert body["decided_by"] is None


async def test_an_empty_body_is_enough(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    response = await client.post(
        f"/api/v1/communities/{demo.toudaoqiao}/check-ins", headers=await login("courier2")
    )
    assert response.status_code == 201
    assert response.json()["branch"]["id"] == str(demo.zto_branch)


async def test_a_pending_or_approved_check_in_is_not_asked_twice(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    headers = await login("courier1")
    approved = await client.post(
        f"/api/v1/communities/{demo.east_street}/check-ins", json={}, headers=headers
    )
    assert approved.status_code == 409
    assert approved.json()["code"] == "already_checked_in"
    first = await client.post(
        f"/api/v1/communities/{demo.north_street}/check-ins", json={}, headers=headers
    )
    assert first.status_code == 201
    second = await client.post(
        f"/api/v1/communities/{demo.north_street}/check-ins", json={}, headers=headers
    )
    assert second.status_code == 409


async def test_only_couriers_check_in_and_only_for_their_branch(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    for username in ("admin", "staff1", "resident1"):
        refused = await client.post(
            f"/api/v1/communities/{demo.north_street}/check-ins",
            json={},
            headers=await login(username),
        )
        assert refused.status_code == 403
    headers = await login("courier1")
    other_branch = await client.post(
        f"/api/v1/communities/{demo.north_street}/check-ins",
        json={"branch_id": str(demo.zto_branch)},
        headers=headers,
    )
    assert other_branch.status_code == 422
    assert other_branch.json()["errors"][0]["loc"] == ["body", "branch_id"]
    unknown_branch = await client.post(
        f"/api/v1/communities/{demo.north_street}/check-ins",
        json={"branch_id": "00000000-0000-0000-0000-000000000000"},
        headers=headers,
    )
    assert unknown_branch.status_code == 422
    unknown_community = await client.post(
        "/api/v1/communities/00000000-0000-0000-0000-000000000000/check-ins",
        json={},
        headers=headers,
    )
    assert unknown_community.status_code == 404


async def test_a_courier_sees_only_their_own_check_ins(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    mine = await all_check_ins(client, await login("courier1"))
    assert {c["community"]["name"] for c in mine} == {"东街社区", "南街社区"}
    assert {c["courier"]["display_name"] for c in mine} == {"孙浩"}
    hidden = await client.get(
        f"/api/v1/check-ins/{COURIER11_EAST}", headers=await login("courier1")
    )
    assert hidden.status_code == 404


async def test_community_staff_see_their_community_only(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    staff1 = await all_check_ins(client, await login("staff1"))
    assert {c["community"]["name"] for c in staff1} == {"东街社区"}
    assert str(COURIER11_EAST) in {c["id"] for c in staff1}
    staff2 = await all_check_ins(client, await login("staff2"))
    assert {c["community"]["name"] for c in staff2} == {"北街社区"}
    assert str(COURIER11_EAST) not in {c["id"] for c in staff2}
    seen = await client.get(f"/api/v1/check-ins/{COURIER11_EAST}", headers=await login("staff2"))
    assert seen.status_code == 404
    filtered = await all_check_ins(
        client, await login("staff1"), status="pending", community_id=str(demo.east_street)
    )
    assert {c["id"] for c in filtered} == {str(COURIER11_EAST), str(COURIER12_EAST)}
    newest_first = [c["requested_at"] for c in staff1]
    assert newest_first == sorted(newest_first, reverse=True)


async def test_supervisors_see_their_region_subtree(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    banner = await all_check_ins(client, await login("supervisor"))
    assert str(COURIER6_TOUDAOQIAO) in {c["id"] for c in banner}
    town = await all_check_ins(client, await login("supervisor2"))
    assert str(COURIER11_EAST) in {c["id"] for c in town}
    assert str(COURIER6_TOUDAOQIAO) not in {c["id"] for c in town}


async def test_check_ins_are_paginated(client: httpx.AsyncClient, login: LoginFn) -> None:
    headers = await login("admin")
    first = await client.get("/api/v1/check-ins", params={"limit": 10}, headers=headers)
    rest = await client.get(
        "/api/v1/check-ins",
        params={"limit": 200, "cursor": first.json()["next_cursor"]},
        headers=headers,
    )
    ids = [c["id"] for c in first.json()["items"] + rest.json()["items"]]
    assert len(ids) == len(set(ids)) == len(await all_check_ins(client, headers))


async def test_roles_without_check_ins_get_403(client: httpx.AsyncClient, login: LoginFn) -> None:
    for username in ("unit1", "resident1", "viewer"):
        response = await client.get("/api/v1/check-ins", headers=await login(username))
        assert response.status_code == 403


async def test_staff_of_the_community_approve_once(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    headers = await login("staff1")
    approved = await client.post(
        f"/api/v1/check-ins/{COURIER11_EAST}/approve", json={"note": "欢迎"}, headers=headers
    )
    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "approved"
    assert body["decided_by"]["display_name"] == "刘芳"
    assert body["decision_reason"] == "欢迎"
    assert body["decided_at"] is not None
    again = await client.post(f"/api/v1/check-ins/{COURIER11_EAST}/approve", headers=headers)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    reject = await client.post(
        f"/api/v1/check-ins/{COURIER11_EAST}/reject", json={"reason": "改主意"}, headers=headers
    )
    assert reject.status_code == 409
    assert reject.json()["code"] == "invalid_transition"
    courier_view = await client.get(
        f"/api/v1/check-ins/{COURIER11_EAST}", headers=await login("courier11")
    )
    assert courier_view.json()["status"] == "approved"


async def test_staff_of_another_community_cannot_decide(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    headers = await login("staff2")
    for action, body in (("approve", {}), ("reject", {"reason": "不认识"})):
        response = await client.post(
            f"/api/v1/check-ins/{COURIER11_EAST}/{action}", json=body, headers=headers
        )
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    still = await client.get(f"/api/v1/check-ins/{COURIER11_EAST}", headers=await login("staff1"))
    assert still.json()["status"] == "pending"


async def test_couriers_and_others_cannot_decide(client: httpx.AsyncClient, login: LoginFn) -> None:
    for username in ("courier11", "unit1", "grid1", "viewer"):
        response = await client.post(
            f"/api/v1/check-ins/{COURIER11_EAST}/approve", headers=await login(username)
        )
        assert response.status_code == 403


async def test_a_rejection_needs_a_reason_and_the_courier_may_ask_again(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    headers = await login("staff1")
    no_reason = await client.post(
        f"/api/v1/check-ins/{COURIER12_EAST}/reject", json={}, headers=headers
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["loc"] == ["body", "reason"]
    blank = await client.post(
        f"/api/v1/check-ins/{COURIER12_EAST}/reject", json={"reason": ""}, headers=headers
    )
    assert blank.status_code == 422
    rejected = await client.post(
        f"/api/v1/check-ins/{COURIER12_EAST}/reject",
        json={"reason": "不在本社区投递范围"},
        headers=headers,
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "不在本社区投递范围"
    again = await client.post(
        f"/api/v1/communities/{demo.east_street}/check-ins",
        json={},
        headers=await login("courier12"),
    )
    assert again.status_code == 201


async def test_supervisors_decide_in_their_region(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    approved = await client.post(
        f"/api/v1/check-ins/{COURIER13_NORTH}/approve", headers=await login("supervisor")
    )
    assert approved.status_code == 200
    assert approved.json()["decided_by"]["display_name"] == "王建国"
    admin = await client.post(
        f"/api/v1/check-ins/{COURIER12_EAST}/reject",
        json={"reason": "重复报到"},
        headers=await login("admin"),
    )
    assert admin.status_code == 200


async def test_a_supervisor_of_another_township_cannot_decide(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds, admin: Headers
) -> None:
    # A pending check-in in 头道桥镇, outside supervisor2's 陕坝镇.
    pending = await client.post(
        f"/api/v1/communities/{demo.toudaoqiao}/check-ins", json={}, headers=await login("courier1")
    )
    response = await client.post(
        f"/api/v1/check-ins/{pending.json()['id']}/approve", headers=await login("supervisor2")
    )
    assert response.status_code == 404
