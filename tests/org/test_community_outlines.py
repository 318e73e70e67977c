"""``GET /communities/outlines``: the community boundaries as one GeoJSON FeatureCollection,
which a map without online tiles (the big screen) draws as its background."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import demo_id
from app.models import Community, Region
from tests.conftest import LoginFn

URL = "/api/v1/communities/outlines"
SHANBA = demo_id("region", "陕坝镇")
BANNER = demo_id("region", "杭锦后旗")


async def _outlined(session: AsyncSession, region: uuid.UUID) -> set[str]:
    """The communities with a boundary under ``region``, read from the database."""
    path = await session.scalar(select(Region.path).where(Region.id == region))
    assert path
    rows = await session.scalars(
        select(Community.id)
        .join(Region, Region.id == Community.region_id)
        .where(Region.path.startswith(path), Community.boundary.is_not(None))
    )
    return {str(community_id) for community_id in rows}


async def test_outlines_are_the_regions_communities_with_their_boundaries(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    headers = await login("viewer")
    township = await client.get(URL, params={"region_id": str(SHANBA)}, headers=headers)
    assert township.status_code == 200, township.text
    body = township.json()
    assert body["type"] == "FeatureCollection"
    ids = {feature["id"] for feature in body["features"]}
    assert ids == await _outlined(session, SHANBA)
    assert len(ids) >= 2
    east = next(f for f in body["features"] if f["properties"]["name"] == "东街社区")
    assert east["properties"] == {
        "id": str(demo_id("community", "陕坝镇", "东街社区")),
        "name": "东街社区",
        "region_id": str(SHANBA),
    }
    assert east["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    ring = east["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]
    assert 107 < ring[0][0] < 108
    assert 40 < ring[0][1] < 41

    banner = (await client.get(URL, params={"region_id": str(BANNER)}, headers=headers)).json()
    assert {f["id"] for f in banner["features"]} == await _outlined(session, BANNER)
    assert ids < {f["id"] for f in banner["features"]}
    everything = (await client.get(URL, headers=headers)).json()
    total = await session.scalar(
        select(func.count()).select_from(Community).where(Community.boundary.is_not(None))
    )
    assert len(everything["features"]) == total


async def test_a_community_without_a_boundary_is_left_out(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    created = await client.post(
        "/api/v1/communities",
        json={
            "name": "新建社区",
            "region_id": str(SHANBA),
            "center": {"lat": 40.84, "lng": 107.15},
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    outlines = (await client.get(URL, params={"region_id": str(SHANBA)}, headers=admin)).json()
    assert created.json()["id"] not in {f["id"] for f in outlines["features"]}


async def test_an_unknown_region_names_the_parameter(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    response = await client.get(
        URL, params={"region_id": str(uuid.uuid4())}, headers=await login("viewer")
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["query", "region_id"]
    anonymous = await client.get(URL)
    assert anonymous.status_code == 401
