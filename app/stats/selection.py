"""Which cases a statistic counts: the caller's scope, the filters and the period
(docs/product.md, "Which cases are counted"); and the check that a place named in a filter is
one the caller may see (404 otherwise, never an empty answer that confirms it exists)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import REGION_ROLES, STAFF_ROLES
from app.core.errors import NotFound
from app.core.pruning import within_period
from app.core.sql import member_of
from app.models import Category, Community, Job, Pairing, Region, Report, Unit
from app.models.enums import Role
from app.reports.queries import FILED_AT_ID


@dataclass(frozen=True)
class StatsQuery:
    principal: Principal
    start: datetime
    end: datetime
    now: datetime
    region_id: uuid.UUID | None = None
    community_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    # The category filter as the leaf codes it stands for (a top class: all its leaves).
    categories: tuple[str, ...] | None = None
    # The caller's scope, and the region filter, as conditions on reports (``scope_of``).
    scope: ColumnElement[bool] = field(default_factory=true)
    region: ColumnElement[bool] | None = None
    # Whether the cases are in month partitions here (PostgreSQL): a period also bounds their
    # ids, so that only its months are read.
    partitioned: bool = False
    # Whether a plan made once for a statement fits every call (``one_community``): the
    # statistics are otherwise planned for each call's values (app/stats/deps.py).
    cached_plan_fits: bool = False


def one_community(principal: Principal) -> bool:
    """Whether the caller's scope is one community's cases (its staff, nothing else): the
    scope is then an equality (``scope_of``), and a statement over its cases reads that
    community's index whatever the community and the period, a plan made without the values
    as well as one made for them."""
    return (
        not principal.is_admin
        and not principal.region_paths(*REGION_ROLES)
        and not principal.scope_ids(Role.unit_staff)
        and len(principal.scope_ids(*STAFF_ROLES)) == 1
    )


def region_subtree(
    *, paths: list[str] | None = None, region_id: uuid.UUID | None = None
) -> Select[uuid.UUID]:
    """The ids of the regions under ``paths``, or under the region ``region_id``."""
    if region_id is not None:
        path = select(Region.path).where(Region.id == region_id).scalar_subquery()
        return select(Region.id).where(Region.path.startswith(path))
    return select(Region.id).where(or_(*(Region.path.startswith(p) for p in paths or [])))


async def _subtree(session: AsyncSession, paths: list[str]) -> tuple[list[Any], list[Any]]:
    """The ids of the regions under ``paths`` and of their communities."""
    regions = list(await session.scalars(region_subtree(paths=paths)))
    communities = list(
        await session.scalars(select(Community.id).where(Community.region_id.in_(regions)))
    )
    return regions, communities


def _in_places(
    session: AsyncSession, regions: list[Any], communities: list[Any]
) -> ColumnElement[bool]:
    """Cases owned by one of the regions or of one of the communities (as the scopes of
    supervisors count them: an escalated case stays in sight of where it happened). Given as
    lists of ids, read beforehand: each arm then reads its (…, created_at) index for the
    period, where a sub-select in an OR leaves PostgreSQL no index to use."""
    return or_(
        member_of(session, Report.region_id, regions) if regions else false(),
        member_of(session, Report.community_id, communities) if communities else false(),
    )


async def scope_of(session: AsyncSession, principal: Principal) -> ColumnElement[bool]:
    """The cases of the caller's places (``report_scope``, the caller's own reports aside),
    with the places as ids."""
    if principal.is_admin:
        return true()
    branches: list[ColumnElement[bool]] = []
    if paths := principal.region_paths(*REGION_ROLES):
        branches.append(_in_places(session, *await _subtree(session, paths)))
    if communities := principal.scope_ids(*STAFF_ROLES):
        # A list written out, as the case list's scope writes it (app/cases/visibility.py): a
        # caller has one community or a few, and one is an equality, whose index a plan kept
        # for any community reads (``one_community``); an array is never one.
        branches.append(Report.community_id.in_(sorted(communities)))
    if units := principal.scope_ids(Role.unit_staff):
        branches.append(Report.id.in_(select(Job.report_id).where(Job.unit_id.in_(units))))
    # The reports a supervisor or a unit's staff filed themselves elsewhere are not counted:
    # a statistic speaks of places, and each branch here reads an index of places.
    return or_(*branches) if branches else false()


async def region_filter(session: AsyncSession, region_id: uuid.UUID) -> ColumnElement[bool]:
    path = await session.scalar(select(Region.path).where(Region.id == region_id))
    assert path is not None  # checked by check_region
    return _in_places(session, *await _subtree(session, [path]))


def case_filters(query: StatsQuery) -> list[ColumnElement[bool]]:
    """The caller's scope and the filters, the period aside (each statistic applies it to
    its own moment: filing, a job's sending, an event)."""
    conditions = [query.scope]
    if query.region is not None:
        conditions.append(query.region)
    if query.community_id is not None:
        conditions.append(Report.community_id == query.community_id)
    if query.unit_id is not None:
        conditions.append(Report.id.in_(select(Job.report_id).where(Job.unit_id == query.unit_id)))
    if query.categories is not None:
        conditions.append(Report.category_code.in_(query.categories))
    return conditions


