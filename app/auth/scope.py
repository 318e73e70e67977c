"""Which reports a caller may see: the row filter every report query goes through, and where a
case sits in the region tree (the paths that supervisors' scopes are checked against)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.models import Community, Job, Region, Report
from app.models.enums import Role

STAFF_ROLES = (Role.community_staff, Role.grid_worker)
REGION_ROLES = (Role.supervisor, Role.viewer)


def report_scope_branches(principal: Principal) -> list[ColumnElement[bool]]:
    """Which reports a caller may see, as the conditions whose union it is: admins see
    everything; supervisors and viewers their regions' subtrees (the cases owned there and the
    cases of their communities, escalated or not); community staff and grid workers their
    communities'; unit staff the cases their unit has a job on; everyone their own reports.
    Empty: nothing.

    Kept apart, each branch can be read from an index of its own in date order (a list runs
    one bounded scan per branch and merges them, app/core/pagination.py): OR-ed together, no
    index serves the whole condition in order, and a page sorts every match."""
    if principal.is_admin:
        return [true()]
    conditions: list[ColumnElement[bool]] = []
    if paths := principal.region_paths(*REGION_ROLES):
        subtree = select(Region.id).where(or_(*(Region.path.startswith(p) for p in paths)))
        conditions.append(Report.region_id.in_(subtree))
        # Escalation hands a case to the region above; the regions it happened in keep it in
        # sight (属地), to read, not to act on.
        conditions.append(
            Report.community_id.in_(select(Community.id).where(Community.region_id.in_(subtree)))
        )
    # A branch per community: an equality reads the community's index newest first; an IN of
    # several would have to sort them all.
    conditions += [
        Report.community_id == community for community in sorted(principal.scope_ids(*STAFF_ROLES))
    ]
    if units := principal.scope_ids(Role.unit_staff):
        conditions.append(Report.id.in_(select(Job.report_id).where(Job.unit_id.in_(units))))
    if principal.user_id is not None:
        conditions.append(Report.reporter_id == principal.user_id)
    return conditions


def report_scope(principal: Principal) -> ColumnElement[bool]:
    """The row filter every report query goes through (see ``report_scope_branches``)."""
    branches = report_scope_branches(principal)
    return or_(*branches) if branches else false()


async def place_path(session: AsyncSession, report: Report) -> str | None:
    """The materialised path of the region of the report's community (None: no community)."""
    if report.community_id is None:
        return None
    return await community_region_path(session, report.community_id)


async def community_region_path(session: AsyncSession, community_id: uuid.UUID) -> str | None:
    """The materialised path of the region a community lies in."""
    return await session.scalar(
        select(Region.path)
        .join(Community, Community.region_id == Region.id)
        .where(Community.id == community_id)
    )


async def region_path(session: AsyncSession, report: Report) -> str:
    """The materialised path of the region that owns the report (for supervisors' scope)."""
    path = await session.scalar(select(Region.path).where(Region.id == report.region_id))
    assert path is not None  # region_id is a non-null foreign key
    return path


async def event_paths(session: AsyncSession, reports: Iterable[Report]) -> dict[uuid.UUID, str]:
    """For many reports at once, the path each one's events carry (as ``outbox.record`` takes
    it one at a time): its community's region (``place_path``), else the region owning it
    (``region_path``). Two queries, whatever the number of reports."""
    reports = list(reports)
    community_ids = {r.community_id for r in reports if r.community_id is not None}
    places = {
        row.id: row.path
        for row in await session.execute(
            select(Community.id, Region.path)
            .join(Region, Region.id == Community.region_id)
            .where(Community.id.in_(community_ids))
        )
    }
    owners = {
        row.id: row.path
        for row in await session.execute(
            select(Region.id, Region.path).where(Region.id.in_({r.region_id for r in reports}))
        )
    }
    paths: dict[uuid.UUID, str] = {}
    for report in reports:
        place = places.get(report.community_id) if report.community_id else None
        paths[report.id] = place or owners[report.region_id]
    return paths
