"""One version of the communities and grids, indexed for locating points: built from rows,
and built again from an older one with only some communities read anew.

No I/O here, so a benchmark can build and edit snapshots as the cache does. A snapshot is
never changed once built: the cache swaps a whole new one in, and a lookup holding the old one
goes on with it undisturbed. Boundaries come as WKB (decoded in one vectorised call); a row
without WKB (written around the API) has its GeoJSON parsed, as every row's once was.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from app.core.geo import InvalidGeometry, parse_boundary
from app.org.geo_index import AreaEntry, CommunityLocator, GridLocator, LocateMethod

log = logging.getLogger("app.org.locator")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a point belongs: its community (how it was matched and how far away it is) and,
    within the community, its grid if one covers it or is near."""

    community_id: uuid.UUID
    community_name: str
    region_id: uuid.UUID  # the community's region
    method: LocateMethod
    distance_m: float
    grid_id: uuid.UUID | None
    grid_name: str | None


@dataclass(frozen=True, slots=True)
class CommunityRow:
    """A community as read for the locator. ``boundary`` (the GeoJSON) is read only for a row
    that has a boundary but no ``boundary_wkb``."""

    id: uuid.UUID
    name: str
    region_id: uuid.UUID
    boundary_wkb: bytes | None
    center_lat: float | None
    center_lng: float | None
    boundary: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class GridRow:
    id: uuid.UUID
    community_id: uuid.UUID
    name: str
    boundary_wkb: bytes | None
    boundary: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _Community:
    name: str
    region_id: uuid.UUID
    geometry: BaseGeometry | None
    center: tuple[float, float] | None
    grids: GridLocator | None
    grid_names: Mapping[uuid.UUID, str]


class LocatorSnapshot:
    """The communities and grids of one version of the tables, indexed."""

    def __init__(self, version: int, communities: dict[uuid.UUID, _Community]) -> None:
        self.version = version
        self._communities = communities
        self._locator = CommunityLocator(
            (community_id, c.geometry, c.center) for community_id, c in communities.items()
        )

    def __len__(self) -> int:
        return len(self._communities)

    def locate(self, lat: float, lng: float, max_distance_m: float) -> Location | None:
        found = self._locator.locate(lat, lng, max_distance_m)
        if found is None:
            return None
        community = self._communities[found.community_id]
        grid = (
            community.grids.locate(lat, lng, max_distance_m)
            if community.grids is not None
            else None
        )
        return Location(
            community_id=found.community_id,
            community_name=community.name,
            region_id=community.region_id,
            method=found.method,
            distance_m=found.distance_m,
            grid_id=grid.area_id if grid else None,
            grid_name=community.grid_names[grid.area_id] if grid else None,
        )


def build_snapshot(
    version: int, community_rows: Sequence[CommunityRow], grid_rows: Sequence[GridRow]
) -> LocatorSnapshot:
    """A snapshot of all the communities and grids there are."""
    return LocatorSnapshot(version, _communities(community_rows, grid_rows))


def apply_changes(
    snapshot: LocatorSnapshot,
    version: int,
    changed: Collection[uuid.UUID],
    community_rows: Sequence[CommunityRow],
    grid_rows: Sequence[GridRow],
) -> LocatorSnapshot:
    """``snapshot`` with the communities ``changed`` replaced by the rows read now (a changed
    community without a row was deleted); ``grid_rows`` are all the grids of those communities.
    The other communities, their boundaries and their grids' indexes are reused as they are:
    only the index over all communities is built again."""
    communities = dict(snapshot._communities)
    for community_id in changed:
        communities.pop(community_id, None)
    communities.update(_communities(community_rows, grid_rows))
    return LocatorSnapshot(version, communities)


def _communities(
    community_rows: Sequence[CommunityRow], grid_rows: Sequence[GridRow]
) -> dict[uuid.UUID, _Community]:
    community_geometries = _geometries("community", community_rows)
    grid_geometries = _geometries("grid", grid_rows)
    grids_of: dict[uuid.UUID, list[AreaEntry[uuid.UUID]]] = {}
    grid_names: dict[uuid.UUID, dict[uuid.UUID, str]] = {}
    for grid, geometry in zip(grid_rows, grid_geometries, strict=True):
        if geometry is not None:
            grids_of.setdefault(grid.community_id, []).append((grid.id, geometry, None))
            grid_names.setdefault(grid.community_id, {})[grid.id] = grid.name
    communities: dict[uuid.UUID, _Community] = {}
    for row, geometry in zip(community_rows, community_geometries, strict=True):
        center = (
            (row.center_lat, row.center_lng)
            if row.center_lat is not None and row.center_lng is not None
            else None
        )
        entries = grids_of.get(row.id)
        communities[row.id] = _Community(
            name=row.name,
            region_id=row.region_id,
            geometry=geometry,
            center=center,
            grids=GridLocator(entries) if entries else None,
            grid_names=grid_names.get(row.id, {}),
        )
    return communities


def _geometries(kind: str, rows: Sequence[CommunityRow | GridRow]) -> Iterable[BaseGeometry | None]:
    decoded: list[BaseGeometry | None] = list(
        shapely.from_wkb(
            np.array([row.boundary_wkb for row in rows], dtype=object), on_invalid="ignore"
        )
    )
    for index, row in enumerate(rows):
        if decoded[index] is None and (row.boundary_wkb is not None or row.boundary is not None):
            decoded[index] = _from_geojson(kind, row.id, row.boundary)
    return decoded


def _from_geojson(
    kind: str, area_id: uuid.UUID, geojson: Mapping[str, Any] | None
) -> BaseGeometry | None:
    if geojson is None:
        log.warning("ignoring the unreadable boundary of %s %s", kind, area_id)
        return None
    try:
        return parse_boundary(geojson)
    except InvalidGeometry as exc:
        # Only rows written around the API can get here; locate by the centre rather than fail
        # every lookup.
        log.warning("ignoring the invalid boundary of %s %s: %s", kind, area_id, exc)
        return None
