"""The case measures (docs/product.md, "The case measures") as one aggregate over the counted
cases: the summary runs it once, the community and category sheets once grouped. Counts come
from the database; a rate is the quotient of two of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, null, or_, select

from app.core.config import Settings
from app.models import Report
from app.models.enums import ReportStatus, Satisfaction
from app.models.reports import OPEN_STATUS_VALUES
from app.stats.selection import StatsQuery, counted_cases

RS = ReportStatus
HANDLING = (RS.accepted.value, RS.in_progress.value, RS.dispatched.value)
ENDED_RESOLVED = (RS.resolved.value, RS.closed.value)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


def counted_rows(query: StatsQuery, *keys: Any) -> Any:
    """The counted cases, each with what the measures read of it and the ``keys`` it is
    grouped by. The hours are the ones kept on the case (app/cases/measured.py); hours to
    resolve count for a case that is resolved or closed, not for one sent back to rework."""
    resolved = Report.status.in_(ENDED_RESOLVED)
    statement: Select[Any] = select(
        *keys,
        Report.status,
        Report.accept_due_at,
        Report.resolve_due_at,
        Report.accepted_at,
        func.coalesce(Report.accepted_at, Report.rejected_at, Report.duplicate_at).label(
            "answered_at"
        ),
        Report.dispatched_at,
        Report.closure_type,
        Report.rework_count,
        Report.satisfaction,
        Report.hours_to_accept,
        case((resolved, Report.hours_to_resolve), else_=null()).label("hours_to_resolve"),
    )
    return statement.where(*counted_cases(query)).subquery("counted")


# long: one labelled column per measure, each a line of the definitions table
def measure_columns(query: StatsQuery, case: Any) -> list[ColumnElement[Any]]:
    """The measures over ``counted_rows``' columns (``case``)."""
    now = literal(query.now, Report.created_at.type)
    is_open = case.status.in_(OPEN_STATUS_VALUES)
    overdue_open = or_(
        and_(case.status == RS.submitted.value, case.accept_due_at < now),
        and_(case.status.in_(HANDLING), case.resolve_due_at < now),
    )
    accepted = case.accepted_at.is_not(None)
    due = and_(
        accepted,
        case.status != RS.on_hold.value,
        or_(case.status.in_(ENDED_RESOLVED), case.resolve_due_at <= now),
    )
    return [
        func.count().label("total"),
        _count(is_open).label("open"),
        _count(overdue_open).label("overdue_open"),
        _count(due).label("due_to_close"),
        # Closed through the case's path (accepted first); 随手清 is counted on its own.
        _count(and_(accepted, case.status == RS.closed.value)).label("closed"),
        _count(and_(accepted, case.status == RS.closed.value, case.closure_type == "normal")).label(
            "closed_on_time"
        ),
        _count(and_(case.status == RS.closed.value, case.accepted_at.is_(None))).label(
            "self_resolved"
        ),
        func.coalesce(func.sum(case.rework_count).filter(due), 0).label("reworks"),
        _count(
            and_(
                case.accept_due_at.is_not(None),
                or_(case.accept_due_at <= now, case.answered_at.is_not(None)),
            )
        ).label("response_due"),
        _count(case.answered_at <= case.accept_due_at).label("responded_on_time"),
        _count(and_(due, case.status.in_(ENDED_RESOLVED))).label("resolved"),
        func.count(case.satisfaction).label("ratings"),
        *(_count(case.satisfaction == level.value).label(level.value) for level in Satisfaction),
        _count(accepted).label("accepted"),
        _count(and_(accepted, case.dispatched_at.is_(None))).label("handled_by_community"),
        _count(and_(accepted, case.dispatched_at.is_not(None))).label("whistled"),
        func.count(case.hours_to_accept).label("measured_accept"),
        func.count(case.hours_to_resolve).label("measured_resolve"),
        func.avg(case.hours_to_accept).label("mean_hours_to_accept"),
        func.avg(case.hours_to_resolve).label("mean_hours_to_resolve"),
    ]


def measures_statement(
    query: StatsQuery,
    *keys: Any,
    extra: Callable[[Any], list[ColumnElement[Any]]] | None = None,
) -> Select[Any]:
    """The case measures of the counted cases, one row per value of the ``keys`` (labelled
    columns of reports; one row without keys); ``extra`` adds columns over the same cases."""
    case = counted_rows(query, *keys).c
    groups = [case[key.name] for key in keys]
    statement = select(*groups, *measure_columns(query, case), *(extra(case) if extra else []))
    return statement.group_by(*groups) if groups else statement


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
        "mean_hours_to_accept": optional_float(row["mean_hours_to_accept"]),
        "mean_hours_to_resolve": optional_float(row["mean_hours_to_resolve"]),
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
