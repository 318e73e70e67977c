"""Boundaries on the way in: GeoJSON whose shape the models have checked, checked again by the
shared parser for what a schema cannot say; stored in both their forms; and grids kept inside
their community."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import geojson_pydantic
import shapely
from pydantic import TypeAdapter
from shapely import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ValidationFailed
from app.core.geo import InvalidGeometry, parse_boundary
from app.models import Community, Grid
from app.org.communities.schemas import Boundary

# About a metre: grids are often traced along the community's edge by hand, and the two
# tracings never coincide exactly.
GRID_EDGE_TOLERANCE_DEG = 1e-5


BoundaryModel = geojson_pydantic.Polygon | geojson_pydantic.MultiPolygon
# For boundaries that arrive inside a free-form body (a FeatureCollection's features).
BOUNDARY: TypeAdapter[BoundaryModel] = TypeAdapter(Boundary)


def stored_boundary(boundary: BoundaryModel) -> dict[str, Any]:
    """The geometry as stored and answered: only its type and coordinates (no ``bbox``)."""
    stored: dict[str, Any] = boundary.model_dump(mode="json", include={"type", "coordinates"})
    return stored


def store_boundary(
    row: Community | Grid,
    geojson: dict[str, Any] | None,
    geometry: BaseGeometry | None = None,
) -> None:
    """Set a community's or grid's boundary: the GeoJSON the API answers with and, always
    beside it, the WKB the locators build from. ``geometry``: the parsed boundary, if the caller
    has it (else the GeoJSON is parsed here)."""
    row.boundary = geojson
    if geojson is None:
        row.boundary_wkb = None
        return
    if geometry is None:
        geometry = parse_boundary(geojson)
    row.boundary_wkb = shapely.to_wkb(geometry)


async def read_boundary(
    boundary: BoundaryModel, loc: Sequence[str | int]
) -> Polygon | MultiPolygon:
    # A surveyed boundary can have tens of thousands of vertices: validate it off the loop.
    try:
        return await asyncio.to_thread(parse_boundary, stored_boundary(boundary))
    except InvalidGeometry as exc:
        raise ValidationFailed.at(loc, f"invalid boundary: {exc}") from exc


def grid_fits(community: BaseGeometry, grid: BaseGeometry) -> bool:
    return community.buffer(GRID_EDGE_TOLERANCE_DEG).covers(grid)


def _grid_fits_stored(community_geojson: Mapping[str, Any], grid: BaseGeometry) -> bool:
    try:
        community = parse_boundary(community_geojson)
    except InvalidGeometry:
        # Written around the API (by hand or an old import): nothing sound to compare with.
        return True
    return grid_fits(community, grid)


async def grid_fits_community(community_geojson: Mapping[str, Any], grid: BaseGeometry) -> bool:
    return await asyncio.to_thread(_grid_fits_stored, community_geojson, grid)


def _grids_outside(
    boundaries: Mapping[uuid.UUID, BaseGeometry],
    grids: Sequence[tuple[uuid.UUID, str, dict[str, Any]]],
) -> dict[uuid.UUID, list[str]]:
    outside: dict[uuid.UUID, list[str]] = {}
    for community_id, grid_name, grid_geojson in grids:
        try:
            grid = parse_boundary(grid_geojson)
        except InvalidGeometry:
            continue  # see _grid_fits_stored
        if not grid_fits(boundaries[community_id], grid):
            outside.setdefault(community_id, []).append(grid_name)
    return outside


async def grids_outside(
    session: AsyncSession, boundaries: Mapping[uuid.UUID, BaseGeometry]
) -> dict[uuid.UUID, list[str]]:
    """For communities about to get these boundaries, the names of their grids that would
    stick out of them."""
    if not boundaries:
        return {}
    rows = await session.execute(
        select(Grid.community_id, Grid.name, Grid.boundary)
        .where(Grid.community_id.in_(list(boundaries)))
        .order_by(Grid.name)
    )
    grids = [(c, name, boundary) for c, name, boundary in rows if boundary is not None]
    if not grids:
        return {}
    return await asyncio.to_thread(_grids_outside, boundaries, grids)
