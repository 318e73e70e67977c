"""``sees_people`` (the SQL the ledger shows people by) says what ``case_view(…).people`` says,
for every kind of caller and every relation of a case to them: its community, where it is
owned, where it happened, who filed it — paths that share a beginning with a caller's without
being under it included."""

from __future__ import annotations

import itertools
import uuid

from sqlalchemy import String, Uuid, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal, RoleGrant
from app.cases.visibility import case_view, sees_people
from app.models import Report
from app.models.enums import ReportSource, Role, ScopeType

ME = uuid.uuid4()
SOMEONE = uuid.uuid4()
STAFFED, PATROLLED, ELSEWHERE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
TOWNSHIP = f"/{uuid.uuid4()}/{uuid.uuid4()}/"
VILLAGE = f"{TOWNSHIP}{uuid.uuid4()}/"
NEIGHBOUR = TOWNSHIP[:-1] + "x/"  # begins as the township's path, is not under it
ABOVE = TOWNSHIP.rsplit("/", 2)[0] + "/"


def _grant(role: Role, scope_id: uuid.UUID | None = None, path: str | None = None) -> RoleGrant:
    scope = ScopeType.region if path else ScopeType.community if scope_id else None
    return RoleGrant(role, scope, scope_id or uuid.uuid4(), None, path)


CALLERS = {
    "admin": Principal(ME, "a", (_grant(Role.admin),)),
    "supervisor": Principal(ME, "s", (_grant(Role.supervisor, path=TOWNSHIP),)),
    "staff": Principal(ME, "c", (_grant(Role.community_staff, STAFFED),)),
    "grid worker": Principal(ME, "g", (_grant(Role.grid_worker, PATROLLED),)),
    "staff and supervisor": Principal(
        ME,
        "cs",
        (_grant(Role.community_staff, ELSEWHERE), _grant(Role.supervisor, path=VILLAGE)),
    ),
    "unit staff": Principal(ME, "u", (_grant(Role.unit_staff, STAFFED),)),
    "viewer": Principal(ME, "v", (_grant(Role.viewer, path=TOWNSHIP),)),
    "courier": Principal(ME, "k", (_grant(Role.courier),)),
    "dashboard key": Principal(None, None, (_grant(Role.viewer, path=TOWNSHIP),), uuid.uuid4()),
}
CASES = list(
    itertools.product(
        (STAFFED, PATROLLED, ELSEWHERE, None),
        (ME, SOMEONE),
        (TOWNSHIP, VILLAGE, NEIGHBOUR, ABOVE),
        (None, TOWNSHIP, VILLAGE, NEIGHBOUR),
    )
)


async def test_sees_people_is_case_view_people_for_every_caller_and_case(
    session: AsyncSession,
) -> None:
    # (a union of rows: SQLite reads no VALUES list with named columns)
    cases = union_all(
        *(
            select(
                literal(community, Uuid).label("community_id"),
                literal(reporter, Uuid).label("reporter_id"),
                literal(owned, String).label("region_path"),
                literal(place, String).label("place_path"),
            )
            for community, reporter, owned, place in CASES
        )
    ).subquery("cases")
    for name, principal in CALLERS.items():
        seen = sees_people(
            principal,
            community_id=cases.c.community_id,
            reporter_id=cases.c.reporter_id,
            region_path=cases.c.region_path,
            place_path=cases.c.place_path,
        )
        statement = select(*cases.c, seen.label("seen"))
        in_sql = {tuple(row[:4]): bool(row.seen) for row in await session.execute(statement)}
        expected = {
            (community, reporter, owned, place): case_view(
                principal,
                Report(community_id=community, reporter_id=reporter, source=ReportSource.resident),
                owned,
                place,
            ).people
            for community, reporter, owned, place in CASES
        }
        assert in_sql == expected, name
        # Each caller but the admin sees some cases' people and not others'.
        assert name == "admin" or len(set(expected.values())) == 2 or not any(expected.values())
