"""The case measures (docs/product.md, "The case measures"; defined in app/cases/measures.py)
of the counted cases: the summary reads them once, the community and category sheets once
grouped. Settled cases of the period's whole days come from the days kept for them
(app/stats/measure_days.py), the others from the cases. Counts come from the database; a rate
is the quotient of two of them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    Subquery,
    bindparam,
    column,
    not_,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.measures import measure_columns, measured_columns
from app.core.config import Settings
from app.models import Report
from app.models.settled import settled
from app.stats.day_counts import midnight
from app.stats.measure_days import add_kept, kept_days, kept_measures
from app.stats.selection import StatsQuery, counted_cases

Extra = Callable[[Any], list[ColumnElement[Any]]]


# The name of the counted cases in a statement of the measures, and of its moment "now".
_COUNTED = "counted"
_NOW = "measured_at"


def _counted_select(query: StatsQuery, *keys: Any) -> Select[Any]:
    return select(*keys, *measured_columns()).where(*counted_cases(query))


def counted_rows(query: StatsQuery, *keys: Any) -> Subquery:
    """The counted cases, each with what the measures read of it and the ``keys`` it is
    grouped by."""
    return _counted_select(query, *keys).subquery(_COUNTED)


def _unkept_rows(
    query: StatsQuery, keys: tuple[Any, ...], days: tuple[int, int]
) -> Select[Any] | CompoundSelect[Any]:
    """The counted cases the kept days do not hold: those not settled (an index of their
    own), and the settled ones filed in the period's partial days at either end."""

    def cases(*conditions: ColumnElement[bool]) -> Select[Any]:
        return select(*keys, *measured_columns()).where(*counted_cases(query), *conditions)

    first, end = midnight(days[0]), midnight(days[1])
    cuts = [
        cut
        for cut, present in (
            (Report.created_at < first, query.start < first),
            (Report.created_at >= end, end < query.end),
        )
        if present
    ]
    unsettled = cases(not_(settled(Report)))
    if not cuts:
        return unsettled
    return union_all(unsettled, cases(settled(Report), or_(*cuts)))


@functools.lru_cache(maxsize=64)
def _measures_of_counted(keys: tuple[tuple[str, Any], ...], extra: Extra | None) -> Select[Any]:
    """The measures' SELECT over a table named "counted" (the counted rows, given to each
    statement as a CTE of that name) with the keys ``(name, type)``, at the parameter
    ``measured_at``. Made once per kind of statement: some forty aggregates, which cost more
    to put together (~1.4 ms) than a small community's cases take to read."""
    names = [
        *((name, type_) for name, type_ in keys),
        *((c.name, c.type) for c in select(*measured_columns()).selected_columns),
    ]
    counted = table(_COUNTED, *(column(name, type_) for name, type_ in names))
    case = counted.c
    groups = [case[name] for name, _ in keys]
    now = bindparam(_NOW, type_=Report.created_at.type)
    statement = select(*groups, *measure_columns(now, case), *(extra(case) if extra else []))
    statement = statement.select_from(counted)
    return statement.group_by(*groups) if groups else statement


def measures_statement(
    query: StatsQuery,
    *keys: Any,
    extra: Extra | None = None,
    rows: Select[Any] | CompoundSelect[Any] | None = None,
) -> Select[Any]:
    """The case measures of the counted cases (or of ``rows``, some of them), one row per value
    of the ``keys`` (labelled columns of reports; one row without keys); ``extra`` (a function
    of the module, not made anew per call: the statements are kept by it) adds columns over the
    same cases."""
    counted = _counted_select(query, *keys) if rows is None else rows
    measures = _measures_of_counted(tuple((key.name, key.type) for key in keys), extra)
    return measures.add_cte(counted.cte(_COUNTED)).params({_NOW: query.now})


async def measure_rows(
    session: AsyncSession,
    query: StatsQuery,
    *keys: Any,
    extra: Extra | None = None,
    kept: dict[tuple[Any, ...], dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The case measures per value of the ``keys`` (one row without keys): the kept days'
    (``kept``, when read already) where they answer, with the other cases' added. ``extra``
    columns must be kept ones."""
    days = kept_days(query)
    rows = None if days is None else _unkept_rows(query, keys, days)
    statement = measures_statement(query, *keys, extra=extra, rows=rows)
    live = [dict(row) for row in (await session.execute(statement)).mappings()]
    if days is None:
        return live
    names = [key.name for key in keys]
    if kept is None:
        kept = await kept_measures(session, query, names, days)
    return add_kept(live, kept, names)


def rate(numerator: float, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def weighted_score(rates: Mapping[str, float | None], settings: Settings) -> float | None:
    """The weighted mean of the rates that exist (weights renormalised), null for none."""
    weights = {
        "response": settings.stats_weight_response,
        "resolution": settings.stats_weight_resolution,
        "satisfaction": settings.stats_weight_satisfaction,
    }
    present = {name: value for name, value in rates.items() if value is not None}
    total_weight = sum(weights[name] for name in present)
    if not present or total_weight == 0:
        return None
    return sum(weights[name] * value for name, value in present.items()) / total_weight


def satisfaction_rate(row: Mapping[str, Any], settings: Settings) -> float | None:
    """(satisfied + 0.9 × basically satisfied) ÷ ratings, of a row with those three counts."""
    weighted = (
        row["satisfied"] + settings.stats_basically_satisfied_weight * (row["basically_satisfied"])
    )
    return rate(weighted, row["ratings"])


def case_measures(row: Any, settings: Settings) -> dict[str, Any]:
    """The fields of ``CaseMeasures`` from one row of ``measures_statement``."""
    due = row["due_to_close"]
    response = rate(row["responded_on_time"], row["response_due"])
    resolution = rate(row["resolved"], due)
    satisfaction = satisfaction_rate(row, settings)
    return {
        **{key: row[key] for key in _COUNTS},
        "closure_rate": rate(row["closed"], due),
        "on_time_closure_rate": rate(row["closed_on_time"], due),
        "rework_rate": rate(row["reworks"], due),
        "response_rate": response,
        "resolution_rate": resolution,
        "satisfaction_rate": satisfaction,
        "score": weighted_score(
            {"response": response, "resolution": resolution, "satisfaction": satisfaction},
            settings,
        ),
        "whistled_share": rate(row["whistled"], row["accepted"]),
        "mean_hours_to_accept": rate(row["hours_to_accept_sum"], row["measured_accept"]),
        "mean_hours_to_resolve": rate(row["hours_to_resolve_sum"], row["measured_resolve"]),
    }


def optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


_COUNTS = (
    "total",
    "open",
    "overdue_open",
    "due_to_close",
    "closed",
    "closed_on_time",
    "reworks",
    "response_due",
    "responded_on_time",
    "resolved",
    "ratings",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
    "accepted",
    "handled_by_community",
    "whistled",
    "self_resolved",
)
