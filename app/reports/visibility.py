"""Which reports a caller may see in full: the row filter every report query goes through."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.models import Job, Region, Report
from app.models.enums import Role

STAFF_ROLES = (Role.community_staff, Role.grid_worker)
REGION_ROLES = (Role.supervisor, Role.viewer)


def report_scope(principal: Principal) -> ColumnElement[bool]:
    """Admins see everything; supervisors and viewers their regions' subtrees; community staff
    and grid workers their communities'; unit staff the cases their unit has a job on;
    everyone their own reports."""
    if principal.is_admin:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if paths := principal.region_paths(*REGION_ROLES):
        subtree = select(Region.id).where(or_(*(Region.path.startswith(p) for p in paths)))
        conditions.append(Report.region_id.in_(subtree))
    if communities := principal.scope_ids(*STAFF_ROLES):
        conditions.append(Report.community_id.in_(communities))
    if units := principal.scope_ids(Role.unit_staff):
        conditions.append(Report.id.in_(select(Job.report_id).where(Job.unit_id.in_(units))))
    if principal.user_id is not None:
        conditions.append(Report.reporter_id == principal.user_id)
    return or_(*conditions) if conditions else false()


def sees_people(principal: Principal, report: Report, region_path: str) -> bool:
    """Whether the caller sees who reported (and who acted): the owner, admins, the report's
    community staff and its supervisors. Dashboard viewers get de-personalised reports."""
    return (
        principal.is_admin
        or report.reporter_id == principal.user_id
        or report.community_id in principal.scope_ids(*STAFF_ROLES)
        or principal.covers_region_path(region_path, Role.supervisor)
    )


async def region_path(session: AsyncSession, report: Report) -> str:
    """The materialised path of the region that owns the report (for supervisors' scope)."""
    path = await session.scalar(select(Region.path).where(Region.id == report.region_id))
    assert path is not None  # region_id is a non-null foreign key
    return path
