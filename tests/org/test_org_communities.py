"""Communities and grids: listing, detail, and an admin's writes with their validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Community
from tests.conftest import LoginFn
from tests.org.conftest import DemoIds, Headers


async def test_communities_are_listed_by_name_a_page_at_a_time(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    headers = await login("resident1")
    first = await client.get("/api/v1/communities", params={"limit": 5}, headers=headers)
    assert first.status_code == 200
    assert len(first.json()["items"]) == 5
    assert first.json()["next_cursor"]
    rest = await client.get(
        "/api/v1/communities",
        params={"limit": 200, "cursor": first.json()["next_cursor"]},
        headers=headers,
    )
    assert rest.json()["next_cursor"] is None
    names = [c["name"] for c in first.json()["items"] + rest.json()["items"]]
    assert len(names) == len(set(names)) == 14
    item = first.json()["items"][0]
    assert set(item) >= {"id", "name", "kind", "region", "center", "has_boundary"}
    assert "boundary" not in item


async def test_communities_filtered_by_region_subtree_and_name(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    headers = await login("staff1")
    seat = await client.get(
        "/api/v1/communities", params={"region_id": str(demo.seat)}, headers=headers
    )
    assert len(seat.json()["items"]) == 6
    assert {c["region"]["name"] for c in seat.json()["items"]} == {"陕坝镇"}
    banner = await client.get(
        "/api/v1/communities",
        params={"region_id": str(demo.banner), "limit": 200},
        headers=headers,
    )
    assert len(banner.json()["items"]) == 14  # every township under the banner
    streets = await client.get("/api/v1/communities", params={"q": "街"}, headers=headers)
    assert {c["name"] for c in streets.json()["items"]} == {
        "东街社区",
        "南街社区",
        "西街社区",
        "北街社区",
    }
    without_boundary = {c["name"]: c for c in banner.json()["items"]}["巴音嘎查"]
    assert without_boundary["has_boundary"] is False
    assert without_boundary["center"] is not None


async def test_an_unknown_region_filter_is_422(client: httpx.AsyncClient, login: LoginFn) -> None:
    response = await client.get(
        "/api/v1/communities",
        params={"region_id": "00000000-0000-0000-0000-000000000000"},
        headers=await login("staff1"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "region_id"]


async def test_community_detail_has_boundary_grids_and_paired_units(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    response = await client.get(
        f"/api/v1/communities/{demo.east_street}", headers=await login("unit3")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "东街社区"
    assert body["region"] == {"id": str(demo.seat), "name": "陕坝镇"}
    assert body["boundary"]["type"] == "Polygon"
    assert body["has_boundary"] is True
    assert {g["name"] for g in body["grids"]} == {"第一网格", "第二网格", "第三网格", "第四网格"}
    assert all(g["boundary"]["type"] == "Polygon" for g in body["grids"])
    units = {p["unit"]["name"]: p for p in body["paired_units"]}
    assert {"旗农牧和科技局", "旗红十字会", "国网杭锦后旗供电公司"} <= set(units)
    assert units["旗农牧和科技局"]["category_codes"] is None
    assert units["国网杭锦后旗供电公司"]["category_codes"] == ["street_light_failure"]
    center = Point(body["center"]["lng"], body["center"]["lat"])
    assert shape(body["boundary"]).contains(center)


async def test_an_unknown_community_is_404(client: httpx.AsyncClient, login: LoginFn) -> None:
    response = await client.get(
        "/api/v1/communities/00000000-0000-0000-0000-000000000000", headers=await login("admin")
    )
    assert response.status_code == 404
    malformed = await client.get("/api/v1/communities/not-an-id", headers=await login("admin"))
    assert malformed.status_code == 422


async def test_admin_creates_a_community_with_its_centre_computed(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds, square: Callable[..., dict[str, Any]]
) -> None:
    boundary = square(107.40, 40.90)
    response = await client.post(
        "/api/v1/communities",
        json={
            "name": "光明社区",
            "region_id": str(demo.seat),
            "address": "陕坝镇光明路1号",
            "phone": "0478-6610000",
            "boundary": boundary,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "community"
    assert body["has_boundary"] is True
    assert body["boundary"] == boundary
    assert body["grids"] == []
    assert body["paired_units"] == []
    assert shape(boundary).contains(Point(body["center"]["lng"], body["center"]["lat"]))


async def test_a_community_without_boundary_keeps_the_centre_given(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    response = await client.post(
        "/api/v1/communities",
        json={
            "name": "新村",
            "kind": "village",
            "region_id": str(demo.tuanjie_town),
            "center": {"lat": 40.7, "lng": 107.3},
        },
        headers=admin,
    )
    assert response.status_code == 201
    assert response.json()["center"] == {"lat": 40.7, "lng": 107.3}
    assert response.json()["boundary"] is None
    assert response.json()["has_boundary"] is False


async def test_a_self_intersecting_boundary_is_422_with_the_reason(
    client: httpx.AsyncClient,
    admin: Headers,
    demo: DemoIds,
    bowtie: dict[str, Any],
    session: AsyncSession,
) -> None:
    before = await session.scalar(select(func.count()).select_from(Community))
    response = await client.post(
        "/api/v1/communities",
        json={"name": "蝴蝶社区", "region_id": str(demo.seat), "boundary": bowtie},
        headers=admin,
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["loc"] == ["body", "boundary"]
    assert "Self-intersection" in error["msg"]
    assert await session.scalar(select(func.count()).select_from(Community)) == before


async def test_a_malformed_boundary_is_422_with_the_reason(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    response = await client.post(
        "/api/v1/communities",
        json={
            "name": "错层社区",
            "region_id": str(demo.seat),
            "boundary": {"type": "Polygon", "coordinates": [[107.4, 40.9], [107.41, 40.9]]},
        },
        headers=admin,
    )
    assert response.status_code == 422
    # Rings one level too shallow: each ring's numbers are where positions should be.
    loc = response.json()["errors"][0]["loc"]
    assert loc[:6] == ["body", "boundary", "Polygon", "coordinates", 0, 0]
    point = await client.post(
        "/api/v1/communities",
        json={
            "name": "点社区",
            "region_id": str(demo.seat),
            "boundary": {"type": "Point", "coordinates": [107.4, 40.9]},
        },
        headers=admin,
    )
    assert point.status_code == 422
    assert "Polygon" in point.json()["errors"][0]["msg"]


async def test_community_region_must_exist_and_be_a_township(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    unknown = await client.post(
        "/api/v1/communities",
        json={"name": "某社区", "region_id": "00000000-0000-0000-0000-000000000000"},
        headers=admin,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["body", "region_id"]
    county = await client.post(
        "/api/v1/communities", json={"name": "某社区", "region_id": str(demo.banner)}, headers=admin
    )
    assert county.status_code == 422
    assert "township" in county.json()["errors"][0]["msg"]


async def test_community_names_are_unique_within_a_region(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    same_region = await client.post(
        "/api/v1/communities", json={"name": "东街社区", "region_id": str(demo.seat)}, headers=admin
    )
    assert same_region.status_code == 409
    assert same_region.json()["code"] == "name_taken"
    other_region = await client.post(
        "/api/v1/communities",
        json={"name": "东街社区", "region_id": str(demo.tuanjie_town)},
        headers=admin,
    )
    assert other_region.status_code == 201
    rename_clash = await client.patch(
        f"/api/v1/communities/{demo.north_street}", json={"name": "东街社区"}, headers=admin
    )
    assert rename_clash.status_code == 409


async def test_a_new_boundary_moves_the_centre(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds, square: Callable[..., dict[str, Any]]
) -> None:
    created = await client.post(
        "/api/v1/communities",
        json={"name": "移动社区", "region_id": str(demo.seat), "boundary": square(107.40, 40.90)},
        headers=admin,
    )
    community_id = created.json()["id"]
    moved = await client.patch(
        f"/api/v1/communities/{community_id}",
        json={"boundary": square(107.45, 40.95), "phone": "0478-6619999"},
        headers=admin,
    )
    assert moved.status_code == 200
    center = moved.json()["center"]
    assert abs(center["lng"] - 107.45) < 0.002
    assert abs(center["lat"] - 40.95) < 0.002
    assert moved.json()["phone"] == "0478-6619999"
    assert moved.json()["name"] == "移动社区"
    null_name = await client.patch(
        f"/api/v1/communities/{community_id}", json={"name": None}, headers=admin
    )
    assert null_name.status_code == 422


async def test_a_boundary_that_would_leave_grids_outside_is_422(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds, square: Callable[..., dict[str, Any]]
) -> None:
    response = await client.patch(
        f"/api/v1/communities/{demo.east_street}",
        json={"boundary": square(107.40, 40.90)},
        headers=admin,
    )
    assert response.status_code == 422
    assert "第一网格" in response.json()["errors"][0]["msg"]


async def test_delete_a_community_but_not_one_where_people_hold_roles(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds, square: Callable[..., dict[str, Any]]
) -> None:
    staffed = await client.delete(f"/api/v1/communities/{demo.east_street}", headers=admin)
    assert staffed.status_code == 409
    assert staffed.json()["code"] == "in_use"
    created = await client.post(
        "/api/v1/communities",
        json={"name": "临时社区", "region_id": str(demo.seat), "boundary": square(107.40, 40.90)},
        headers=admin,
    )
    community_id = created.json()["id"]
    grid = await client.post(
        f"/api/v1/communities/{community_id}/grids", json={"name": "第一网格"}, headers=admin
    )
    assert grid.status_code == 201
    assert (
        await client.delete(f"/api/v1/communities/{community_id}", headers=admin)
    ).status_code == 204
    assert (
        await client.get(f"/api/v1/communities/{community_id}", headers=admin)
    ).status_code == 404
    orphan = await client.patch(
        f"/api/v1/grids/{grid.json()['id']}", json={"name": "x"}, headers=admin
    )
    assert orphan.status_code == 404


async def test_non_admins_cannot_write_communities(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds, square: Callable[..., dict[str, Any]]
) -> None:
    for username in ("supervisor", "staff1", "unit1", "courier1"):
        headers = await login(username)
        created = await client.post(
            "/api/v1/communities",
            json={"name": "越权社区", "region_id": str(demo.seat)},
            headers=headers,
        )
        assert created.status_code == 403
        changed = await client.patch(
            f"/api/v1/communities/{demo.east_street}", json={"phone": "110"}, headers=headers
        )
        assert changed.status_code == 403
        grid = await client.post(
            f"/api/v1/communities/{demo.east_street}/grids", json={"name": "x"}, headers=headers
        )
        assert grid.status_code == 403


async def test_grids_inside_the_community_boundary(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds, square: Callable[..., dict[str, Any]]
) -> None:
    created = await client.post(
        "/api/v1/communities",
        json={
            "name": "网格社区",
            "region_id": str(demo.seat),
            "boundary": square(107.40, 40.90, half=0.004),
        },
        headers=admin,
    )
    community_id = created.json()["id"]
    inside = await client.post(
        f"/api/v1/communities/{community_id}/grids",
        json={"name": "第一网格", "boundary": square(107.398, 40.898)},
        headers=admin,
    )
    assert inside.status_code == 201
    assert inside.json()["community_id"] == community_id
    # Tracing the community's own edge, within about a metre, still fits.
    edge = await client.post(
        f"/api/v1/communities/{community_id}/grids",
        json={"name": "全域网格", "boundary": square(107.40, 40.90, half=0.004000005)},
        headers=admin,
    )
    assert edge.status_code == 201
    outside = await client.post(
        f"/api/v1/communities/{community_id}/grids",
        json={"name": "第二网格", "boundary": square(107.41, 40.90)},
        headers=admin,
    )
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["loc"] == ["body", "boundary"]
    duplicate = await client.post(
        f"/api/v1/communities/{community_id}/grids", json={"name": "第一网格"}, headers=admin
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "name_taken"
    unknown = await client.post(
        "/api/v1/communities/00000000-0000-0000-0000-000000000000/grids",
        json={"name": "x"},
        headers=admin,
    )
    assert unknown.status_code == 404

    grid_id = inside.json()["id"]
    renamed = await client.patch(f"/api/v1/grids/{grid_id}", json={"name": "一网格"}, headers=admin)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "一网格"
    moved_out = await client.patch(
        f"/api/v1/grids/{grid_id}", json={"boundary": square(107.41, 40.90)}, headers=admin
    )
    assert moved_out.status_code == 422
    cleared = await client.patch(f"/api/v1/grids/{grid_id}", json={"boundary": None}, headers=admin)
    assert cleared.json()["boundary"] is None
    assert (await client.delete(f"/api/v1/grids/{grid_id}", headers=admin)).status_code == 204
    detail = await client.get(f"/api/v1/communities/{community_id}", headers=admin)
    assert [g["name"] for g in detail.json()["grids"]] == ["全域网格"]
