"""The parts a caller plays in one case, and the role recorded for what they do.

Someone may hold several roles (staff of a community and supervisor of the township above it;
unit staff who also filed the report). Each part is kept with the role that gives it in this
case, so the timeline records the role that authorised an action, never just any role the
caller happens to hold."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from app.auth.principal import Principal
from app.cases.transitions import Actor
from app.models import Report
from app.models.enums import ReportSource, Role

# Each part the caller plays, with the role that gives it. An administrator plays the case's
# staff parts by being one (``Role.admin``) unless they also hold the part's own role there;
# the service's part carries the role of the action it follows from (none for its own work).
Parts = Mapping[Actor, Role | None]

# Which part is named when several authorise an action: the nearest to the case first.
PART_ORDER = (
    Actor.community_staff,
    Actor.grid_worker,
    Actor.unit_staff,
    Actor.supervisor,
    Actor.reporter,
    Actor.system,
)
ADMIN_PARTS = (Actor.community_staff, Actor.grid_worker, Actor.supervisor)

# The roles that may submit a report at all; anyone of them may file one as a resident.
SUBMITTING_ROLES = (
    Role.reporter,
    Role.courier,
    Role.grid_worker,
    Role.community_staff,
    Role.supervisor,
    Role.unit_staff,
)

# The roles that may file a report of each source, the likeliest first (see report intake).
FILING_ROLES: dict[ReportSource, tuple[Role, ...]] = {
    ReportSource.courier: (Role.courier,),
    # Community staff and supervisors patrol too.
    ReportSource.grid_patrol: (Role.grid_worker, Role.community_staff, Role.supervisor),
    ReportSource.hotline: (Role.community_staff, Role.supervisor),
    ReportSource.assigned: (Role.community_staff, Role.supervisor),
    ReportSource.resident: SUBMITTING_ROLES,
}


def filing_role(principal: Principal, report: Report) -> Role | None:
    """The role in which the reporter filed (or, later, acts as the reporter of) the report:
    the one its source calls for among those the caller holds."""
    for role in FILING_ROLES[report.source]:
        if role in principal.roles:
            return role
    return Role.admin if principal.is_admin else None


def case_parts(principal: Principal, report: Report, region_path: str) -> dict[Actor, Role | None]:
    """The report's parts the caller plays (the unit's part is the job's to add)."""
    parts: dict[Actor, Role | None] = {}
    if principal.is_admin:
        parts.update(dict.fromkeys(ADMIN_PARTS, Role.admin))
    if report.community_id in principal.scope_ids(Role.community_staff):
        parts[Actor.community_staff] = Role.community_staff
    if report.community_id in principal.scope_ids(Role.grid_worker):
        parts[Actor.grid_worker] = Role.grid_worker
    if principal.covers_region_path(region_path, Role.supervisor):
        parts[Actor.supervisor] = Role.supervisor
    if principal.user_id is not None and principal.user_id == report.reporter_id:
        parts[Actor.reporter] = filing_role(principal, report) or Role.reporter
    return parts


def on_behalf_of(role: Role | None) -> Parts:
    """The service's part in a consequence of someone's action (the lead's completion resolves
    the case, a case that ends withdraws its jobs): recorded with that action's role."""
    return {Actor.system: role}


def acting_role(allowed: Collection[Actor], parts: Parts) -> Role | None:
    """The role that authorised an action open to the ``allowed`` parts: a role the caller
    holds in the case before an administrator's power, the part nearest to the case first."""
    authorising = [parts[actor] for actor in PART_ORDER if actor in allowed and actor in parts]
    for role in authorising:
        if role is not None and role is not Role.admin:
            return role
    return Role.admin if Role.admin in authorising else None
