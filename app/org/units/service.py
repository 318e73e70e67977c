"""Paired units (结对共建单位) and their pairings (结对) with communities.

Admins manage units. Pairings are managed by admins and by supervisors, for the communities of
their region's subtree: pairing units with communities is the township's and the banner's
everyday organising work (吹哨报到: the organisation department pairs the departments with the
communities), not a system setting. A supervisor pairs units of their own region, inside it or
above it (the banner's departments serve every township), as for the whistle
(app/workflow/whistle.py); not a unit of another township, which answers to someone else."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.auth.principal import Principal
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import PageParams, SortKey, paginate
from app.models import Category, Community, Pairing, Region, RoleAssignment, Unit
from app.models.enums import Role, UnitKind
from app.org.exceptions import AlreadyPaired, NameTaken, StillInUse
from app.org.persistence import (
    apply_changes,
    delete_or_raise,
    flush_or_raise,
    get_or_404,
    get_or_422,
    in_region_subtrees,
    region_filter_path,
    region_subtree_ids,
)
from app.org.schemas import Ref
from app.org.units.schemas import (
    PairedCommunityRead,
    PairingCreate,
    PairingRead,
    PairingUpdate,
    UnitCreate,
    UnitDetail,
    UnitRead,
    UnitUpdate,
)


def unit_read(unit: Unit) -> UnitRead:
    return UnitRead(
        id=unit.id,
        name=unit.name,
        kind=unit.kind,
        region=Ref.model_validate(unit.region),
        phone=unit.phone,
        description=unit.description,
    )


async def list_units(
    session: AsyncSession,
    params: PageParams,
    *,
    region_id: uuid.UUID | None = None,
    q: str | None = None,
    kind: UnitKind | None = None,
) -> tuple[list[UnitRead], str | None]:
    stmt = select(Unit).options(selectinload(Unit.region))
    if region_id is not None:
        path = await region_filter_path(session, region_id)
        stmt = stmt.where(Unit.region_id.in_(region_subtree_ids(path)))
    if q and q.strip():
        stmt = stmt.where(Unit.name.icontains(q.strip(), autoescape=True))
    if kind is not None:
        stmt = stmt.where(Unit.kind == kind)
    rows, cursor = await paginate(session, stmt, [SortKey(Unit.name), SortKey(Unit.id)], params)
    return [unit_read(u) for u in rows], cursor


async def get_unit_detail(session: AsyncSession, unit_id: uuid.UUID) -> UnitDetail:
    unit = await session.scalar(
        select(Unit)
        .options(selectinload(Unit.region))
        .where(Unit.id == unit_id)
        .execution_options(populate_existing=True)
    )
    if unit is None:
        raise NotFound("No such unit")
    pairings = await session.execute(
        select(Pairing.id, Pairing.category_codes, Community.id, Community.name)
        .join(Community, Pairing.community_id == Community.id)
        .where(Pairing.unit_id == unit.id)
        .order_by(Community.name, Community.id)
    )
    return UnitDetail(
        **unit_read(unit).model_dump(),
        communities=[
            PairedCommunityRead(
                pairing_id=pairing_id,
                community=Ref(id=community_id, name=community_name),
                category_codes=codes,
            )
            for pairing_id, codes, community_id, community_name in pairings
        ],
    )


async def _check_unit_name_free(
    session: AsyncSession, name: str, exclude: uuid.UUID | None = None
) -> None:
    stmt = select(Unit.id).where(Unit.name == name)
    if exclude is not None:
        stmt = stmt.where(Unit.id != exclude)
    if await session.scalar(stmt.limit(1)) is not None:
        raise NameTaken(f"There is already a unit named {name!r}")


async def create_unit(session: AsyncSession, body: UnitCreate) -> UnitDetail:
    await get_or_422(session, Region, body.region_id, ["body", "region_id"], "region")
    await _check_unit_name_free(session, body.name)
    unit = Unit(**body.model_dump())
    session.add(unit)
    await flush_or_raise(session, NameTaken(f"There is already a unit named {body.name!r}"))
    return await get_unit_detail(session, unit.id)


async def update_unit(session: AsyncSession, unit_id: uuid.UUID, body: UnitUpdate) -> UnitDetail:
    unit = await get_or_404(session, Unit, unit_id, "unit")
    changes = body.model_dump(exclude_unset=True)
    if "region_id" in changes:
        await get_or_422(session, Region, changes["region_id"], ["body", "region_id"], "region")
    if "name" in changes:
        await _check_unit_name_free(session, changes["name"], exclude=unit.id)
    apply_changes(unit, changes)
    await flush_or_raise(session, NameTaken("There is already a unit of that name"))
    return await get_unit_detail(session, unit.id)


async def delete_unit(session: AsyncSession, unit_id: uuid.UUID) -> None:
    """Its pairings go with it. Not while its staff hold roles there: the database would drop
    their roles with it and they would silently lose their access."""
    unit = await get_or_404(session, Unit, unit_id, "unit")
    holders = await session.scalar(select(func.count()).where(RoleAssignment.unit_id == unit.id))
    if holders:
        raise StillInUse(f"{holders} role assignment(s) are held in {unit.name}; remove them first")
    await delete_or_raise(
        session, delete(Unit).where(Unit.id == unit.id), StillInUse(f"{unit.name} is in use")
    )


# --- pairings -----------------------------------------------------------------------------


def managed_communities(principal: Principal) -> Select[Community]:
    """The communities whose pairings the caller manages: all for an admin, the region
    subtrees of a supervisor."""
    stmt = select(Community)
    if principal.is_admin:
        return stmt
    return stmt.join(Region, Community.region_id == Region.id).where(
        in_region_subtrees(principal.region_paths(Role.supervisor))
    )


async def get_managed_community(
    session: AsyncSession, principal: Principal, community_id: uuid.UUID
) -> Community:
    community = await session.scalar(
        managed_communities(principal).where(Community.id == community_id)
    )
    if community is None:
        raise NotFound("No such community")
    return community


async def get_managed_pairing(
    session: AsyncSession, principal: Principal, pairing_id: uuid.UUID
) -> Pairing:
    communities = managed_communities(principal).with_only_columns(Community.id)
    pairing = await session.scalar(
        select(Pairing).where(Pairing.id == pairing_id, Pairing.community_id.in_(communities))
    )
    if pairing is None:
        raise NotFound("No such pairing")
    return pairing


async def list_pairings(session: AsyncSession, community_id: uuid.UUID) -> list[PairingRead]:
    await get_or_404(session, Community, community_id, "community")
    pairings = await session.scalars(
        select(Pairing)
        .join(Unit, Pairing.unit_id == Unit.id)
        .options(selectinload(Pairing.unit), selectinload(Pairing.community))
        .where(Pairing.community_id == community_id)
        .order_by(Unit.name, Pairing.id)
    )
    return [pairing_read(p) for p in pairings]


def pairing_read(pairing: Pairing) -> PairingRead:
    return PairingRead(
        id=pairing.id,
        community=Ref.model_validate(pairing.community),
        unit=Ref.model_validate(pairing.unit),
        category_codes=pairing.category_codes,
        created_at=pairing.created_at,
    )


async def _known_category_codes(
    session: AsyncSession, codes: Sequence[str] | None
) -> list[str] | None:
    if codes is None:
        return None
    unique = list(dict.fromkeys(codes))
    known = set(await session.scalars(select(Category.code).where(Category.code.in_(unique))))
    for index, code in enumerate(codes):
        if code not in known:
            raise ValidationFailed.at(["body", "category_codes", index], f"no category {code!r}")
    return unique


async def _pairing_read(session: AsyncSession, pairing_id: uuid.UUID) -> PairingRead:
    pairing = await session.scalar(
        select(Pairing)
        .options(selectinload(Pairing.unit), selectinload(Pairing.community))
        .where(Pairing.id == pairing_id)
        .execution_options(populate_existing=True)
    )
    assert pairing is not None
    return pairing_read(pairing)


async def _check_unit_within_reach(
    session: AsyncSession, principal: Principal, community: Community, unit: Unit
) -> None:
    """422 unless the caller is an admin or supervises the community from a region whose line
    (itself, inside it or above it) holds the unit."""
    if principal.is_admin:
        return
    community_path = await session.scalar(
        select(Region.path).where(Region.id == community.region_id)
    )
    unit_path = await session.scalar(select(Region.path).where(Region.id == unit.region_id))
    supervised = [
        path
        for path in principal.region_paths(Role.supervisor)
        if community_path is not None and community_path.startswith(path)
    ]
    if unit_path is not None and any(
        unit_path.startswith(path) or path.startswith(unit_path) for path in supervised
    ):
        return
    raise ValidationFailed.at(
        ["body", "unit_id"],
        f"{unit.name} belongs to a region outside yours; an administrator can pair it",
    )


async def create_pairing(
    session: AsyncSession, principal: Principal, community: Community, body: PairingCreate
) -> PairingRead:
    unit = await get_or_422(session, Unit, body.unit_id, ["body", "unit_id"], "unit")
    await _check_unit_within_reach(session, principal, community, unit)
    codes = await _known_category_codes(session, body.category_codes)
    already = await session.scalar(
        select(Pairing.id).where(Pairing.community_id == community.id, Pairing.unit_id == unit.id)
    )
    message = f"{unit.name} is already paired with {community.name}"
    if already is not None:
        raise AlreadyPaired(message)
    pairing = Pairing(community_id=community.id, unit_id=unit.id, category_codes=codes)
    session.add(pairing)
    await flush_or_raise(session, AlreadyPaired(message))
    return await _pairing_read(session, pairing.id)


async def update_pairing(
    session: AsyncSession, pairing: Pairing, body: PairingUpdate
) -> PairingRead:
    pairing.category_codes = await _known_category_codes(session, body.category_codes)
    await session.flush()
    return await _pairing_read(session, pairing.id)


async def delete_pairing(session: AsyncSession, pairing: Pairing) -> None:
    await session.execute(delete(Pairing).where(Pairing.id == pairing.id))
