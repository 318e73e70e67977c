"""Which community covers a point: coordinate systems, the nearest-community fallback, and the
process's locator cache keeping up with writes without holding lookups up."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.geo import CoordSystem, wgs84_to_bd09, wgs84_to_gcj02
from app.models import Community
from app.org import locator_cache
from app.org.communities.boundaries import store_boundary
from app.org.locator_cache import Location, LocatorCache
from app.org.locator_snapshot import apply_changes
from app.org.locator_versions import record_locator_change
from tests.conftest import LoginFn
from tests.org.conftest import DemoIds, Headers

LOCATE = "/api/v1/communities/locate"


def bilinear(ring: list[list[float]], u: float, v: float) -> tuple[float, float]:
    """The point at fraction u west→east, v south→north of a quadrilateral ring
    [sw, se, ne, nw, sw], as (lat, lng)."""
    sw, se, ne, nw = ring[:4]
    south = [sw[i] + (se[i] - sw[i]) * u for i in range(2)]
    north = [nw[i] + (ne[i] - nw[i]) * u for i in range(2)]
    lng, lat = (south[i] + (north[i] - south[i]) * v for i in range(2))
    return lat, lng


@pytest.fixture
async def east_street(client: httpx.AsyncClient, admin: Headers, demo: DemoIds) -> dict[str, Any]:
    response = await client.get(f"/api/v1/communities/{demo.east_street}", headers=admin)
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("system", list(CoordSystem))
async def test_the_same_point_in_any_coordinate_system_finds_the_community_and_grid(
    client: httpx.AsyncClient, login: LoginFn, east_street: dict[str, Any], system: CoordSystem
) -> None:
    lat, lng = bilinear(east_street["boundary"]["coordinates"][0], 0.25, 0.25)
    sent = {
        CoordSystem.wgs84: (lat, lng),
        CoordSystem.gcj02: wgs84_to_gcj02(lat, lng),
        CoordSystem.bd09: wgs84_to_bd09(lat, lng),
    }[system]
    if system is not CoordSystem.wgs84:
        assert abs(sent[0] - lat) + abs(sent[1] - lng) > 0.001  # shifted by hundreds of metres
    response = await client.get(
        LOCATE,
        params={"lat": sent[0], "lng": sent[1], "coord_system": system.value},
        headers=await login("courier1"),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["community"] == {"id": east_street["id"], "name": "东街社区"}
    assert body["method"] == "boundary"
    assert body["distance_m"] == 0
    assert body["grid"]["name"] == "第一网格"
    assert body["location"]["lat"] == pytest.approx(lat, abs=1e-6)
    assert body["location"]["lng"] == pytest.approx(lng, abs=1e-6)


async def test_a_point_just_outside_every_boundary_goes_to_the_nearest(
    client: httpx.AsyncClient, login: LoginFn, east_street: dict[str, Any]
) -> None:
    # 东街社区 is the south-east corner of the town; 0.006° of longitude is about 500 m.
    ring = east_street["boundary"]["coordinates"][0]
    lat, east_edge_lng = bilinear(ring, 1.0, 0.5)
    response = await client.get(
        LOCATE, params={"lat": lat, "lng": east_edge_lng + 0.006}, headers=await login("grid1")
    )
    body = response.json()
    assert body["community"]["name"] == "东街社区"
    assert body["method"] == "nearest"
    assert 400 < body["distance_m"] < 600


async def test_a_village_known_only_by_its_centre_is_found_nearby(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    # 巴音嘎查 has no boundary yet; its centre is (40.752, 107.318).
    response = await client.get(
        LOCATE, params={"lat": 40.754, "lng": 107.318}, headers=await login("resident1")
    )
    body = response.json()
    assert body["community"]["name"] == "巴音嘎查"
    assert body["method"] == "nearest"
    assert body["grid"] is None
    assert 200 < body["distance_m"] < 250


async def test_a_far_point_has_no_community(client: httpx.AsyncClient, login: LoginFn) -> None:
    response = await client.get(
        LOCATE,
        params={"lat": 40.5, "lng": 107.6, "coord_system": "gcj02"},
        headers=await login("viewer"),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["community"] is None
    assert body["grid"] is None
    assert body["method"] is None
    assert body["distance_m"] is None
    assert body["location"]["lat"] != 40.5  # still converted to WGS-84


async def test_locate_sees_a_community_created_through_the_api_straight_away(
    client: httpx.AsyncClient,
    admin: Headers,
    login: LoginFn,
    demo: DemoIds,
    square: Callable[..., dict[str, Any]],
) -> None:
    headers = await login("courier2")
    params = {"lat": 40.90, "lng": 107.40}
    assert (await client.get(LOCATE, params=params, headers=headers)).json()["community"] is None
    created = await client.post(
        "/api/v1/communities",
        json={"name": "新建社区", "region_id": str(demo.seat), "boundary": square(107.40, 40.90)},
        headers=admin,
    )
    found = (await client.get(LOCATE, params=params, headers=headers)).json()
    assert found["community"] == {"id": created.json()["id"], "name": "新建社区"}
    assert found["method"] == "boundary"
    assert found["grid"] is None

    grid = await client.post(
        f"/api/v1/communities/{created.json()['id']}/grids",
        json={"name": "唯一网格", "boundary": square(107.40, 40.90, half=0.001)},
        headers=admin,
    )
    assert grid.status_code == 201
    in_grid = (await client.get(LOCATE, params=params, headers=headers)).json()
    assert in_grid["grid"] == {"id": grid.json()["id"], "name": "唯一网格"}

    await client.delete(f"/api/v1/communities/{created.json()['id']}", headers=admin)
    assert (await client.get(LOCATE, params=params, headers=headers)).json()["community"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"lat": 91, "lng": 107.4},
        {"lat": 40.9, "lng": -181},
        {"lat": 40.9},
        {"lat": 40.9, "lng": 107, "coord_system": "utm"},
    ],
)
async def test_bad_coordinates_are_422(
    client: httpx.AsyncClient, login: LoginFn, params: dict[str, Any]
) -> None:
    response = await client.get(LOCATE, params=params, headers=await login("courier1"))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_locate_needs_a_caller(client: httpx.AsyncClient) -> None:
    response = await client.get(LOCATE, params={"lat": 40.9, "lng": 107.4})
    assert response.status_code == 401


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def new_cache(app: FastAPI, clock: FakeMonotonic, refresh_seconds: float) -> LocatorCache:
    return LocatorCache(
        app.state.sessionmaker,
        max_distance_m=1000,
        refresh_seconds=refresh_seconds,
        monotonic=clock,
    )


async def eventually_located(cache: LocatorCache, lat: float, lng: float) -> Location:
    """The lookup once the refresh running in the background has swapped its snapshot in."""
    for _ in range(500):
        found = await cache.locate(lat, lng)
        if found is not None:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError("the refresh never brought the community in")


async def test_the_cache_notices_writes_of_other_processes_after_the_refresh_interval(
    app: FastAPI, session: AsyncSession, demo: DemoIds, square: Callable[..., dict[str, Any]]
) -> None:
    clock = FakeMonotonic()
    cache = new_cache(app, clock, refresh_seconds=5)
    assert await cache.locate(40.90, 107.40) is None

    # Another replica (or the CLI) adds a community: no NOTIFY reaches this cache (nothing
    # LISTENs for it here), so it finds out by reading the version row.
    community = Community(name="别处社区", region_id=demo.seat)
    store_boundary(community, square(107.40, 40.90))
    session.add(community)
    await session.flush()
    await record_locator_change(session, [community.id])
    await session.commit()
    clock.now += 4
    assert await cache.locate(40.90, 107.40) is None  # served from memory, no look
    clock.now += 2
    found = await eventually_located(cache, 40.90, 107.40)
    assert found.community_name == "别处社区"


async def test_a_refresh_reads_again_only_the_changed_communities(
    app: FastAPI,
    session: AsyncSession,
    demo: DemoIds,
    square: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = new_cache(app, FakeMonotonic(), refresh_seconds=3600)
    assert await cache.locate(40.90, 107.40) is None
    read: list[list[uuid.UUID] | None] = []
    real_read_rows = locator_cache._read_rows

    async def spy(session: AsyncSession, changed: Any) -> Any:
        read.append(None if changed is None else sorted(changed))
        return await real_read_rows(session, changed)

    monkeypatch.setattr(locator_cache, "_read_rows", spy)
    east = await session.get_one(Community, demo.east_street)
    east.name = "东街社区（新）"
    await record_locator_change(session, [east.id])
    await session.commit()
    await cache.catch_up()
    assert read == [[demo.east_street]]
    inside = bilinear((east.boundary or {})["coordinates"][0], 0.5, 0.5)
    found = await cache.locate(*inside)
    assert found is not None
    assert found.community_name == "东街社区（新）"
    assert found.grid_name is not None  # its grids were read with it

    await cache.catch_up()  # nothing changed: the version row alone is read
    assert read == [[demo.east_street]]


async def test_a_boundary_stored_without_its_wkb_is_located_by_its_geojson(
    app: FastAPI, session: AsyncSession, demo: DemoIds, square: Callable[..., dict[str, Any]]
) -> None:
    # Written around the API (by hand, an old script): the GeoJSON alone.
    community = Community(name="手写社区", region_id=demo.seat, boundary=square(107.40, 40.90))
    session.add(community)
    await session.flush()
    await record_locator_change(session, [community.id])
    await session.commit()
    cache = new_cache(app, FakeMonotonic(), refresh_seconds=3600)
    found = await cache.locate(40.90, 107.40)
    assert found is not None
    assert found.community_name == "手写社区"
    assert found.method == "boundary"


async def test_a_locate_during_a_rebuild_answers_from_the_old_snapshot(
    app: FastAPI,
    session: AsyncSession,
    demo: DemoIds,
    square: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = new_cache(app, FakeMonotonic(), refresh_seconds=3600)
    east = await session.get_one(Community, demo.east_street)
    point = bilinear((east.boundary or {})["coordinates"][0], 0.5, 0.5)
    before = await cache.locate(*point)
    assert before is not None
    assert before.community_name == "东街社区"

    # The rebuild (in its thread, as a large one is) is held until the test lets it go.
    building = threading.Event()
    release = threading.Event()

    def held_apply(*args: Any) -> Any:
        building.set()
        assert release.wait(10)
        return apply_changes(*args)

    monkeypatch.setattr("app.org.locator_cache.apply_changes", held_apply)
    monkeypatch.setattr(locator_cache, "_BUILD_INLINE_MAX_AREAS", 0)
    # 东街社区 moves out into open country.
    store_boundary(east, square(107.40, 40.90))
    await record_locator_change(session, [east.id])
    await session.commit()
    caught_up = asyncio.create_task(cache.catch_up())
    assert await asyncio.to_thread(building.wait, 10)

    started = time.perf_counter()
    during = await cache.locate(*point)
    waited = time.perf_counter() - started
    assert during == before  # the old snapshot, at once
    assert waited < 0.1
    assert await cache.locate(40.90, 107.40) is None
    assert not caught_up.done()

    release.set()
    await caught_up
    moved = await cache.locate(40.90, 107.40)
    assert moved is not None
    assert moved.community_id == demo.east_street
    after = await cache.locate(*point)
    assert after is None or after.community_id != demo.east_street
