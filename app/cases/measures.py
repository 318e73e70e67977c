"""The case measures (docs/product.md, "The case measures"), each an aggregate over counted
cases with what they read of each case (``measured_columns``): counts, and sums of hours to be
averaged. The statistics compute them over the cases filed in a period (app/stats/measures.py);
the measures of settled cases are also kept by day (app/cases/measure_days.py). Both use the
definitions here, so a kept figure is the figure the cases give."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, null, or_, select

from app.models import Report
from app.models.enums import ReportStatus, Satisfaction
from app.models.reports import OPEN_STATUS_VALUES
from app.models.settled import ENDED_RESOLVED
from app.models.stats import MEASURE_COUNTS, MEASURE_SUMS

RS = ReportStatus
HANDLING = (RS.accepted.value, RS.in_progress.value, RS.dispatched.value)
# The measures of a settled case do not read the clock (app/models/settled.py, ``settled``):
# any moment gives them.
ANY_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


def measured_columns() -> list[Any]:
    """What the measures read of a case (the columns ``measure_columns`` is given). The hours
    are the ones kept on the case (app/cases/measured.py); hours to resolve count for a case
    that is resolved or closed, not for one sent back to rework."""
    resolved = Report.status.in_(ENDED_RESOLVED)
    return [
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
    ]


# long: one labelled column per measure, each a line of the definitions table
def measure_columns(now: datetime | ColumnElement[datetime], case: Any) -> list[ColumnElement[Any]]:
    """The measures at ``now`` (a moment, or a parameter holding it) over the columns of
    ``measured_columns`` (``case``), labelled as app/models/stats.py names them."""
    moment = now if isinstance(now, ColumnElement) else literal(now, Report.created_at.type)
    is_open = case.status.in_(OPEN_STATUS_VALUES)
    overdue_open = or_(
        and_(case.status == RS.submitted.value, case.accept_due_at < moment),
        and_(case.status.in_(HANDLING), case.resolve_due_at < moment),
    )
    accepted = case.accepted_at.is_not(None)
    due = and_(
        accepted,
        case.status != RS.on_hold.value,
        or_(case.status.in_(ENDED_RESOLVED), case.resolve_due_at <= moment),
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
                or_(case.accept_due_at <= moment, case.answered_at.is_not(None)),
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
        func.coalesce(func.sum(case.hours_to_accept), 0.0).label("hours_to_accept_sum"),
        func.coalesce(func.sum(case.hours_to_resolve), 0.0).label("hours_to_resolve_sum"),
    ]


def status_columns(case: Any) -> list[ColumnElement[int]]:
    return [
        _count(case.status == status.value).label(f"status_{status.value}")
        for status in ReportStatus
    ]


def _every_measure(case: Any) -> dict[str, ColumnElement[Any]]:
    return {
        column.name: column
        for column in (*measure_columns(ANY_MOMENT, case), *status_columns(case))
    }


def kept_columns(case: Any) -> list[ColumnElement[Any]]:
    """Every measure a day of settled cases keeps (app/models/stats.py, ``case_measure_days``),
    in its order."""
    every = _every_measure(case)
    return [every[name] for name in (*MEASURE_COUNTS, *MEASURE_SUMS)]


@functools.cache
def measure_names() -> tuple[str, ...]:
    """The names of every measure and count by status, kept or not."""
    return tuple(_every_measure(select(*measured_columns()).subquery().c))
