"""The summary, and the sheets by community and by category: the case measures of the counted
cases, whole or grouped."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.measures import status_columns
from app.core.config import Settings
from app.core.sql import settings_for_the_block
from app.models import Category, Community, Report
from app.models.base import status_among
from app.models.enums import ReportStatus
from app.models.settled import ENDED_RESOLVED
from app.stats.measure_days import kept_days, kept_measures, kept_total
from app.stats.measures import (
    case_measures,
    counted_rows,
    measure_rows,
    measures_statement,
    optional_float,
)
from app.stats.schemas import (
    CategoryRow,
    CategorySheet,
    CommunityRow,
    CommunitySheet,
    Hours,
    Period,
    StatsSummary,
)
from app.stats.selection import StatsQuery, counted_cases

P90 = 0.9
# From this many settled cases on, a summary reads their measures from the kept days; from this
# many cases with hours on, the 90th percentile is read from the top of the hours' own index (a
# tenth of the cases, and no sort). Fewer are read at once from the cases, the percentiles
# with them: one statement costs less than the three that spare reading them.
MANY = 20_000
_HOURS = {"accept": "hours_to_accept", "resolve": "hours_to_resolve"}


def period_of(query: StatsQuery) -> Period:
    return Period(from_=query.start, to=query.end)


async def _p90_sorted(session: AsyncSession, query: StatsQuery, column: str) -> float | None:
    """PostgreSQL's own interpolating percentile of the counted cases' hours."""
    hours = counted_rows(query).c[column]
    value = await session.scalar(select(func.percentile_cont(P90).within_group(hours)))
    return None if value is None else float(value)


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


async def _p90_from_the_top(
    session: AsyncSession, query: StatsQuery, kind: str, count: int
) -> float | None:
    """The percentile as PostgreSQL's interpolates it, of ``count`` cases' hours: the two
    values around position 0.9 × (count − 1) read from the top of the hours' index (partial:
    the cases with such hours, as its predicate is written here). None if the cases changed
    since they were counted (fewer than expected)."""
    hours = getattr(Report, _HOURS[kind])
    conditions: list[ColumnElement[bool]] = [hours.is_not(None)]
    if kind == "resolve":
        conditions.append(status_among(Report.status, ENDED_RESOLVED))
    position = P90 * (count - 1)
    low, high = math.floor(position), math.ceil(position)
    statement = (
        select(hours)
        .where(*counted_cases(query), *conditions)
        .order_by(hours.desc())
        .offset(count - 1 - high)
        .limit(high - low + 1)
    )
    values = list(await session.scalars(statement))
    if len(values) != high - low + 1:
        return None
    upper, lower = values[0], values[-1]
    return float(lower + (position - low) * (upper - lower))


async def p90_hours(
    session: AsyncSession, query: StatsQuery, kind: str, count: int
) -> float | None:
    """The 90th percentile of the counted cases' hours to accept or to resolve (``kind``),
    ``count`` of them having such hours."""
    if not count:
        return None
    if count >= MANY:
        value = await _p90_from_the_top(session, query, kind, count)
        if value is not None:
            return value
    if session.get_bind().dialect.name == "postgresql":
        return await _p90_sorted(session, query, _HOURS[kind])
    return await _p90_by_rank(session, query, _HOURS[kind])


# The measures read few rows each (kept days, cases not settled, a tenth of the hours): parallel
# workers would take longer to start than the reads.
SERIAL = {"max_parallel_workers_per_gather": "0"}
# One plan for a statement, made without the values and kept by the connection, instead of one
# made for each call's (app/stats/deps.planned_statistic), where one fits every call
# (``StatsQuery.cached_plan_fits``: a community's index, the months kept to the period's when
# the statement starts). It spares planning the months each time, 2–3 ms of a small
# community's 10.
CACHED_PLAN = {"plan_cache_mode": "force_generic_plan"}


async def summary(session: AsyncSession, query: StatsQuery, settings: Settings) -> StatsSummary:
    row, (p90_accept, p90_resolve) = await _measured(session, query)
    measures = case_measures(row, settings)
    return StatsSummary(
        period=period_of(query),
        counts_by_status={status: row[f"status_{status.value}"] for status in ReportStatus},
        hours_to_accept=Hours(
            count=row["measured_accept"], mean=measures["mean_hours_to_accept"], p90=p90_accept
        ),
        hours_to_resolve=Hours(
            count=row["measured_resolve"], mean=measures["mean_hours_to_resolve"], p90=p90_resolve
        ),
        **measures,
    )


def _statuses_and_p90s(case: Any) -> list[ColumnElement[Any]]:
    return [
        *status_columns(case),
        func.percentile_cont(P90).within_group(case.hours_to_accept).label("p90_accept"),
        func.percentile_cont(P90).within_group(case.hours_to_resolve).label("p90_resolve"),
    ]


async def _measured(session: AsyncSession, query: StatsQuery) -> tuple[dict[str, Any], list[Any]]:
    """The summary's measures and its two percentiles (to accept, to resolve)."""
    if session.get_bind().dialect.name != "postgresql":
        return await _measured_without_percentiles(session, query)
    kept = None
    planning = SERIAL | CACHED_PLAN if query.cached_plan_fits else SERIAL
    async with settings_for_the_block(session, planning):
        if query.cached_plan_fits:
            few = await _few(session, query)
        else:
            kept = await _kept(session, query)
            few = await _all_at_once(session, query) if _total(kept) < MANY else None
    if few is not None:
        return few, [optional_float(few["p90_accept"]), optional_float(few["p90_resolve"])]
    # Each statement planned for its values (the percentiles' offsets among them), whoever asks.
    async with settings_for_the_block(session, SERIAL):
        kept = await _kept(session, query) if kept is None else kept
        return await _from_the_kept_days(session, query, kept)


