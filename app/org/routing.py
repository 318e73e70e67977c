"""Routing a reported point to the community responsible for it (or, outside every community,
to a region's queue). Organisation knowledge: the boundaries, the grids, who works where."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import ValidationFailed
from app.models import Community, CourierBranch, Grid, Region
from app.models.enums import Role, RoutingMethod
from app.org.locator_cache import Location, LocatorCache


async def queue_region(session: AsyncSession, principal: Principal) -> uuid.UUID:
    """Where a report no community covers waits: the reporter's own region if they have one
    (a courier's branch, a staff member's community, a supervisor's region), else the root."""
    assert principal.user_id is not None
    for grant in principal.grants:
        if grant.role in (Role.supervisor, Role.viewer) and grant.scope_id:
            return grant.scope_id
    community_ids = principal.scope_ids(Role.community_staff, Role.grid_worker)
    if community_ids:
        region = await session.scalar(
            select(Community.region_id).where(Community.id.in_(community_ids)).limit(1)
        )
        if region:
            return region
    branch_ids = principal.scope_ids(Role.courier)
    if branch_ids:
        region = await session.scalar(
            select(CourierBranch.region_id)
            .where(CourierBranch.id.in_(branch_ids), CourierBranch.region_id.is_not(None))
            .limit(1)
        )
        if region:
            return region
    root = await session.scalar(
        select(Region.id).where(Region.parent_id.is_(None)).order_by(Region.created_at).limit(1)
    )
    if root is None:
        raise ValidationFailed("No region is configured yet; an administrator must add one")
    return root


@dataclass(frozen=True, slots=True)
class Routed:
    """Where a reported point goes."""

    community_id: uuid.UUID | None  # None: no community covers it; it waits in a region's queue
    grid_id: uuid.UUID | None
    region_id: uuid.UUID
    method: RoutingMethod
    # How far the point lies outside the community it was sent to (nearest), else 0 or None.
    distance_m: float | None


async def route_point(
    session: AsyncSession,
    principal: Principal,
    lat: float,
    lng: float,
    grid_id: uuid.UUID | None,
    locator: LocatorCache,
) -> Routed:
    """The community (and grid) responsible for the point. A named grid decides for the grid
    workers of its community (routing ``grid``); for anyone else it must lie in the community
    the point is routed to, else 422: naming a grid cannot send a report elsewhere."""
    found = await locator.locate(lat, lng)
    if grid_id is not None:
        grid = await _named_grid(session, grid_id)
        if grid.community_id in principal.scope_ids(Role.grid_worker):
            # A grid worker knows their own grids better than a phone's position does.
            return Routed(grid.community_id, grid.id, grid.region_id, RoutingMethod.grid, None)
        _check_grid_lies_where_routed(grid, found)
    if found is None:
        region_id = await queue_region(session, principal)
        return Routed(None, None, region_id, RoutingMethod.region_queue, None)
    method = RoutingMethod(found.method)
    return Routed(
        found.community_id,
        # A named grid of the point's community says more than a grid's boundary drawn on the
        # map (grids may have none); it was checked to lie in that community.
        grid_id or found.grid_id,
        found.region_id,
        method,
        round(found.distance_m, 1) if method is RoutingMethod.nearest else 0.0,
    )


@dataclass(frozen=True, slots=True)
class _NamedGrid:
    id: uuid.UUID
    name: str
    community_id: uuid.UUID
    community_name: str
    region_id: uuid.UUID


async def _named_grid(session: AsyncSession, grid_id: uuid.UUID) -> _NamedGrid:
    row = (
        await session.execute(
            select(Grid.id, Grid.name, Community.id, Community.name, Community.region_id)
            .join(Community, Grid.community_id == Community.id)
            .where(Grid.id == grid_id)
        )
    ).one_or_none()
    if row is None:
        raise ValidationFailed.at(["body", "grid_id"], "no such grid")
    return _NamedGrid(*row)


def _check_grid_lies_where_routed(grid: _NamedGrid, found: Location | None) -> None:
    """A grid named by anyone but the grid workers of its community only refines where the
    point goes; it may not send the report to another community."""
    if found is None:
        raise ValidationFailed.at(
            ["body", "grid_id"],
            f"the grid {grid.name} is in {grid.community_name}, but the point is in no "
            "community's area; leave grid_id out",
        )
    if found.community_id != grid.community_id:
        raise ValidationFailed.at(
            ["body", "grid_id"],
            f"the grid {grid.name} is in {grid.community_name}, but the point is routed to "
            f"{found.community_name}; name a grid of {found.community_name} or leave grid_id out",
        )
