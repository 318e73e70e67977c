"""Boundaries are typed GeoJSON: the OpenAPI document shows their shape, a boundary of the wrong
shape is a 422 whose ``loc`` points into the geometry, and one of the right shape that is still
not a sound polygon (self-intersecting, off the globe) is refused by shapely's check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

RING = [[107.40, 40.90], [107.41, 40.90], [107.41, 40.91], [107.40, 40.91], [107.40, 40.90]]
Headers = dict[str, str]
Square = Callable[..., dict[str, Any]]

BODY: list[str | int] = ["body", "boundary"]
POLYGON: list[str | int] = [*BODY, "Polygon", "coordinates"]


def _polygon(*rings: Any) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


BAD_SHAPES = {
    "a point": (
        {"type": "Point", "coordinates": [107.4, 40.9]},
        BODY,
        "'Polygon', 'MultiPolygon'",
    ),
    "no type": ({"coordinates": [RING]}, BODY, "discriminator 'type'"),
    "a ring of three positions": (_polygon(RING[:3]), [*POLYGON, 0], "at least 4 items"),
    "an unclosed ring": (_polygon(RING[:4]), POLYGON, "same start and end"),
    "an unclosed ring in a multipolygon": (
        {"type": "MultiPolygon", "coordinates": [[RING], [RING[:4]]]},
        [*BODY, "MultiPolygon", "coordinates"],
        "same start and end",
    ),
    "a position of one number": (
        _polygon([RING[0], [107.41], *RING[2:]]),
        [*POLYGON, 0, 1],
        "Field required",
    ),
    "rings one level too shallow": (_polygon(*RING[:2]), [*POLYGON, 0, 0], "Input should be"),
}


def _problem(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["code"] == "validation_error"
    return problem


@pytest.mark.parametrize(("boundary", "loc", "reason"), BAD_SHAPES.values(), ids=BAD_SHAPES)
async def test_a_boundary_of_the_wrong_shape_is_422_pointing_into_it(
    client: httpx.AsyncClient,
    admin: Headers,
    demo: Any,
    boundary: dict[str, Any],
    loc: list[str | int],
    reason: str,
) -> None:
    response = await client.post(
        "/api/v1/communities",
        json={"name": "错形社区", "region_id": str(demo.seat), "boundary": boundary},
        headers=admin,
    )
    errors = _problem(response)["errors"]
    assert errors[0]["loc"][: len(loc)] == loc, errors
    assert reason in errors[0]["msg"]
    # A position that fits neither a 2D nor a 3D one is reported for each, at the position.
    assert all(error["loc"][:2] == BODY for error in errors)


@pytest.mark.parametrize(
    ("boundary", "reason"),
    [
        (
            _polygon([[107.40, 40.90], [107.42, 40.92], [107.42, 40.90], [107.40, 40.92], RING[0]]),
            "invalid boundary: geometry not valid: Self-intersection[107.41 40.91]",
        ),
        (
            _polygon([[187.40, 40.90], [187.41, 40.90], [187.41, 40.91], [187.40, 40.90]]),
            "longitude out of range at coordinates[0][0]",
        ),
        (_polygon(), "polygon at coordinates has no rings"),
    ],
    ids=["self-intersecting", "off the globe", "no rings"],
)
async def test_a_well_shaped_boundary_that_is_no_polygon_is_422_with_the_reason(
    client: httpx.AsyncClient, admin: Headers, demo: Any, boundary: dict[str, Any], reason: str
) -> None:
    response = await client.post(
        "/api/v1/communities",
        json={"name": "蝴蝶社区", "region_id": str(demo.seat), "boundary": boundary},
        headers=admin,
    )
    errors = _problem(response)["errors"]
    assert [error["loc"] for error in errors] == [BODY]
    assert reason in errors[0]["msg"]


async def test_every_boundary_field_is_checked_the_same_way(
    client: httpx.AsyncClient, admin: Headers, demo: Any, square: Square
) -> None:
    community = await client.post(
        "/api/v1/communities",
        json={"name": "四边社区", "region_id": str(demo.seat), "boundary": square(107.40, 40.90)},
        headers=admin,
    )
    assert community.status_code == 201, community.text
    community_id = community.json()["id"]
    grid = await client.post(
        f"/api/v1/communities/{community_id}/grids", json={"name": "第一网格"}, headers=admin
    )
    assert grid.status_code == 201, grid.text
    unclosed = {"boundary": _polygon(RING[:4])}
    for method, url in [
        ("PATCH", f"/api/v1/communities/{community_id}"),
        ("POST", f"/api/v1/communities/{community_id}/grids"),
        ("PATCH", f"/api/v1/grids/{grid.json()['id']}"),
    ]:
        body = {"name": "第二网格", **unclosed} if method == "POST" else unclosed
        response = await client.request(method, url, json=body, headers=admin)
        assert [e["loc"] for e in _problem(response)["errors"]] == [POLYGON], (method, url)


async def test_a_polygon_and_a_multipolygon_round_trip(
    client: httpx.AsyncClient, admin: Headers, demo: Any, square: Square
) -> None:
    polygon = square(107.40, 40.90)
    with_hole = {
        "type": "Polygon",
        "coordinates": [
            *square(107.50, 40.90, 0.004)["coordinates"],
            *square(107.50, 40.90)["coordinates"],
        ],
    }
    multipolygon = {
        "type": "MultiPolygon",
        "coordinates": [square(107.45, 40.90)["coordinates"], with_hole["coordinates"]],
    }
    for name, boundary in [("方块社区", polygon), ("群岛社区", multipolygon)]:
        created = await client.post(
            "/api/v1/communities",
            # A bbox is accepted and dropped: the boundary is kept as type and coordinates.
            json={
                "name": name,
                "region_id": str(demo.seat),
                "boundary": {**boundary, "bbox": [107.0, 40.0, 108.0, 41.0]},
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        assert created.json()["boundary"] == boundary
        read = await client.get(f"/api/v1/communities/{created.json()['id']}", headers=admin)
        assert read.json()["boundary"] == boundary
    # A position with an altitude keeps it; the boundary itself is flat.
    community_id = created.json()["id"]
    raised = _polygon([[lng, lat, 1050.0] for lng, lat in square(107.45, 40.90)["coordinates"][0]])
    grid = await client.post(
        f"/api/v1/communities/{community_id}/grids",
        json={"name": "第一网格", "boundary": raised},
        headers=admin,
    )
    assert grid.status_code == 201, grid.text
    assert grid.json()["boundary"] == raised
    read = await client.get(f"/api/v1/communities/{community_id}", headers=admin)
    assert read.json()["grids"][0]["boundary"] == raised


async def test_an_imported_feature_of_the_wrong_shape_points_into_its_geometry(
    client: httpx.AsyncClient, admin: Headers, square: Square
) -> None:
    response = await client.post(
        "/api/v1/communities/import",
        json={
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "好社区", "region_code": "150826100"},
                    "geometry": square(107.40, 40.95),
                },
                {
                    "type": "Feature",
                    "properties": {"name": "缺口社区", "region_code": "150826100"},
                    "geometry": _polygon(RING[:4]),
                },
            ],
        },
        headers=admin,
    )
    [error] = _problem(response)["errors"]
    assert error["loc"] == ["body", "features", 1, "geometry", "Polygon", "coordinates"]
    assert error["msg"].startswith("feature 1 (缺口社区): ")
    assert "same start and end" in error["msg"]


async def test_the_document_shows_the_boundary_models(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    boundary = {
        "oneOf": [
            {"$ref": "#/components/schemas/Polygon"},
            {"$ref": "#/components/schemas/MultiPolygon"},
        ],
        "discriminator": {
            "propertyName": "type",
            "mapping": {
                "MultiPolygon": "#/components/schemas/MultiPolygon",
                "Polygon": "#/components/schemas/Polygon",
            },
        },
    }
    for name in [
        "CommunityCreate",
        "CommunityUpdate",
        "CommunityDetail",
        "GridCreate",
        "GridUpdate",
        "GridRead",
    ]:
        field = schemas[name]["properties"]["boundary"]
        assert field["anyOf"] == [boundary, {"type": "null"}], name
        assert "GeoJSON Polygon or MultiPolygon" in field["description"]
    assert schemas["Polygon"]["properties"]["type"]["const"] == "Polygon"
    ring = schemas["Polygon"]["properties"]["coordinates"]["items"]
    assert ring["minItems"] == 4
