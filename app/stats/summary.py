"""The summary, and the sheets by community and by category: the case measures of the counted
cases, whole or grouped."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, Select, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models import Category, Community, Report
from app.models.enums import ReportStatus
from app.stats.measures import case_measures, counted_rows, measures_statement
from app.stats.schemas import (
    CategoryRow,
    CategorySheet,
    CommunityRow,
    CommunitySheet,
    Hours,
    Period,
    StatsSummary,
)
from app.stats.selection import StatsQuery

P90 = 0.9


def period_of(query: StatsQuery) -> Period:
    return Period(from_=query.start, to=query.end)


def _status_columns(case: Any) -> list[ColumnElement[int]]:
    return [
        func.count().filter(case.status == status.value).label(f"status_{status.value}")
        for status in ReportStatus
    ]


def _p90_columns(case: Any) -> list[ColumnElement[float]]:
    """PostgreSQL's own interpolating percentile of each kind of hours."""
    return [
        func.percentile_cont(P90).within_group(case.hours_to_accept).label("p90_accept"),
        func.percentile_cont(P90).within_group(case.hours_to_resolve).label("p90_resolve"),
    ]


async def _p90_by_rank(session: AsyncSession, query: StatsQuery, column: str) -> float | None:
    """The same percentile where the database has none (SQLite): the cases ranked by their
    hours, and the value interpolated between the two around 90 % of the way."""
    hours = counted_rows(query).c[column]
    ranked = (
        select(
            hours.label("hours"),
            (func.row_number().over(order_by=hours) - 1).label("position"),
            func.count().over().label("n"),
        )
        .where(hours.is_not(None))
        .subquery()
    )
    # Position 0.9 × (n − 1) of the ranking: each case within one place of it weighs
    # 1 − its distance, so the two around it mix as the fraction says (one alone when exact).
    target = cast(ranked.c.n - 1, Float) * P90
    distance = func.abs(ranked.c.position - target)
    statement: Select[Any] = select(func.sum(ranked.c.hours * (1 - distance))).where(distance < 1)
    value = await session.scalar(statement)
    return None if value is None else float(value)


async def summary(session: AsyncSession, query: StatsQuery, settings: Settings) -> StatsSummary:
    postgres = session.get_bind().dialect.name == "postgresql"

    def extra(case: Any) -> list[ColumnElement[Any]]:
        return _status_columns(case) + (_p90_columns(case) if postgres else [])

    row = (await session.execute(measures_statement(query, extra=extra))).mappings().one()
    if postgres:
        p90_accept, p90_resolve = row["p90_accept"], row["p90_resolve"]
    else:
        p90_accept = await _p90_by_rank(session, query, "hours_to_accept")
        p90_resolve = await _p90_by_rank(session, query, "hours_to_resolve")
    measures = case_measures(row, settings)
    return StatsSummary(
        period=period_of(query),
        counts_by_status={status: row[f"status_{status.value}"] for status in ReportStatus},
        hours_to_accept=Hours(
            count=row["measured_accept"],
            mean=measures["mean_hours_to_accept"],
            p90=None if p90_accept is None else float(p90_accept),
        ),
        hours_to_resolve=Hours(
            count=row["measured_resolve"],
            mean=measures["mean_hours_to_resolve"],
            p90=None if p90_resolve is None else float(p90_resolve),
        ),
        **measures,
    )


async def by_community(
    session: AsyncSession, query: StatsQuery, settings: Settings
) -> CommunitySheet:
    grouped = measures_statement(query, Report.community_id.label("community_id")).subquery()
    statement = (
        select(grouped, Community.name, Community.region_id)
        .outerjoin(Community, Community.id == grouped.c.community_id)
        .order_by(grouped.c.total.desc(), Community.name)
    )
    rows = (await session.execute(statement)).mappings().all()
    return CommunitySheet(
        period=period_of(query),
        items=[
            CommunityRow(
                community_id=row["community_id"],
                name=row["name"] or "区域待派",
                region_id=row["region_id"],
                **case_measures(row, settings),
            )
            for row in rows
        ],
    )


async def by_category(
    session: AsyncSession, query: StatsQuery, settings: Settings
) -> CategorySheet:
    grouped = measures_statement(query, Report.category_code.label("category_code")).subquery()
    statement = (
        select(grouped, Category.name, Category.parent_code)
        .join(Category, Category.code == grouped.c.category_code)
        .order_by(grouped.c.total.desc(), Category.sort_order, Category.code)
    )
    rows = (await session.execute(statement)).mappings().all()
    return CategorySheet(
        period=period_of(query),
        items=[
            CategoryRow(
                category=row["category_code"],
                name=row["name"],
                parent=row["parent_code"],
                **case_measures(row, settings),
            )
            for row in rows
        ],
    )
