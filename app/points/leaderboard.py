"""The monthly leaderboards (排行榜): the reporters of a community, branch or company ranked
by the points they earned in a month, or the places of a scope ranked against each other."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import NotFound
from app.core.pagination import (
    CursorShape,
    InvalidCursor,
    PageParams,
    decode_cursor,
    encode_cursor,
)
from app.models import (
    Community,
    CourierBranch,
    CourierCompany,
    PointsEntry,
    User,
)
from app.points.schemas import (
    EARNING_RULE_VALUES,
    Leaderboard,
    LeaderboardEntry,
    LeaderboardScope,
)

# Reports filed by staff on someone else's behalf (a hotline call, a case assigned from above)
# earn nothing: points reward the people who went out and reported.
from app.points.service import china_month


@dataclass(frozen=True)
class LeaderboardQuery:
    scope: LeaderboardScope
    # With a place: its reporters are ranked; without: the places of the scope are.
    place_id: uuid.UUID | None
    year: int
    month: int

    @property
    def period(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


# The snapshot column of each scope, and the table that names its places.
_SCOPE_COLUMN = {
    LeaderboardScope.community: PointsEntry.community_id,
    LeaderboardScope.branch: PointsEntry.branch_id,
    LeaderboardScope.company: PointsEntry.company_id,
}
_SCOPE_TABLE: dict[LeaderboardScope, type[Community | CourierBranch | CourierCompany]] = {
    LeaderboardScope.community: Community,
    LeaderboardScope.branch: CourierBranch,
    LeaderboardScope.company: CourierCompany,
}


async def leaderboard(
    session: AsyncSession,
    principal: Principal,
    query: LeaderboardQuery,
    params: PageParams,
) -> Leaderboard:
    """Points earned in a month, summed per place of the scope, or per reporter within one
    place. Open to every signed-in caller, so it shows sums and display names only."""
    starts_at, ends_at = china_month(query.year, query.month)
    place_name = await _place_name(session, query)
    offset = _offset(params)
    ranked = _ranked(query, starts_at, ends_at)
    rows = (await session.execute(ranked.offset(offset).limit(params.limit + 1))).all()
    next_cursor = (
        encode_cursor(params, RANK_POSITION, [offset + params.limit])
        if len(rows) > params.limit
        else None
    )
    ranking_people = query.place_id is not None
    return Leaderboard(
        scope=query.scope,
        id=query.place_id,
        name=place_name,
        period=query.period,
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        items=[
            LeaderboardEntry(
                rank=row.rank,
                id=None if ranking_people else row.key,
                name=row.name,
                points=row.points,
                reports=row.reports,
                reporters=row.reporters,
                is_me=ranking_people and row.key == principal.user_id,
            )
            for row in rows[: params.limit]
        ],
        next_cursor=next_cursor,
    )


async def _place_name(session: AsyncSession, query: LeaderboardQuery) -> str | None:
    """The name of the place whose reporters are ranked (None when places are ranked)."""
    if query.place_id is None:
        return None
    place_table = _SCOPE_TABLE[query.scope]
    place_name = await session.scalar(
        select(place_table.name).where(place_table.id == query.place_id)
    )
    if place_name is None:
        raise NotFound(f"No such {query.scope.value}")
    return place_name


def _ranked(query: LeaderboardQuery, starts_at: datetime, ends_at: datetime) -> Select[Any]:
    """Each place's (or each reporter's) sums in the month, named and ranked by points."""
    place_column = _SCOPE_COLUMN[query.scope]
    place_table = _SCOPE_TABLE[query.scope]
    # Awards a cap cut to nothing are in the ledger but earned nothing: they do not rank; nor
    # do purchases, refunds or a closed ledger, which earn nothing.
    earned: list[ColumnElement[bool]] = [
        PointsEntry.created_at >= starts_at,
        PointsEntry.created_at < ends_at,
        PointsEntry.rule.in_(EARNING_RULE_VALUES),
        PointsEntry.points > 0,
    ]
    if query.place_id is None:
        key = place_column
        earned.append(place_column.is_not(None))
        name_table: Any = place_table
        name_column = place_table.name
    else:
        key = PointsEntry.user_id
        earned.append(place_column == query.place_id)
        name_table, name_column = User, User.display_name
    totals = (
        select(
            key.label("key"),
            func.sum(PointsEntry.points).label("points"),
            func.count(distinct(PointsEntry.report_id)).label("reports"),
            func.count(distinct(PointsEntry.user_id)).label("reporters"),
        )
        .where(*earned)
        .group_by(key)
        .subquery()
    )
    return (
        select(
            totals.c.key,
            name_column.label("name"),
            totals.c.points,
            totals.c.reports,
            totals.c.reporters,
            func.rank().over(order_by=totals.c.points.desc()).label("rank"),
        )
        .join(name_table, name_table.id == totals.c.key)
        .order_by(totals.c.points.desc(), name_column, totals.c.key)
    )


# A leaderboard page's cursor is the rank position it starts at: the ranking is an aggregate
# with no row key to continue from.
RANK_POSITION = CursorShape(sort="rank position", kinds=(int,))


def _offset(params: PageParams) -> int:
    values = decode_cursor(params, RANK_POSITION)
    if values is None:
        return 0
    offset: int
    (offset,) = values
    if offset < 0:
        raise InvalidCursor
    return offset
