"""What of one case a caller sees: people, internal entries, where and when photos were taken.
(Which cases they see at all is ``app/auth/scope.py``.)"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, true
from sqlalchemy.orm import QueryableAttribute

from app.auth.principal import Principal
from app.cases.parts import case_parts
from app.cases.transitions import Actor
from app.models import Photo, Report
from app.models.enums import Role

Column = ColumnElement[Any] | QueryableAttribute[Any]

# The parts of a case (app/cases/parts.py) that see it from the inside: its internal
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


def sees_people(
    principal: Principal,
    *,
    community_id: Column,
    reporter_id: Column,
    region_path: Column,
    place_path: Column,
) -> ColumnElement[bool]:
    """``case_view(…).people`` as a condition on a statement's columns, for a statement that
    writes people row by row (the ledger written by PostgreSQL, app/stats/ledger_sql.py): the
    case's staff parts, a supervisor above where it is owned or where it happened, or its
    reporter. Held equal to ``case_view`` for every kind of caller and case by
    tests/cases/test_sees_people.py. A path is compared by its first characters, exactly as
    ``covers_region_path`` compares it (LIKE would read ``_`` as a wildcard)."""
    if principal.is_admin:
        return true()
    conditions: list[ColumnElement[bool]] = []
    communities = principal.scope_ids(Role.community_staff, Role.grid_worker)
    if communities:
        conditions.append(community_id.in_(sorted(communities)))
    for path in principal.region_paths(Role.supervisor):
        for column in (region_path, place_path):
            conditions.append(func.substr(column, 1, len(path)) == path)
    if principal.user_id is not None:
        conditions.append(reporter_id == principal.user_id)
    return or_(*conditions) if conditions else false()
