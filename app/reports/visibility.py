"""Which reports a caller may see (the row filter every report query goes through), and what
of one case they see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.models import Community, Job, Photo, Region, Report
from app.models.enums import Role
from app.workflow.parts import case_parts
from app.workflow.transitions import Actor

STAFF_ROLES = (Role.community_staff, Role.grid_worker)
REGION_ROLES = (Role.supervisor, Role.viewer)


def report_scope(principal: Principal) -> ColumnElement[bool]:
    """Admins see everything; supervisors and viewers their regions' subtrees (the cases owned
    there and the cases of their communities, escalated or not); community staff
    and grid workers their communities'; unit staff the cases their unit has a job on;
    everyone their own reports."""
    if principal.is_admin:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if paths := principal.region_paths(*REGION_ROLES):
        subtree = select(Region.id).where(or_(*(Region.path.startswith(p) for p in paths)))
        conditions.append(Report.region_id.in_(subtree))
        # Escalation hands a case to the region above; the regions it happened in keep it in
        # sight (属地), to read, not to act on.
        conditions.append(
            Report.community_id.in_(select(Community.id).where(Community.region_id.in_(subtree)))
        )
    if communities := principal.scope_ids(*STAFF_ROLES):
        conditions.append(Report.community_id.in_(communities))
    if units := principal.scope_ids(Role.unit_staff):
        conditions.append(Report.id.in_(select(Job.report_id).where(Job.unit_id.in_(units))))
    if principal.user_id is not None:
        conditions.append(Report.reporter_id == principal.user_id)
    return or_(*conditions) if conditions else false()


# The parts of a case (app/workflow/parts.py) that see it from the inside: its internal
# timeline entries and which member of staff did what.
STAFF_PARTS = frozenset({Actor.community_staff, Actor.grid_worker, Actor.supervisor})
# The parts that check on the spot that a report is genuine: where and when its photos were
# taken is for them (and for whoever took a photo), not for everyone who may see the case.
COMMUNITY_PARTS = frozenset({Actor.community_staff, Actor.grid_worker})


@dataclass(frozen=True, slots=True)
class CaseView:
    """What one caller may see of one case. Decided by the caller's relation to this case (its
    community's staff and grid workers, a supervisor of a region above where it is owned, an
    admin, its reporter), never by a role the caller holds somewhere else: a supervisor who
    files a report outside their region is that case's reporter and nothing more.

    Dashboard viewers and units with a job on the case see neither people nor internal
    entries; a reporter sees the public part of their case, and themselves."""

    user_id: uuid.UUID | None
    # The reporter's name and phone number.
    people: bool
    # Internal timeline entries and the names of the staff who acted.
    internal: bool
    # The EXIF position and capture time of every photo of the case.
    capture_data: bool

    def sees_capture_data(self, photo: Photo) -> bool:
        """Where and when a photo was taken: for the case's community and admins, and for
        whoever took it (the reporter, for the report's own photos)."""
        return self.capture_data or (
            self.user_id is not None and photo.uploaded_by_id == self.user_id
        )


def case_view(
    principal: Principal, report: Report, region_path: str, place_path: str | None = None
) -> CaseView:
    """``region_path``: the path of the region that owns the report (escalation moves it up);
    ``place_path``: the path of its community's region, whose supervisors keep seeing the case
    from the inside after it was escalated above them."""
    parts = case_parts(principal, report, region_path).keys()
    internal = not STAFF_PARTS.isdisjoint(parts) or (
        place_path is not None and principal.covers_region_path(place_path, Role.supervisor)
    )
    return CaseView(
        user_id=principal.user_id,
        people=internal or Actor.reporter in parts,
        internal=internal,
        capture_data=not COMMUNITY_PARTS.isdisjoint(parts),
    )


async def place_path(session: AsyncSession, report: Report) -> str | None:
    """The materialised path of the region of the report's community (None: no community)."""
    if report.community_id is None:
        return None
    return await session.scalar(
        select(Region.path)
        .join(Community, Community.region_id == Region.id)
        .where(Community.id == report.community_id)
    )


async def region_path(session: AsyncSession, report: Report) -> str:
    """The materialised path of the region that owns the report (for supervisors' scope)."""
    path = await session.scalar(select(Region.path).where(Region.id == report.region_id))
    assert path is not None  # region_id is a non-null foreign key
    return path
