"""The region tree: city (盟市) → county (旗县区) → township (苏木镇/街道)."""

from __future__ import annotations

import uuid

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ValidationFailed
from app.models import ApiKey, Community, Region, RoleAssignment, Unit
from app.models.enums import RegionLevel
from app.models.ids import new_id
from app.org.exceptions import NameTaken, StillInUse
from app.org.persistence import (
    apply_changes,
    delete_or_raise,
    flush_or_raise,
    get_or_404,
    get_or_422,
)
from app.org.regions.schemas import RegionCreate, RegionDetail, RegionRead, RegionUpdate
from app.org.schemas import Ref

CHILD_LEVEL: dict[RegionLevel, RegionLevel] = {
    RegionLevel.city: RegionLevel.county,
    RegionLevel.county: RegionLevel.township,
}

# Tree order for the flat list: every parent comes before its children.
_DEPTH = case(
    {RegionLevel.city: 0, RegionLevel.county: 1, RegionLevel.township: 2},
    value=Region.level,
)


async def list_regions(session: AsyncSession, parent_id: uuid.UUID | None) -> list[Region]:
    stmt = select(Region).order_by(_DEPTH, Region.name, Region.id)
    if parent_id is not None:
        await get_or_422(session, Region, parent_id, ["query", "parent_id"], "region")
        stmt = stmt.where(Region.parent_id == parent_id)
    return list((await session.scalars(stmt)).all())


async def get_region_detail(session: AsyncSession, region_id: uuid.UUID) -> RegionDetail:
    region = await get_or_404(session, Region, region_id, "region")
    ancestor_ids = [uuid.UUID(part) for part in region.path.strip("/").split("/")[:-1]]
    ancestors = {
        r.id: r for r in await session.scalars(select(Region).where(Region.id.in_(ancestor_ids)))
    }
    children = await session.scalars(
        select(Region).where(Region.parent_id == region.id).order_by(Region.name, Region.id)
    )
    return RegionDetail(
        **RegionRead.model_validate(region).model_dump(),
        ancestors=[Ref.model_validate(ancestors[i]) for i in ancestor_ids],
        children=[RegionRead.model_validate(c) for c in children],
    )


async def _check_name_free(
    session: AsyncSession, name: str, parent_id: uuid.UUID | None, exclude: uuid.UUID | None
) -> None:
    # The unique constraint on (parent_id, name) cannot see two roots: NULLs never collide.
    same_parent = Region.parent_id.is_(None) if parent_id is None else Region.parent_id == parent_id
    stmt = select(Region.id).where(Region.name == name, same_parent)
    if exclude is not None:
        stmt = stmt.where(Region.id != exclude)
    if await session.scalar(stmt.limit(1)) is not None:
        raise NameTaken(f"There is already a region named {name!r} there")


async def _check_code_free(session: AsyncSession, code: str, exclude: uuid.UUID | None) -> None:
    stmt = select(Region.id).where(Region.code == code)
    if exclude is not None:
        stmt = stmt.where(Region.id != exclude)
    if await session.scalar(stmt.limit(1)) is not None:
        raise NameTaken(f"The region code {code!r} is taken")


def _level_under(parent: Region | None, requested: RegionLevel | None) -> RegionLevel:
    if parent is None:
        if requested is None:
            raise ValidationFailed.at(["body", "level"], "a root region needs its level")
        return requested
    expected = CHILD_LEVEL.get(parent.level)
    if expected is None:
        raise ValidationFailed.at(
            ["body", "parent_id"],
            f"{parent.name} is a township: communities go under it, not regions",
        )
    if requested is not None and requested != expected:
        raise ValidationFailed.at(
            ["body", "level"],
            f"a {parent.level}'s child is a {expected}, not a {requested}",
        )
    return expected


async def create_region(session: AsyncSession, body: RegionCreate) -> Region:
    parent = (
        await get_or_422(session, Region, body.parent_id, ["body", "parent_id"], "region")
        if body.parent_id is not None
        else None
    )
    level = _level_under(parent, body.level)
    await _check_name_free(session, body.name, body.parent_id, exclude=None)
    if body.code is not None:
        await _check_code_free(session, body.code, exclude=None)
    region_id = new_id()
    region = Region(
        id=region_id,
        name=body.name,
        code=body.code,
        level=level,
        parent_id=body.parent_id,
        path=f"{parent.path if parent else '/'}{region_id}/",
    )
    session.add(region)
    await flush_or_raise(session, NameTaken("The region's name or code is taken"))
    return region


async def update_region(session: AsyncSession, region_id: uuid.UUID, body: RegionUpdate) -> Region:
    region = await get_or_404(session, Region, region_id, "region")
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes:
        await _check_name_free(session, changes["name"], region.parent_id, exclude=region.id)
    if changes.get("code") is not None:
        await _check_code_free(session, changes["code"], exclude=region.id)
    apply_changes(region, changes)
    await flush_or_raise(session, NameTaken("The region's name or code is taken"))
    return region


async def delete_region(session: AsyncSession, region_id: uuid.UUID) -> None:
    """Only an empty region goes. People's roles and dashboard keys held there count too: the
    database would silently delete them with the region, and the people would lose access."""
    region = await get_or_404(session, Region, region_id, "region")
    counts = {
        "child regions": select(func.count()).where(Region.parent_id == region.id),
        "communities": select(func.count()).where(Community.region_id == region.id),
        "units": select(func.count()).where(Unit.region_id == region.id),
        "role assignments": select(func.count()).where(RoleAssignment.region_id == region.id),
        "API keys": select(func.count()).where(ApiKey.region_id == region.id),
    }
    in_use = []
    for what, stmt in counts.items():
        if number := await session.scalar(stmt):
            in_use.append(f"{number} {what}")
    if in_use:
        raise StillInUse(f"{region.name} still has {', '.join(in_use)}; move or delete them first")
    await delete_or_raise(
        session,
        delete(Region).where(Region.id == region.id),
        StillInUse(f"{region.name} is in use"),
    )
