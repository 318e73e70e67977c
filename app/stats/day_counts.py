"""Events per China day for the time series: whole days from ``case_day_counts`` where the
question is one of places (the caller's scope and the region and community filters: the
table's columns), the partial days at the period's ends, and every question of categories or
units, counted from the cases themselves. Both give the same numbers (tests/stats/
test_day_counts.py); the table is a year of a banner in some 70,000 rows instead of 500,000
cases.

``rebuild`` fills the table again from the cases (``python -m app stats rebuild-counts``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from sqlalchemy import Column, ColumnElement, Select, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import visitors

from app.cases.day_counts import day_number
from app.core.workcalendar import CHINA_TZ
from app.models import CaseDayCount, OverdueMark, Report
from app.models.enums import StatsMetric
from app.models.stats import NO_COMMUNITY
from app.stats.selection import StatsQuery, case_filters
from app.stats.timesql import china_day_number, day_from_number

EVENT_MOMENT: dict[StatsMetric, Any] = {
    StatsMetric.submitted: Report.created_at,
    StatsMetric.accepted: Report.accepted_at,
    StatsMetric.closed: Report.closed_at,
    StatsMetric.overdue: OverdueMark.marked_at,
}
_PLACE_COLUMNS = {"region_id": CaseDayCount.region_id, "community_id": CaseDayCount.community_id}


def said_of(
    condition: ColumnElement[bool], columns: Mapping[str, Any]
) -> ColumnElement[bool] | None:
    """``condition`` on the cases' columns, said of a kept table's ``columns`` (by the cases'
    column names); None when it reads any other column of the cases (a unit's jobs, a
    category where the table has none), which the table cannot answer."""
    foreign = False

    def replace(element: Any, **_: Any) -> Any:
        nonlocal foreign
        if isinstance(element, Column) and element.table is Report.__table__:
            if element.key in columns:
                return columns[element.key]
            foreign = True
        return None

    options: dict[str, Any] = {}
    adapted = visitors.replacement_traverse(condition, options, replace)
    return None if foreign else adapted


def filters_said_of(
    query: StatsQuery, columns: Mapping[str, Any]
) -> list[ColumnElement[bool]] | None:
    """The caller's scope and the filters, said of a kept table (None: they cannot be)."""
    if query.unit_id is not None:
        return None
    conditions = []
    for condition in case_filters(query):
        if (adapted := said_of(condition, columns)) is None:
            return None
        conditions.append(adapted)
    return conditions


def _counts_conditions(query: StatsQuery) -> list[ColumnElement[bool]] | None:
    if query.categories is not None:
        return None
    return filters_said_of(query, _PLACE_COLUMNS)


def midnight(number: int) -> datetime:
    return datetime.combine(day_from_number(number), time(), CHINA_TZ)


def whole_days(query: StatsQuery) -> tuple[int, int]:
    """The period's whole China days as day numbers, first and after the last (none when the
    first is not before the other)."""
    first = day_number(query.start)
    if midnight(first) < query.start:
        first += 1  # the first whole day
    return first, day_number(query.end)  # the day the period ends in: not whole, or not in it


async def _from_cases(
    session: AsyncSession, query: StatsQuery, metric: StatsMetric, start: datetime, end: datetime
) -> dict[int, int]:
    moment = EVENT_MOMENT[metric]
    day: Any = china_day_number(moment).label("day")
    statement: Select[Any] = select(day, func.count().label("events")).select_from(Report)
    if metric is StatsMetric.overdue:
        statement = statement.join(OverdueMark, OverdueMark.report_id == Report.id)
    statement = statement.where(*case_filters(query), moment >= start, moment < end)
    rows = await session.execute(statement.group_by(day))
    return {row.day: row.events for row in rows}


async def _from_table(
    session: AsyncSession,
    conditions: list[ColumnElement[bool]],
    metric: StatsMetric,
    first: int,
    end: int,
) -> dict[int, int]:
    statement = (
        select(CaseDayCount.day_number, func.sum(CaseDayCount.count).label("events"))
        .where(
            CaseDayCount.metric == metric.value,
            CaseDayCount.day_number >= first,
            CaseDayCount.day_number < end,
            *conditions,
        )
        .group_by(CaseDayCount.day_number)
    )
    # A day whose cases all moved elsewhere keeps its row at 0: no events, as from the cases.
    rows = await session.execute(statement)
    return {row.day_number: int(row.events) for row in rows if row.events}


async def events_per_day(
    session: AsyncSession, query: StatsQuery, metric: StatsMetric, *, use_table: bool = True
) -> dict[int, int]:
    """The period's events per China day (day numbers; days without any left out)."""
    conditions = _counts_conditions(query) if use_table else None
    first, end = whole_days(query)
    if conditions is None or first >= end:
        return await _from_cases(session, query, metric, query.start, query.end)
    counts = await _from_table(session, conditions, metric, first, end)
    for start, stop in ((query.start, midnight(first)), (midnight(end), query.end)):
        if start < stop:
            for day, count in (await _from_cases(session, query, metric, start, stop)).items():
                counts[day] = counts.get(day, 0) + count
    return counts


async def rebuild(session: AsyncSession) -> int:
    """The table filled again from the cases and overdue marks; the rows written."""
    await session.execute(delete(CaseDayCount))
    written = 0
    no_community = literal(NO_COMMUNITY, Report.community_id.type)
    for metric, moment in EVENT_MOMENT.items():
        day = china_day_number(moment)
        community = func.coalesce(Report.community_id, no_community)
        counted = select(
            literal(metric.value), day, Report.region_id, community, func.count()
        ).select_from(Report)
        if metric is StatsMetric.overdue:
            counted = counted.join(OverdueMark, OverdueMark.report_id == Report.id)
        counted = counted.where(moment.is_not(None)).group_by(day, Report.region_id, community)
        result = await session.execute(
            insert(CaseDayCount).from_select(
                ["metric", "day_number", "region_id", "community_id", "count"], counted
            )
        )
        written += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    return written
