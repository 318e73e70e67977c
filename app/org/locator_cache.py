"""The community and grid locator of one API process, kept in step with the database.

Building the STRtree costs far more than a lookup, so it is built once and reused, and rebuilt
after a write of this process or when a cheap fingerprint of the tables shows another process
wrote (see :mod:`app.core.snapshots`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.geo import InvalidGeometry, parse_boundary
from app.core.snapshots import SnapshotCache
from app.models import Community, Grid
from app.org.geo_index import AreaEntry, CommunityLocator, GridLocator, LocateMethod

log = logging.getLogger("app.org.locator")

# Below this many areas a rebuild takes well under a millisecond: handing it to a thread would
# cost more than it saves.
_BUILD_INLINE_MAX_AREAS = 200

Fingerprint = tuple[Any, ...]


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


class _Areas:
    """The communities and grids of one version of the tables, indexed."""

    def __init__(
        self,
        communities: CommunityLocator,
        community_names: dict[uuid.UUID, str],
        community_regions: dict[uuid.UUID, uuid.UUID],
        grids: dict[uuid.UUID, GridLocator],
        grid_names: dict[uuid.UUID, str],
    ) -> None:
        self._communities = communities
        self._community_names = community_names
        self._community_regions = community_regions
        self._grids = grids
        self._grid_names = grid_names

    def locate(self, lat: float, lng: float, max_distance_m: float) -> Location | None:
        found = self._communities.locate(lat, lng, max_distance_m)
        if found is None:
            return None
        grids = self._grids.get(found.community_id)
        grid = grids.locate(lat, lng, max_distance_m) if grids is not None else None
        return Location(
            community_id=found.community_id,
            community_name=self._community_names[found.community_id],
            region_id=self._community_regions[found.community_id],
            method=found.method,
            distance_m=found.distance_m,
            grid_id=grid.area_id if grid else None,
            grid_name=self._grid_names[grid.area_id] if grid else None,
        )


def _geometry(kind: str, area_id: uuid.UUID, geojson: dict[str, Any] | None) -> BaseGeometry | None:
    if geojson is None:
        return None
    try:
        return parse_boundary(geojson)
    except InvalidGeometry as exc:
        # Only rows written around the API can get here; locate by the centre rather than fail
        # every lookup.
        log.warning("ignoring the invalid boundary of %s %s: %s", kind, area_id, exc)
        return None


def _build(community_rows: Sequence[Any], grid_rows: Sequence[Any]) -> _Areas:
    community_entries: list[AreaEntry[uuid.UUID]] = []
    community_names: dict[uuid.UUID, str] = {}
    community_regions: dict[uuid.UUID, uuid.UUID] = {}
    for community_id, name, region_id, boundary, center_lat, center_lng in community_rows:
        center = (
            (center_lat, center_lng) if center_lat is not None and center_lng is not None else None
        )
        community_entries.append(
            (community_id, _geometry("community", community_id, boundary), center)
        )
        community_names[community_id] = name
        community_regions[community_id] = region_id
    grid_entries: dict[uuid.UUID, list[AreaEntry[uuid.UUID]]] = {}
    grid_names: dict[uuid.UUID, str] = {}
    for grid_id, community_id, name, boundary in grid_rows:
        geometry = _geometry("grid", grid_id, boundary)
        if geometry is not None:
            grid_entries.setdefault(community_id, []).append((grid_id, geometry, None))
            grid_names[grid_id] = name
    return _Areas(
        CommunityLocator(community_entries),
        community_names,
        community_regions,
        {community_id: GridLocator(entries) for community_id, entries in grid_entries.items()},
        grid_names,
    )


async def _fingerprint(session: AsyncSession) -> Fingerprint:
    """Changes whenever a community or grid is added, changed or deleted: a deletion lowers a
    count, anything else moves a latest ``updated_at``."""
    row = (
        await session.execute(
            select(
                select(func.count()).select_from(Community).scalar_subquery(),
                select(func.max(Community.updated_at)).scalar_subquery(),
                select(func.count()).select_from(Grid).scalar_subquery(),
                select(func.max(Grid.updated_at)).scalar_subquery(),
            )
        )
    ).one()
    return tuple(row)


async def _load(session: AsyncSession, _: Fingerprint) -> _Areas:
    community_rows = (
        await session.execute(
            select(
                Community.id,
                Community.name,
                Community.region_id,
                Community.boundary,
                Community.center_lat,
                Community.center_lng,
            )
        )
    ).all()
    grid_rows = (
        await session.execute(select(Grid.id, Grid.community_id, Grid.name, Grid.boundary))
    ).all()
    if len(community_rows) + len(grid_rows) <= _BUILD_INLINE_MAX_AREAS:
        return _build(community_rows, grid_rows)
    return await asyncio.to_thread(_build, community_rows, grid_rows)


class LocatorCache(SnapshotCache[_Areas, Fingerprint]):
    """Locates points among the communities and grids of the database, from memory."""

    def __init__(
        self,
        *,
        max_distance_m: float,
        refresh_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(_fingerprint, _load, refresh_seconds=refresh_seconds, monotonic=monotonic)
        self.max_distance_m = max_distance_m

    async def locate(
        self, session: AsyncSession, lat: float, lng: float, max_distance_m: float | None = None
    ) -> Location | None:
        """The community covering the WGS-84 point, else the nearest within ``max_distance_m``
        (the routing distance of the settings by default), with its grid."""
        areas = await self.get(session)
        return areas.locate(
            lat, lng, self.max_distance_m if max_distance_m is None else max_distance_m
        )
