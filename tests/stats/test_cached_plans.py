"""Which statistics may keep a plan made once for their statement (PostgreSQL makes one after
five calls, without the values) and which are planned for each call's values: only a caller
whose scope is one community's cases, whose statements then read that community's index
whatever the values."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal, RoleGrant
from app.auth.service import load_grants
from app.core.pagination import plan_for_the_values
from app.models import User
from app.models.enums import Role, ScopeType
from app.stats.selection import StatsQuery, one_community, scope_of
from app.stats.summary import summary

EAST, WEST, BANNER, UNIT = (uuid.uuid4() for _ in range(4))
POSTGRESQL: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]


def _grant(role: Role, scope_type: ScopeType | None, place: uuid.UUID | None) -> RoleGrant:
    return RoleGrant(
        role, scope_type, place, None, "/1/" if scope_type is ScopeType.region else None
    )


def _caller(*grants: RoleGrant) -> Principal:
    return Principal(user_id=uuid.uuid4(), username="someone", grants=grants)


STAFF_EAST = _grant(Role.community_staff, ScopeType.community, EAST)


@pytest.mark.parametrize(
    ("grants", "one"),
    [
        ((STAFF_EAST,), True),
        ((_grant(Role.grid_worker, ScopeType.community, EAST),), True),
        # The same community twice (staff and grid worker) is still one.
        ((STAFF_EAST, _grant(Role.grid_worker, ScopeType.community, EAST)), True),
        ((STAFF_EAST, _grant(Role.community_staff, ScopeType.community, WEST)), False),
        ((STAFF_EAST, _grant(Role.supervisor, ScopeType.region, BANNER)), False),
        ((STAFF_EAST, _grant(Role.unit_staff, ScopeType.unit, UNIT)), False),
        ((_grant(Role.supervisor, ScopeType.region, BANNER),), False),
        ((_grant(Role.admin, None, None),), False),
    ],
)
def test_one_community_is_the_staff_of_one_community_and_nothing_else(
    grants: tuple[RoleGrant, ...], one: bool
) -> None:
    assert one_community(_caller(*grants)) is one


async def test_the_scope_of_a_community_s_staff_is_its_community_written_out(
    session: AsyncSession,
) -> None:
    """One community is one value in the statement (PostgreSQL reads ``IN (one)`` as an
    equality, whose index a plan made without the value still reads), never an array."""

    async def written(principal: Principal) -> str:
        scope = await scope_of(session, principal)
        compiled = scope.compile(dialect=POSTGRESQL, compile_kwargs={"render_postcompile": True})
        return str(compiled)

    one = _caller(STAFF_EAST)
    two = _caller(STAFF_EAST, _grant(Role.community_staff, ScopeType.community, WEST))
    assert await written(one) == "reports.community_id IN (%(community_id_1_1)s::UUID)"
    assert await written(two) == (
        "reports.community_id IN (%(community_id_1_1)s::UUID, %(community_id_1_2)s::UUID)"
    )


async def _staff_query(session: AsyncSession, now: datetime, cached_plan_fits: bool) -> StatsQuery:
    user = (await session.scalars(select(User).where(User.username == "staff1"))).one()
    principal = Principal(
        user_id=user.id, username="staff1", grants=await load_grants(session, user.id)
    )
    return StatsQuery(
        principal=principal,
        start=now - timedelta(days=30),
        end=now,
        now=now,
        scope=await scope_of(session, principal),
        partitioned=session.get_bind().dialect.name == "postgresql",
        cached_plan_fits=cached_plan_fits,
    )


async def _generic_plans(session: AsyncSession) -> int:
    """Runs of the summary's statement (one for a community's staff) on a plan made once."""
    runs = await session.scalar(
        text(
            "SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements"
            " WHERE statement LIKE 'WITH counted AS%percentile_cont%'"
        )
    )
    return int(runs or 0)


async def test_a_community_s_summary_keeps_its_plan_and_answers_the_same(
    app: FastAPI, session: AsyncSession
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans")
    if not app.state.settings.statement_cache:
        pytest.skip("behind PgBouncer 1.18 statements are not kept: each is planned anew")
    settings, now = app.state.settings, datetime.now(UTC)
    # As the statistics' dependency does, for the whole transaction (one connection).
    await plan_for_the_values(session)
    planned_each_time = [
        await summary(session, await _staff_query(session, now, False), settings) for _ in range(7)
    ]
    assert await _generic_plans(session) == 0
    kept = [
        await summary(session, await _staff_query(session, now, True), settings) for _ in range(7)
    ]
    assert await _generic_plans(session) > 0
    answers = {answer.model_dump_json(exclude={"period"}) for answer in [*planned_each_time, *kept]}
    assert len(answers) == 1
