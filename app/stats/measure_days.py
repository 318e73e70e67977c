"""The case measures of a period from the days kept for settled cases (``case_measure_days``,
app/cases/measure_days.py) and from the cases that are not settled or were filed in the
period's partial days at either end. Both halves use the same definitions
(app/cases/measures.py); tests/stats/test_measure_days.py holds their sum to the figures of
the cases alone. A year of the busiest community is then some 11,000 kept rows and the few
thousand cases still open, instead of 150,000 cases.

The kept days answer questions of places and categories (the caller's scope and the region,
community and category filters); a question of a unit's cases is answered from the cases.

``rebuild`` fills the table again from the cases (``python -m app stats rebuild-counts``)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.measure_days import MEASURES, settled_cases
from app.cases.measures import kept_columns, measure_names
from app.models import Report
from app.models.stats import MEASURE_DAY_KEYS, NO_COMMUNITY
from app.models.stats import case_measure_days as table
from app.stats.day_counts import filters_said_of, whole_days
from app.stats.selection import StatsQuery
from app.stats.timesql import china_day_number

_KEPT_COLUMNS = {
    "region_id": table.c.region_id,
    "community_id": table.c.community_id,
    "category_code": table.c.category_code,
}

Measures = dict[str, Any]


def kept_days(query: StatsQuery) -> tuple[int, int] | None:
    """The period's whole days the kept measures answer (first, after the last): None when
    there are none, or the question is not one of places and categories."""
    first, end = whole_days(query)
    if first >= end or filters_said_of(query, _KEPT_COLUMNS) is None:
        return None
    return first, end


def _kept_key(name: str, value: Any) -> Any:
    return None if name == "community_id" and value == NO_COMMUNITY else value


@functools.cache
def _sums(keys: tuple[str, ...]) -> Select[Any]:
    """The kept measures summed per value of the ``keys`` columns, the rows yet to be chosen:
    some forty sums, put together once (building them cost more than reading a small
    community's rows)."""
    groups = [table.c[key] for key in keys]
    statement: Select[Any] = select(
        *groups, *(func.sum(table.c[name]).label(name) for name in MEASURES)
    )
    return statement.group_by(*groups) if groups else statement


def _kept_rows(query: StatsQuery, days: tuple[int, int]) -> list[ColumnElement[bool]]:
    """The kept rows of the whole days ``days`` and of the query's places."""
    conditions = filters_said_of(query, _KEPT_COLUMNS)
    assert conditions is not None  # checked by kept_days
    return [table.c.day_number >= days[0], table.c.day_number < days[1], *conditions]


def kept_total(query: StatsQuery, days: tuple[int, int]) -> Select[Any]:
    """How many settled cases the kept days ``days`` hold of the query's places (a row)."""
    total = func.coalesce(func.sum(table.c.total), 0).label("total")
    return select(total).where(*_kept_rows(query, days))


async def kept_measures(
    session: AsyncSession, query: StatsQuery, keys: Sequence[str], days: tuple[int, int]
) -> dict[tuple[Any, ...], Measures]:
    """The settled cases' measures of the whole days ``days``, summed per value of the kept
    table's ``keys`` columns (one entry keyed ``()`` without keys)."""
    statement = _sums(tuple(keys)).where(*_kept_rows(query, days))
    kept: dict[tuple[Any, ...], Measures] = {}
    for row in (await session.execute(statement)).mappings():
        if row[MEASURES[0]] is None:  # no kept row at all: the sums of nothing
            continue
        key = tuple(_kept_key(name, row[name]) for name in keys)
        kept[key] = {name: row[name] for name in MEASURES}
    return kept


def add_kept(
    live: list[Measures], kept: dict[tuple[Any, ...], Measures], keys: Sequence[str]
) -> list[Measures]:
    """The rows of the cases' measures with the kept ones added, key by key (a key only the
    kept days have gets a row of its own)."""
    rows = {tuple(row[name] for name in keys): dict(row) for row in live}
    for key, measures in kept.items():
        row = rows.setdefault(
            key, {**dict(zip(keys, key, strict=True)), **dict.fromkeys(measure_names(), 0)}
        )
        for name in MEASURES:
            row[name] = (row.get(name) or 0) + measures[name]
    return list(rows.values())


async def rebuild(session: AsyncSession) -> int:
    """The table filled again from the cases; the rows written."""
    await session.execute(delete(table))
    cases = settled_cases()
    community = func.coalesce(cases.c.community_id, literal(NO_COMMUNITY, Report.community_id.type))
    places: list[ColumnElement[Any]] = [
        china_day_number(cases.c.created_at),
        cases.c.region_id,
        community,
        cases.c.category_code,
    ]
    kept = {column.name: column for column in kept_columns(cases.c)}
    summed = select(*places, *(kept[name] for name in MEASURES)).group_by(*places)
    result = await session.execute(
        insert(table).from_select([*MEASURE_DAY_KEYS, *MEASURES], summed)
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
