"""Paired units and their pairings with communities: who may read, who may change them."""

from __future__ import annotations

import httpx

from tests.conftest import LoginFn
from tests.org.conftest import DemoIds, Headers


async def test_units_are_listed_and_filtered(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    headers = await login("unit3")
    everything = await client.get("/api/v1/units", headers=headers)
    assert everything.status_code == 200
    units = everything.json()["items"]
    assert len(units) == 10
    assert units[0]["region"] == {"id": str(demo.banner), "name": "杭锦后旗"}
    enterprises = await client.get("/api/v1/units", params={"kind": "enterprise"}, headers=headers)
    assert {u["name"] for u in enterprises.json()["items"]} == {
        "国网杭锦后旗供电公司",
        "杭锦后旗自来水公司",
    }
    bureaus = await client.get("/api/v1/units", params={"q": "局"}, headers=headers)
    assert len(bureaus.json()["items"]) == 5
    in_city = await client.get(
        "/api/v1/units", params={"region_id": str(demo.city)}, headers=headers
    )
    assert len(in_city.json()["items"]) == 10  # the banner is in the city's subtree
    in_town = await client.get(
        "/api/v1/units", params={"region_id": str(demo.seat)}, headers=headers
    )
    assert in_town.json()["items"] == []
    paged = await client.get("/api/v1/units", params={"limit": 4}, headers=headers)
    assert len(paged.json()["items"]) == 4
    assert paged.json()["next_cursor"]


async def test_unit_detail_lists_its_communities(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    response = await client.get(
        f"/api/v1/units/{demo.farming_bureau}", headers=await login("staff1")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "旗农牧和科技局"
    assert body["kind"] == "department"
    communities = {p["community"]["name"] for p in body["communities"]}
    assert {"东街社区", "联丰村", "巴音嘎查"} <= communities
    missing = await client.get(
        "/api/v1/units/00000000-0000-0000-0000-000000000000", headers=await login("staff1")
    )
    assert missing.status_code == 404


async def test_admin_manages_units_with_unique_names(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    created = await client.post(
        "/api/v1/units",
        json={"name": "旗教育局", "kind": "department", "region_id": str(demo.banner)},
        headers=admin,
    )
    assert created.status_code == 201
    assert created.json()["communities"] == []
    unit_id = created.json()["id"]
    duplicate = await client.post(
        "/api/v1/units",
        json={"name": "旗教育局", "kind": "public_body", "region_id": str(demo.city)},
        headers=admin,
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "name_taken"
    unknown_region = await client.post(
        "/api/v1/units",
        json={
            "name": "旗卫健委",
            "kind": "department",
            "region_id": "00000000-0000-0000-0000-000000000000",
        },
        headers=admin,
    )
    assert unknown_region.status_code == 422
    assert unknown_region.json()["errors"][0]["loc"] == ["body", "region_id"]
    changed = await client.patch(
        f"/api/v1/units/{unit_id}",
        json={"phone": "0478-6620000", "description": "教育"},
        headers=admin,
    )
    assert changed.json()["phone"] == "0478-6620000"
    clash = await client.patch(f"/api/v1/units/{unit_id}", json={"name": "旗科协"}, headers=admin)
    assert clash.status_code == 409
    assert (await client.delete(f"/api/v1/units/{unit_id}", headers=admin)).status_code == 204
    assert (await client.get(f"/api/v1/units/{unit_id}", headers=admin)).status_code == 404


async def test_a_unit_whose_staff_hold_roles_is_not_deleted(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    response = await client.delete(f"/api/v1/units/{demo.farming_bureau}", headers=admin)
    assert response.status_code == 409
    assert response.json()["code"] == "in_use"


async def test_non_admins_cannot_write_units(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    for username in ("supervisor", "unit1"):
        headers = await login(username)
        created = await client.post(
            "/api/v1/units",
            json={"name": "越权局", "kind": "department", "region_id": str(demo.banner)},
            headers=headers,
        )
        assert created.status_code == 403
        changed = await client.patch(
            f"/api/v1/units/{demo.farming_bureau}", json={"phone": "1"}, headers=headers
        )
        assert changed.status_code == 403


async def test_pairings_of_a_community(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    response = await client.get(
        f"/api/v1/communities/{demo.east_street}/pairings", headers=await login("unit1")
    )
    assert response.status_code == 200
    pairings = {p["unit"]["name"]: p for p in response.json()}
    assert len(pairings) == 6
    assert pairings["杭锦后旗自来水公司"]["category_codes"] == ["water_pipe_leak"]
    assert pairings["旗红十字会"]["community"] == {"id": str(demo.east_street), "name": "东街社区"}
    missing = await client.get(
        "/api/v1/communities/00000000-0000-0000-0000-000000000000/pairings",
        headers=await login("unit1"),
    )
    assert missing.status_code == 404


async def test_admin_pairs_a_unit_once(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    url = f"/api/v1/communities/{demo.east_street}/pairings"
    created = await client.post(
        url,
        json={
            "unit_id": str(demo.transport_bureau),
            "category_codes": ["road_damage", "traffic_sign_damage", "road_damage"],
        },
        headers=admin,
    )
    assert created.status_code == 201
    assert created.json()["unit"] == {"id": str(demo.transport_bureau), "name": "旗交通运输局"}
    assert created.json()["category_codes"] == ["road_damage", "traffic_sign_damage"]
    again = await client.post(url, json={"unit_id": str(demo.transport_bureau)}, headers=admin)
    assert again.status_code == 409
    assert again.json()["code"] == "already_paired"
    detail = await client.get(f"/api/v1/units/{demo.transport_bureau}", headers=admin)
    assert "东街社区" in {p["community"]["name"] for p in detail.json()["communities"]}


async def test_pairing_an_unknown_unit_or_category_is_422(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    url = f"/api/v1/communities/{demo.north_street}/pairings"
    unknown_unit = await client.post(
        url, json={"unit_id": "00000000-0000-0000-0000-000000000000"}, headers=admin
    )
    assert unknown_unit.status_code == 422
    assert unknown_unit.json()["errors"][0]["loc"] == ["body", "unit_id"]
    unknown_category = await client.post(
        url,
        json={"unit_id": str(demo.red_cross), "category_codes": ["road_damage", "ufo_sighting"]},
        headers=admin,
    )
    assert unknown_category.status_code == 422
    assert unknown_category.json()["errors"][0]["loc"] == ["body", "category_codes", 1]
    assert "ufo_sighting" in unknown_category.json()["errors"][0]["msg"]
    empty = await client.post(
        url, json={"unit_id": str(demo.red_cross), "category_codes": []}, headers=admin
    )
    assert empty.status_code == 422
    unknown_community = await client.post(
        "/api/v1/communities/00000000-0000-0000-0000-000000000000/pairings",
        json={"unit_id": str(demo.red_cross)},
        headers=admin,
    )
    assert unknown_community.status_code == 404


async def test_a_supervisor_manages_pairings_in_their_region_only(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    town_supervisor = await login("supervisor2")  # 陕坝镇
    in_town = await client.post(
        f"/api/v1/communities/{demo.north_street}/pairings",
        json={"unit_id": str(demo.red_cross)},
        headers=town_supervisor,
    )
    assert in_town.status_code == 201
    out_of_town = await client.post(
        f"/api/v1/communities/{demo.toudaoqiao}/pairings",
        json={"unit_id": str(demo.red_cross)},
        headers=town_supervisor,
    )
    assert out_of_town.status_code == 404
    assert out_of_town.json()["code"] == "not_found"

    theirs = {
        p["unit"]["name"]: p["id"]
        for p in (
            await client.get(
                f"/api/v1/communities/{demo.toudaoqiao}/pairings", headers=town_supervisor
            )
        ).json()
    }
    foreign = await client.delete(
        f"/api/v1/pairings/{theirs['旗交通运输局']}", headers=town_supervisor
    )
    assert foreign.status_code == 404
    banner_supervisor = await login("supervisor")
    limited = await client.patch(
        f"/api/v1/pairings/{theirs['旗交通运输局']}",
        json={"category_codes": ["road_damage"]},
        headers=banner_supervisor,
    )
    assert limited.status_code == 200
    assert limited.json()["category_codes"] == ["road_damage"]
    widened = await client.patch(
        f"/api/v1/pairings/{theirs['旗交通运输局']}",
        json={"category_codes": None},
        headers=banner_supervisor,
    )
    assert widened.json()["category_codes"] is None
    ended = await client.delete(
        f"/api/v1/pairings/{theirs['旗交通运输局']}", headers=banner_supervisor
    )
    assert ended.status_code == 204
    left = await client.get(
        f"/api/v1/communities/{demo.toudaoqiao}/pairings", headers=banner_supervisor
    )
    assert "旗交通运输局" not in {p["unit"]["name"] for p in left.json()}


async def test_unit_staff_and_community_staff_cannot_write_pairings(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    pairings = (
        await client.get(
            f"/api/v1/communities/{demo.east_street}/pairings", headers=await login("unit1")
        )
    ).json()
    own = next(p for p in pairings if p["unit"]["id"] == str(demo.farming_bureau))
    for username in ("unit1", "staff1", "viewer", "courier1"):
        headers = await login(username)
        created = await client.post(
            f"/api/v1/communities/{demo.east_street}/pairings",
            json={"unit_id": str(demo.transport_bureau)},
            headers=headers,
        )
        assert created.status_code == 403
        assert created.json()["code"] == "forbidden"
        deleted = await client.delete(f"/api/v1/pairings/{own['id']}", headers=headers)
        assert deleted.status_code == 403


async def test_a_supervisor_pairs_units_of_their_line_not_of_another_township(
    client: httpx.AsyncClient, login: LoginFn, admin: Headers, demo: DemoIds
) -> None:
    """A township's supervisor pairs the banner's departments (above it) and its own units
    with its communities, not a unit another township runs; the banner's supervisor can."""
    other_township_unit = await client.post(
        "/api/v1/units",
        json={
            "name": "头道桥镇综合执法队",
            "kind": "department",
            "region_id": str(demo.toudaoqiao_town),
        },
        headers=admin,
    )
    assert other_township_unit.status_code == 201
    own_township_unit = await client.post(
        "/api/v1/units",
        json={"name": "陕坝镇综合执法队", "kind": "department", "region_id": str(demo.seat)},
        headers=admin,
    )
    assert own_township_unit.status_code == 201
    url = f"/api/v1/communities/{demo.north_street}/pairings"
    town_supervisor = await login("supervisor2")  # 陕坝镇

    refused = await client.post(
        url, json={"unit_id": other_township_unit.json()["id"]}, headers=town_supervisor
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "unit_id"]
    assert "头道桥镇综合执法队" in refused.json()["errors"][0]["msg"]

    for unit_id in (own_township_unit.json()["id"], str(demo.transport_bureau)):
        paired = await client.post(url, json={"unit_id": unit_id}, headers=town_supervisor)
        assert paired.status_code == 201, paired.text

    banner_supervisor = await login("supervisor")
    by_the_banner = await client.post(
        url, json={"unit_id": other_township_unit.json()["id"]}, headers=banner_supervisor
    )
    assert by_the_banner.status_code == 201
    by_an_admin = await client.post(
        f"/api/v1/communities/{demo.east_street}/pairings",
        json={"unit_id": other_township_unit.json()["id"]},
        headers=admin,
    )
    assert by_an_admin.status_code == 201
    names = {p["unit"]["name"] for p in (await client.get(url, headers=town_supervisor)).json()}
    assert {"陕坝镇综合执法队", "旗交通运输局", "头道桥镇综合执法队"} <= names


async def test_a_dashboard_key_cannot_write_pairings(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    created = await client.post(
        "/api/v1/api-keys", json={"name": "大屏", "region_id": str(demo.banner)}, headers=admin
    )
    key = {"Authorization": f"Bearer {created.json()['key']}"}
    url = f"/api/v1/communities/{demo.east_street}/pairings"
    assert (await client.get(url, headers=key)).status_code == 200
    refused = await client.post(url, json={"unit_id": str(demo.transport_bureau)}, headers=key)
    assert refused.status_code == 403
    pairing = (await client.get(url, headers=key)).json()[0]
    ended = await client.delete(f"/api/v1/pairings/{pairing['id']}", headers=key)
    assert ended.status_code == 403
