"""Communities (社区/村) with their boundaries, the grids inside them, and locating a point."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, selectinload

from app.core.errors import NotFound, ValidationFailed
from app.core.geo import CoordSystem, boundary_centroid, to_wgs84
from app.core.pagination import PageParams, SortKey, paginate
from app.models import Community, Grid, Pairing, Region, RoleAssignment, Unit
from app.models.enums import RegionLevel
from app.org.communities.boundaries import (
    BoundaryModel,
    grid_fits_community,
    grids_outside,
    read_boundary,
    store_boundary,
    stored_boundary,
)
from app.org.communities.schemas import (
    CommunityCreate,
    CommunityDetail,
    CommunityRead,
    CommunityUpdate,
    GridCreate,
    GridRead,
    GridUpdate,
    LocateRead,
    PairedUnitRead,
)
from app.org.exceptions import NameTaken, StillInUse
from app.org.locator_cache import LocatorCache
from app.org.locator_versions import record_locator_change
from app.org.persistence import (
    apply_changes,
    delete_or_raise,
    flush_or_raise,
    get_or_404,
    get_or_422,
    region_filter_path,
    region_subtree_ids,
)
from app.org.schemas import LatLng, Ref

# A community's fields a locator answers with or locates by; a change to its address or phone
# leaves the processes' locators alone.
_WHAT_LOCATORS_SHOW = frozenset({"name", "region_id", "boundary", "center"})


def community_read(community: Community, has_boundary: bool) -> CommunityRead:
    return CommunityRead(
        id=community.id,
        name=community.name,
        kind=community.kind,
        region=Ref.model_validate(community.region),
        address=community.address,
        phone=community.phone,
        center=_center(community),
        has_boundary=has_boundary,
    )


def _center(community: Community) -> LatLng | None:
    if community.center_lat is None or community.center_lng is None:
        return None
    return LatLng(lat=community.center_lat, lng=community.center_lng)


def grid_read(grid: Grid) -> GridRead:
    return GridRead(
        id=grid.id, community_id=grid.community_id, name=grid.name, boundary=grid.boundary
    )


async def list_communities(
    session: AsyncSession,
    params: PageParams,
    *,
    region_id: uuid.UUID | None = None,
    q: str | None = None,
) -> tuple[list[CommunityRead], str | None]:
    # A page of surveyed boundaries can weigh megabytes; the list only says whether there is one.
    stmt = select(Community).options(defer(Community.boundary), selectinload(Community.region))
    if region_id is not None:
        path = await region_filter_path(session, region_id)
        stmt = stmt.where(Community.region_id.in_(region_subtree_ids(path)))
    if q and q.strip():
        stmt = stmt.where(Community.name.icontains(q.strip(), autoescape=True))
    rows, cursor = await paginate(
        session, stmt, [SortKey(Community.name), SortKey(Community.id)], params
    )
    with_boundary = set(
        await session.scalars(
            select(Community.id).where(
                Community.id.in_([c.id for c in rows]),
                Community.boundary["type"].as_string().is_not(None),
            )
        )
    )
    return [community_read(c, c.id in with_boundary) for c in rows], cursor


async def outlines(session: AsyncSession, region_id: uuid.UUID | None) -> dict[str, Any]:
    """The boundaries of the communities (of a region's subtree) as a GeoJSON
    FeatureCollection, for maps drawn without online tiles; communities without a surveyed
    boundary are left out."""
    stmt = (
        select(Community.id, Community.name, Community.region_id, Community.boundary)
        .where(Community.boundary["type"].as_string().is_not(None))
        .order_by(Community.name, Community.id)
    )
    if region_id is not None:
        path = await region_filter_path(session, region_id)
        stmt = stmt.where(Community.region_id.in_(region_subtree_ids(path)))
    features = [
        {
            "type": "Feature",
            "id": str(row.id),
            "geometry": row.boundary,
            "properties": {"id": str(row.id), "name": row.name, "region_id": str(row.region_id)},
        }
        for row in await session.execute(stmt)
    ]
    return {"type": "FeatureCollection", "features": features}


async def get_community_detail(session: AsyncSession, community_id: uuid.UUID) -> CommunityDetail:
    community = await session.scalar(
        select(Community)
        .options(selectinload(Community.region), selectinload(Community.grids))
        .where(Community.id == community_id)
        .execution_options(populate_existing=True)
    )
    if community is None:
        raise NotFound("No such community")
    pairings = await session.execute(
        select(Pairing.id, Pairing.category_codes, Unit.id, Unit.name)
        .join(Unit, Pairing.unit_id == Unit.id)
        .where(Pairing.community_id == community.id)
        .order_by(Unit.name)
    )
    return CommunityDetail(
        **community_read(community, community.boundary is not None).model_dump(),
        boundary=community.boundary,
        grids=[grid_read(g) for g in community.grids],
        paired_units=[
            PairedUnitRead(
                pairing_id=pairing_id,
                unit=Ref(id=unit_id, name=unit_name),
                category_codes=codes,
            )
            for pairing_id, codes, unit_id, unit_name in pairings
        ],
    )


async def _township(session: AsyncSession, region_id: uuid.UUID, loc: list[str | int]) -> Region:
    region = await get_or_422(session, Region, region_id, loc, "region")
    if region.level != RegionLevel.township:
        raise ValidationFailed.at(
            loc,
            f"{region.name} is a {region.level}: communities belong to a township (苏木镇/街道)",
        )
    return region


async def _check_name_free(
    session: AsyncSession, region_id: uuid.UUID, name: str, exclude: uuid.UUID | None = None
) -> None:
    stmt = select(Community.id).where(Community.region_id == region_id, Community.name == name)
    if exclude is not None:
        stmt = stmt.where(Community.id != exclude)
    if await session.scalar(stmt.limit(1)) is not None:
        raise NameTaken(f"The region already has a community named {name!r}")


async def create_community(session: AsyncSession, body: CommunityCreate) -> CommunityDetail:
    await _township(session, body.region_id, ["body", "region_id"])
    await _check_name_free(session, body.region_id, body.name)
    community = Community(
        name=body.name,
        kind=body.kind,
        region_id=body.region_id,
        address=body.address,
        phone=body.phone,
    )
    if body.boundary is not None:
        geometry = await read_boundary(body.boundary, ["body", "boundary"])
        store_boundary(community, stored_boundary(body.boundary), geometry)
        community.center_lat, community.center_lng = await asyncio.to_thread(
            boundary_centroid, geometry
        )
    if body.center is not None:
        community.center_lat, community.center_lng = body.center.lat, body.center.lng
    session.add(community)
    await flush_or_raise(
        session, NameTaken(f"The region already has a community named {body.name!r}")
    )
    await record_locator_change(session, [community.id])
    return await get_community_detail(session, community.id)


async def update_community(
    session: AsyncSession, community_id: uuid.UUID, body: CommunityUpdate
) -> CommunityDetail:
    community = await get_or_404(session, Community, community_id, "community")
    changes = body.model_dump(exclude_unset=True, exclude={"boundary", "center"})
    if "region_id" in changes:
        await _township(session, changes["region_id"], ["body", "region_id"])
    if "name" in changes or "region_id" in changes:
        name = changes.get("name", community.name)
        await _check_name_free(
            session, changes.get("region_id", community.region_id), name, exclude=community.id
        )
    if "boundary" in body.model_fields_set:
        if body.boundary is None:
            store_boundary(community, None)
        else:
            geometry = await read_boundary(body.boundary, ["body", "boundary"])
            outside = (await grids_outside(session, {community.id: geometry})).get(community.id)
            if outside:
                raise ValidationFailed.at(
                    ["body", "boundary"],
                    f"the grids {', '.join(outside)} would lie outside the new boundary; "
                    "change or delete them first",
                )
            store_boundary(community, stored_boundary(body.boundary), geometry)
            if "center" not in body.model_fields_set:
                community.center_lat, community.center_lng = await asyncio.to_thread(
                    boundary_centroid, geometry
                )
    if "center" in body.model_fields_set:
        center = body.center
        community.center_lat = center.lat if center else None
        community.center_lng = center.lng if center else None
    apply_changes(community, changes)
    await flush_or_raise(session, NameTaken("The region already has a community of that name"))
    if body.model_fields_set & _WHAT_LOCATORS_SHOW:
        await record_locator_change(session, [community.id])
    return await get_community_detail(session, community.id)


async def delete_community(session: AsyncSession, community_id: uuid.UUID) -> None:
    """Its grids, pairings and check-ins go with it. Not while people hold roles there: the
    database would drop their roles with it and they would silently lose their access."""
    community = await get_or_404(session, Community, community_id, "community")
    holders = await session.scalar(
        select(func.count()).where(RoleAssignment.community_id == community.id)
    )
    if holders:
        raise StillInUse(
            f"{holders} role assignment(s) are held in {community.name}; remove them first"
        )
    await delete_or_raise(
        session,
        delete(Community).where(Community.id == community.id),
        StillInUse(f"{community.name} is still referenced"),
    )
    await record_locator_change(session, [community.id])


async def locate(
    session: AsyncSession,
    locator: LocatorCache,
    lat: float,
    lng: float,
    coord_system: CoordSystem,
) -> LocateRead:
    wgs_lat, wgs_lng = to_wgs84(lat, lng, coord_system)
    found = await locator.locate(wgs_lat, wgs_lng)
    location = LatLng(lat=wgs_lat, lng=wgs_lng)
    if found is None:
        return LocateRead(
            community=None, grid=None, method=None, distance_m=None, location=location
        )
    return LocateRead(
        community=Ref(id=found.community_id, name=found.community_name),
        grid=Ref(id=found.grid_id, name=found.grid_name)
        if found.grid_id is not None and found.grid_name is not None
        else None,
        method=found.method,
        distance_m=round(found.distance_m, 1),
        location=location,
    )


# --- grids --------------------------------------------------------------------------------


async def _check_grid_name_free(
    session: AsyncSession, community_id: uuid.UUID, name: str, exclude: uuid.UUID | None = None
) -> None:
    stmt = select(Grid.id).where(Grid.community_id == community_id, Grid.name == name)
    if exclude is not None:
        stmt = stmt.where(Grid.id != exclude)
    if await session.scalar(stmt.limit(1)) is not None:
        raise NameTaken(f"The community already has a grid named {name!r}")


async def _store_grid_boundary(grid: Grid, community: Community, boundary: BoundaryModel) -> None:
    geometry = await read_boundary(boundary, ["body", "boundary"])
    if community.boundary is not None and not await grid_fits_community(
        community.boundary, geometry
    ):
        raise ValidationFailed.at(
            ["body", "boundary"], f"the grid does not lie within the boundary of {community.name}"
        )
    store_boundary(grid, stored_boundary(boundary), geometry)


async def create_grid(session: AsyncSession, community_id: uuid.UUID, body: GridCreate) -> Grid:
    community = await get_or_404(session, Community, community_id, "community")
    await _check_grid_name_free(session, community.id, body.name)
    grid = Grid(community_id=community.id, name=body.name)
    if body.boundary is not None:
        await _store_grid_boundary(grid, community, body.boundary)
    session.add(grid)
    await flush_or_raise(
        session, NameTaken(f"The community already has a grid named {body.name!r}")
    )
    await record_locator_change(session, [community.id])
    return grid


async def update_grid(session: AsyncSession, grid_id: uuid.UUID, body: GridUpdate) -> Grid:
    grid = await get_or_404(session, Grid, grid_id, "grid")
    if body.name is not None:
        await _check_grid_name_free(session, grid.community_id, body.name, exclude=grid.id)
        grid.name = body.name
    if "boundary" in body.model_fields_set:
        if body.boundary is None:
            store_boundary(grid, None)
        else:
            community = await session.get_one(Community, grid.community_id)
            await _store_grid_boundary(grid, community, body.boundary)
    await flush_or_raise(session, NameTaken("The community already has a grid of that name"))
    await record_locator_change(session, [grid.community_id])
    return grid


async def delete_grid(session: AsyncSession, grid_id: uuid.UUID) -> None:
    grid = await get_or_404(session, Grid, grid_id, "grid")
    await delete_or_raise(
        session,
        delete(Grid).where(Grid.id == grid.id),
        StillInUse(f"{grid.name} is still referenced"),
    )
    await record_locator_change(session, [grid.community_id])
