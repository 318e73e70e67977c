"""The region tree: reading it, and what an admin may add, rename and delete."""

from __future__ import annotations

import httpx

from tests.conftest import LoginFn
from tests.org.conftest import DemoIds, Headers


async def test_regions_list_the_whole_tree_parents_first(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    response = await client.get("/api/v1/regions", headers=await login("resident1"))
    assert response.status_code == 200
    regions = response.json()
    assert [r["level"] for r in regions] == ["city", "county", "township", "township", "township"]
    by_name = {r["name"]: r for r in regions}
    assert by_name["巴彦淖尔市"]["parent_id"] is None
    assert by_name["杭锦后旗"]["parent_id"] == str(demo.city)
    assert by_name["陕坝镇"]["parent_id"] == str(demo.banner)
    assert by_name["陕坝镇"]["code"] == "150826100"


async def test_regions_filtered_by_parent_are_its_children(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    response = await client.get(
        "/api/v1/regions", params={"parent_id": str(demo.banner)}, headers=await login("viewer")
    )
    assert response.status_code == 200
    assert {r["name"] for r in response.json()} == {"陕坝镇", "头道桥镇", "团结镇"}


async def test_region_detail_shows_ancestors_root_first_and_children(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    headers = await login("staff1")
    seat = (await client.get(f"/api/v1/regions/{demo.seat}", headers=headers)).json()
    assert [a["name"] for a in seat["ancestors"]] == ["巴彦淖尔市", "杭锦后旗"]
    assert seat["children"] == []
    banner = (await client.get(f"/api/v1/regions/{demo.banner}", headers=headers)).json()
    assert len(banner["children"]) == 3


async def test_unknown_region_is_404_and_unauthenticated_is_401(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    missing = await client.get(
        "/api/v1/regions/00000000-0000-0000-0000-000000000000", headers=await login("admin")
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    anonymous = await client.get("/api/v1/regions")
    assert anonymous.status_code == 401


async def test_a_dashboard_api_key_reads_reference_data(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    created = await client.post(
        "/api/v1/api-keys", json={"name": "大屏", "region_id": str(demo.banner)}, headers=admin
    )
    assert created.status_code == 201
    key = {"Authorization": f"Bearer {created.json()['key']}"}
    for path in ("/api/v1/regions", "/api/v1/communities", "/api/v1/units"):
        assert (await client.get(path, headers=key)).status_code == 200
    refused = await client.post("/api/v1/regions", json={"name": "x", "level": "city"}, headers=key)
    assert refused.status_code == 403


async def test_levels_follow_from_the_parent(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    county = await client.post(
        "/api/v1/regions",
        json={"name": "临河区", "code": "150802", "parent_id": str(demo.city)},
        headers=admin,
    )
    assert county.status_code == 201
    assert county.json()["level"] == "county"
    assert [a["name"] for a in county.json()["ancestors"]] == ["巴彦淖尔市"]
    township = await client.post(
        "/api/v1/regions",
        json={"name": "新华街道", "parent_id": county.json()["id"], "level": "township"},
        headers=admin,
    )
    assert township.status_code == 201
    assert township.json()["level"] == "township"
    children = await client.get(
        "/api/v1/regions", params={"parent_id": county.json()["id"]}, headers=admin
    )
    assert [r["name"] for r in children.json()] == ["新华街道"]


async def test_a_wrong_level_or_a_child_of_a_township_is_422(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    wrong_level = await client.post(
        "/api/v1/regions",
        json={"name": "某镇", "parent_id": str(demo.city), "level": "township"},
        headers=admin,
    )
    assert wrong_level.status_code == 422
    assert wrong_level.json()["errors"][0]["loc"] == ["body", "level"]
    under_township = await client.post(
        "/api/v1/regions", json={"name": "某村", "parent_id": str(demo.seat)}, headers=admin
    )
    assert under_township.status_code == 422
    assert under_township.json()["errors"][0]["loc"] == ["body", "parent_id"]
    root_without_level = await client.post(
        "/api/v1/regions", json={"name": "鄂尔多斯市"}, headers=admin
    )
    assert root_without_level.status_code == 422
    unknown_parent = await client.post(
        "/api/v1/regions",
        json={"name": "某旗", "parent_id": "00000000-0000-0000-0000-000000000000"},
        headers=admin,
    )
    assert unknown_parent.status_code == 422
    assert unknown_parent.json()["errors"][0]["loc"] == ["body", "parent_id"]


async def test_duplicate_names_under_one_parent_and_duplicate_codes_are_409(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    sibling = await client.post(
        "/api/v1/regions", json={"name": "陕坝镇", "parent_id": str(demo.banner)}, headers=admin
    )
    assert sibling.status_code == 409
    assert sibling.json()["code"] == "name_taken"
    root = await client.post(
        "/api/v1/regions", json={"name": "巴彦淖尔市", "level": "city"}, headers=admin
    )
    assert root.status_code == 409
    code = await client.post(
        "/api/v1/regions",
        json={"name": "另一个镇", "code": "150826100", "parent_id": str(demo.banner)},
        headers=admin,
    )
    assert code.status_code == 409
    elsewhere = await client.post(
        "/api/v1/regions", json={"name": "陕坝镇", "level": "city"}, headers=admin
    )
    assert elsewhere.status_code == 201  # the same name under another parent is fine


async def test_rename_a_region_but_not_onto_a_sibling(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    renamed = await client.patch(
        f"/api/v1/regions/{demo.tuanjie_town}", json={"name": "团结镇（新）"}, headers=admin
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "团结镇（新）"
    clash = await client.patch(
        f"/api/v1/regions/{demo.tuanjie_town}", json={"name": "陕坝镇"}, headers=admin
    )
    assert clash.status_code == 409
    null_name = await client.patch(
        f"/api/v1/regions/{demo.tuanjie_town}", json={"name": None}, headers=admin
    )
    assert null_name.status_code == 422
    assert null_name.json()["errors"][0]["loc"] == ["body", "name"]


async def test_only_an_empty_region_is_deleted(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    with_children = await client.delete(f"/api/v1/regions/{demo.banner}", headers=admin)
    assert with_children.status_code == 409
    assert with_children.json()["code"] == "in_use"
    with_communities = await client.delete(f"/api/v1/regions/{demo.seat}", headers=admin)
    assert with_communities.status_code == 409
    assert "communities" in with_communities.json()["detail"]

    empty = await client.post(
        "/api/v1/regions", json={"name": "沙海镇", "parent_id": str(demo.banner)}, headers=admin
    )
    deleted = await client.delete(f"/api/v1/regions/{empty.json()['id']}", headers=admin)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/v1/regions/{empty.json()['id']}", headers=admin)
    assert gone.status_code == 404


async def test_non_admins_cannot_write_regions(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    for username in ("supervisor", "staff1", "viewer"):
        headers = await login(username)
        created = await client.post(
            "/api/v1/regions", json={"name": "x镇", "parent_id": str(demo.banner)}, headers=headers
        )
        assert created.status_code == 403
        assert created.json()["code"] == "forbidden"
        deleted = await client.delete(f"/api/v1/regions/{demo.seat}", headers=headers)
        assert deleted.status_code == 403