async def _all_at_once(session: AsyncSession, query: StatsQuery) -> dict[str, Any]:
    """The measures of the counted cases in one statement, PostgreSQL's own percentiles among
    its columns."""
    statement = measures_statement(query, extra=_statuses_and_p90s)
    return dict((await session.execute(statement)).mappings().one())


async def _few(session: AsyncSession, query: StatsQuery) -> dict[str, Any] | None:
    """``_all_at_once`` where the kept days hold fewer than MANY of the cases; None where they
    hold more. One round trip either way, where the statement's plan is kept (it costs no
    planning then): the statement counts the kept cases first, and reads none of the cases
    when there are many (a one-time filter)."""
    if (days := kept_days(query)) is None:  # no kept days: the cases alone, however many
        return await _all_at_once(session, query)
    kept = kept_total(query, days).cte("kept")
    total = select(kept.c.total).scalar_subquery()
    statement = measures_statement(query, extra=_statuses_and_p90s)
    statement = statement.add_columns(total.label("kept_total")).where(total < MANY)
    found = dict((await session.execute(statement)).mappings().one())
    return None if found["kept_total"] >= MANY else found


def _total(kept: dict[tuple[Any, ...], Any]) -> int:
    return int(kept.get((), {}).get("total", 0))


async def _measured_without_percentiles(
    session: AsyncSession, query: StatsQuery
) -> tuple[dict[str, Any], list[Any]]:
    """``_measured`` where the database has no percentile function (SQLite)."""
    kept = await _kept(session, query)
    if _total(kept) >= MANY:
        return await _from_the_kept_days(session, query, kept)
    statement = measures_statement(query, extra=status_columns)
    found = dict((await session.execute(statement)).mappings().one())
    kinds = ("accept", "resolve")
    return found, [await _p90_by_rank(session, query, _HOURS[k]) for k in kinds]


async def _kept(session: AsyncSession, query: StatsQuery) -> dict[tuple[Any, ...], Any]:
    days = kept_days(query)
    return await kept_measures(session, query, (), days) if days else {}


async def _from_the_kept_days(
    session: AsyncSession, query: StatsQuery, kept: dict[tuple[Any, ...], Any]
) -> tuple[dict[str, Any], list[Any]]:
    """The measures of many cases: their settled cases' from the kept days (``kept``), the
    others' from the cases; the percentiles from the top of the hours' indexes."""
    (row,) = await measure_rows(session, query, extra=status_columns, kept=kept)
    kinds = ("accept", "resolve")
    return row, [await p90_hours(session, query, k, row[f"measured_{k}"]) for k in kinds]


async def by_community(
    session: AsyncSession, query: StatsQuery, settings: Settings
) -> CommunitySheet:
    async with settings_for_the_block(session, SERIAL):
        rows = await measure_rows(session, query, Report.community_id.label("community_id"))
    ids = [row["community_id"] for row in rows if row["community_id"] is not None]
    places = {
        place.id: place
        for place in await session.execute(
            select(Community.id, Community.name, Community.region_id).where(Community.id.in_(ids))
        )
    }
    items = []
    for row in rows:
        place = places.get(row["community_id"])
        items.append(
            CommunityRow(
                community_id=row["community_id"],
                name=place.name if place else "区域待派",
                region_id=place.region_id if place else None,
                **case_measures(row, settings),
            )
        )
    # The busiest first; then by name, the region's queue (no community) last among equals.
    items.sort(key=lambda item: (-item.total, item.community_id is None, item.name))
    return CommunitySheet(period=period_of(query), items=items)


async def by_category(
    session: AsyncSession, query: StatsQuery, settings: Settings
) -> CategorySheet:
    async with settings_for_the_block(session, SERIAL):
        rows = await measure_rows(session, query, Report.category_code.label("category_code"))
    codes = [row["category_code"] for row in rows]
    categories = {
        category.code: category
        for category in await session.execute(
            select(Category.code, Category.name, Category.parent_code, Category.sort_order).where(
                Category.code.in_(codes)
            )
        )
    }
    ordered = sorted(
        (row for row in rows if row["category_code"] in categories),
        key=lambda row: (
            -row["total"],
            categories[row["category_code"]].sort_order,
            row["category_code"],
        ),
    )
    return CategorySheet(
        period=period_of(query),
        items=[
            CategoryRow(
                category=row["category_code"],
                name=categories[row["category_code"]].name,
                parent=categories[row["category_code"]].parent_code,
                **case_measures(row, settings),
            )
            for row in ordered
        ],
    )