def counted_cases(query: StatsQuery) -> list[ColumnElement[bool]]:
    """The cases filed in the period that the caller may see and the filters keep."""
    filed = [Report.created_at >= query.start, Report.created_at < query.end]
    if query.partitioned:
        filed += within_period(FILED_AT_ID, query.start, query.end)
    return [*case_filters(query), *filed]


def within(column: Any, query: StatsQuery) -> list[ColumnElement[bool]]:
    return [column >= query.start, column < query.end]


async def category_codes(session: AsyncSession, code: str) -> tuple[str, ...] | None:
    """The leaf codes a category filter stands for; None for an unknown code."""
    rows = (
        await session.scalars(
            select(Category.code).where(
                or_(Category.code == code, Category.parent_code == code), Category.is_leaf
            )
        )
    ).all()
    known = await session.scalar(select(Category.code).where(Category.code == code))
    return tuple(rows) if known is not None else None


async def _community_region_paths(session: AsyncSession, principal: Principal) -> list[str]:
    communities = principal.scope_ids(*STAFF_ROLES)
    if not communities:
        return []
    rows = await session.scalars(
        select(Region.path)
        .join(Community, Community.region_id == Region.id)
        .where(Community.id.in_(communities))
    )
    return list(rows)


async def _unit_region_paths(session: AsyncSession, principal: Principal) -> list[str]:
    units = principal.scope_ids(Role.unit_staff)
    if not units:
        return []
    rows = await session.scalars(
        select(Region.path).join(Unit, Unit.region_id == Region.id).where(Unit.id.in_(units))
    )
    return list(rows)


async def check_region(session: AsyncSession, principal: Principal, region_id: uuid.UUID) -> None:
    """A supervisor or viewer may name a region of their subtrees; staff and unit staff the
    regions their community or unit lies in (and those above it)."""
    path = await session.scalar(select(Region.path).where(Region.id == region_id))
    if path is None:
        raise NotFound("No such region")
    if principal.is_admin or principal.covers_region_path(path, *REGION_ROLES):
        return
    own = await _community_region_paths(session, principal)
    own += await _unit_region_paths(session, principal)
    if not any(place.startswith(path) for place in own):
        raise NotFound("No such region")


async def check_community(
    session: AsyncSession, principal: Principal, community_id: uuid.UUID
) -> None:
    """Supervisors and viewers: a community of their subtrees; staff: their own; unit staff:
    one their unit is paired with."""
    path = await session.scalar(
        select(Region.path)
        .join(Community, Community.region_id == Region.id)
        .where(Community.id == community_id)
    )
    if path is None:
        raise NotFound("No such community")
    if principal.is_admin or principal.covers_region_path(path, *REGION_ROLES):
        return
    if community_id in principal.scope_ids(*STAFF_ROLES):
        return
    if units := principal.scope_ids(Role.unit_staff):
        paired = await session.scalar(
            select(Pairing.id).where(
                Pairing.community_id == community_id, Pairing.unit_id.in_(units)
            )
        )
        if paired is not None:
            return
    raise NotFound("No such community")


async def check_unit(session: AsyncSession, principal: Principal, unit_id: uuid.UUID) -> None:
    """Unit staff: their own unit; supervisors and viewers: a unit of their subtrees or
    paired with one of its communities; staff: a unit paired with their community."""
    path = await session.scalar(
        select(Region.path).join(Unit, Unit.region_id == Region.id).where(Unit.id == unit_id)
    )
    if path is None:
        raise NotFound("No such unit")
    if principal.is_admin or principal.covers_region_path(path, *REGION_ROLES):
        return
    if unit_id in principal.scope_ids(Role.unit_staff):
        return
    pairings = select(Pairing.community_id).where(Pairing.unit_id == unit_id)
    communities = set(await session.scalars(pairings))
    if communities & principal.scope_ids(*STAFF_ROLES):
        return
    if paths := principal.region_paths(*REGION_ROLES):
        paired_paths = await session.scalars(
            select(Region.path)
            .join(Community, Community.region_id == Region.id)
            .where(Community.id.in_(communities))
        )
        if any(place.startswith(p) for place in paired_paths for p in paths):
            return
    raise NotFound("No such unit")
