"""Importing boundaries from a GeoJSON FeatureCollection: all or nothing, with errors that name
the feature."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Community
from tests.conftest import LoginFn
from tests.org.conftest import DemoIds, Headers

IMPORT = "/api/v1/communities/import"


def feature(name: str | None, geometry: Any, **properties: Any) -> dict[str, Any]:
    props = dict(properties)
    if name is not None:
        props["name"] = name
    return {"type": "Feature", "properties": props, "geometry": geometry}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


async def count_communities(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Community)) or 0


async def test_import_creates_polygons_and_multipolygons_by_any_region_key(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds, square: Callable[..., dict[str, Any]]
) -> None:
    two_parts = {
        "type": "MultiPolygon",
        "coordinates": [
            square(107.40, 40.90)["coordinates"],
            square(107.41, 40.90)["coordinates"],
        ],
    }
    response = await client.post(
        IMPORT,
        json=collection(
            feature("光明社区", square(107.40, 40.95), region_code="150826100", phone="0478-1"),
            feature("双岛村", two_parts, region_name="团结镇", kind="village"),
            feature("河畔社区", square(107.45, 40.95), region_id=str(demo.toudaoqiao_town)),
        ),
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"]) == (3, 0)
    assert [c["name"] for c in body["communities"]] == ["光明社区", "双岛村", "河畔社区"]
    village = await client.get(f"/api/v1/communities/{body['communities'][1]['id']}", headers=admin)
    assert village.json()["boundary"]["type"] == "MultiPolygon"
    assert village.json()["kind"] == "village"
    assert village.json()["region"]["name"] == "团结镇"
    bright = await client.get(f"/api/v1/communities/{body['communities'][0]['id']}", headers=admin)
    assert bright.json()["region"]["id"] == str(demo.seat)
    assert bright.json()["phone"] == "0478-1"
    assert bright.json()["center"] is not None


async def test_an_existing_community_gets_the_new_boundary(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    before = (await client.get(f"/api/v1/communities/{demo.east_street}", headers=admin)).json()
    ring = before["boundary"]["coordinates"][0]
    lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
    # A little larger than the old boundary, so that the grids still fit.
    larger = {
        "type": "Polygon",
        "coordinates": [
            [
                [min(lngs) - 0.001, min(lats) - 0.001],
                [max(lngs) + 0.001, min(lats) - 0.001],
                [max(lngs) + 0.001, max(lats) + 0.001],
                [min(lngs) - 0.001, max(lats) + 0.001],
                [min(lngs) - 0.001, min(lats) - 0.001],
            ]
        ],
    }
    response = await client.post(
        IMPORT,
        json=collection(feature("东街社区", larger, region_name="陕坝镇")),
        headers=admin,
    )
    assert response.status_code == 200
    assert response.json() == {
        "created": 0,
        "updated": 1,
        "communities": [{"id": str(demo.east_street), "name": "东街社区"}],
    }
    after = (await client.get(f"/api/v1/communities/{demo.east_street}", headers=admin)).json()
    assert after["boundary"] == larger
    assert after["address"] == before["address"]  # properties not in the file are kept
    assert len(after["grids"]) == 4


async def test_one_malformed_feature_fails_the_whole_import(
    client: httpx.AsyncClient,
    admin: Headers,
    square: Callable[..., dict[str, Any]],
    session: AsyncSession,
) -> None:
    before = await count_communities(session)
    wrong_nesting = {"type": "Polygon", "coordinates": [[107.40, 40.90], [107.41, 40.90]]}
    response = await client.post(
        IMPORT,
        json=collection(
            feature("好社区", square(107.40, 40.95), region_code="150826100"),
            feature("坏社区", wrong_nesting, region_code="150826100"),
        ),
        headers=admin,
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert "nothing was imported" in problem["detail"]
    assert len(problem["errors"]) == 1
    error = problem["errors"][0]
    assert error["loc"][:8] == ["body", "features", 1, "geometry", "Polygon", "coordinates", 0, 0]
    assert error["msg"].startswith("feature 1 (坏社区): Input should be")
    assert await count_communities(session) == before


async def test_a_self_intersecting_feature_is_named_with_the_reason(
    client: httpx.AsyncClient,
    admin: Headers,
    square: Callable[..., dict[str, Any]],
    bowtie: dict[str, Any],
    session: AsyncSession,
) -> None:
    before = await count_communities(session)
    response = await client.post(
        IMPORT,
        json=collection(
            feature("好社区", square(107.40, 40.95), region_code="150826100"),
            feature("蝴蝶社区", bowtie, region_code="150826100"),
        ),
        headers=admin,
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["loc"] == ["body", "features", 1, "geometry"]
    assert "蝴蝶社区" in error["msg"]
    assert "Self-intersection" in error["msg"]
    assert await count_communities(session) == before


async def test_every_bad_feature_is_reported_at_once(
    client: httpx.AsyncClient,
    admin: Headers,
    square: Callable[..., dict[str, Any]],
    bowtie: dict[str, Any],
    session: AsyncSession,
) -> None:
    before = await count_communities(session)
    response = await client.post(
        IMPORT,
        json=collection(
            feature(None, square(107.40, 40.95), region_code="150826100"),
            feature("无处社区", square(107.42, 40.95), region_code="999999"),
            feature("县里社区", square(107.44, 40.95), region_name="杭锦后旗"),
            feature("无区社区", square(107.46, 40.95)),
            feature("无形社区", None, region_code="150826100"),
            {"type": "Polygon", "coordinates": []},
        ),
        headers=admin,
    )
    assert response.status_code == 422
    errors = {tuple(e["loc"]): e["msg"] for e in response.json()["errors"]}
    assert errors[("body", "features", 0, "properties", "name")] == "feature 0: name is required"
    assert (
        "no region with code '999999'"
        in errors[("body", "features", 1, "properties", "region_code")]
    )
    assert "township" in errors[("body", "features", 2, "properties", "region_name")]
    assert "region_id, region_code or region_name" in errors[("body", "features", 3, "properties")]
    assert errors[("body", "features", 4, "geometry")].startswith("feature 4 (无形社区)")
    assert ("body", "features", 5, "type") in errors
    assert "6 of 6 features" in response.json()["detail"]
    assert await count_communities(session) == before


async def test_the_same_name_twice_in_a_region_is_422(
    client: httpx.AsyncClient,
    admin: Headers,
    square: Callable[..., dict[str, Any]],
    session: AsyncSession,
) -> None:
    before = await count_communities(session)
    response = await client.post(
        IMPORT,
        json=collection(
            feature("重名社区", square(107.40, 40.95), region_code="150826100"),
            feature("重名社区", square(107.42, 40.95), region_name="陕坝镇"),
            feature("重名社区", square(107.44, 40.95), region_name="团结镇"),
        ),
        headers=admin,
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "features", 1, "properties", "name"]
    assert "feature 0" in error["msg"]
    assert await count_communities(session) == before


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"type": "FeatureCollection", "features": []}, ["body", "features"]),
        ({"type": "Feature", "features": []}, ["body", "type"]),
        ({"type": "FeatureCollection"}, ["body", "features"]),
        ({"type": "FeatureCollection", "features": [42]}, ["body", "features", 0]),
    ],
)
async def test_a_body_that_is_not_a_feature_collection_is_422(
    client: httpx.AsyncClient, admin: Headers, payload: dict[str, Any], loc: list[str | int]
) -> None:
    response = await client.post(IMPORT, json=payload, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == loc


async def test_an_upsert_that_leaves_grids_outside_is_refused(
    client: httpx.AsyncClient,
    admin: Headers,
    square: Callable[..., dict[str, Any]],
    session: AsyncSession,
) -> None:
    response = await client.post(
        IMPORT,
        json=collection(feature("东街社区", square(107.40, 40.95), region_name="陕坝镇")),
        headers=admin,
    )
    assert response.status_code == 422
    assert "would lie outside" in response.json()["errors"][0]["msg"]


async def test_locate_finds_an_imported_community_at_once(
    client: httpx.AsyncClient, admin: Headers, login: LoginFn, square: Callable[..., dict[str, Any]]
) -> None:
    headers = await login("courier1")
    before = await client.get(
        "/api/v1/communities/locate", params={"lat": 40.95, "lng": 107.40}, headers=headers
    )
    assert before.json()["community"] is None
    imported = await client.post(
        IMPORT,
        json=collection(feature("新导入社区", square(107.40, 40.95), region_code="150826100")),
        headers=admin,
    )
    assert imported.status_code == 200
    after = await client.get(
        "/api/v1/communities/locate", params={"lat": 40.95, "lng": 107.40}, headers=headers
    )
    assert after.json()["community"]["name"] == "新导入社区"
    assert after.json()["method"] == "boundary"


async def test_only_admins_import(
    client: httpx.AsyncClient, login: LoginFn, square: Callable[..., dict[str, Any]]
) -> None:
    response = await client.post(
        IMPORT,
        json=collection(feature("越权社区", square(107.40, 40.95), region_code="150826100")),
        headers=await login("supervisor"),
    )
    assert response.status_code == 403
