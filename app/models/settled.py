"""Settled cases — those whose measures the clock can no longer change — and the indexes the
statistics read the cases by (app/cases/measures.py, app/stats/summary.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, and_, column, not_, or_
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from app.models.base import status_among

SETTLED_STATUSES = ("closed", "duplicate", "rejected")
ENDED_RESOLVED = ("closed", "resolved")
# What the case measures read of a case (app/cases/measures.py), carried by the statistics'
# indexes so that they are read from the index alone (PostgreSQL).
MEASURED = [
    "region_id",
    "community_id",
    "category_code",
    "status",
    "accept_due_at",
    "resolve_due_at",
    "accepted_at",
    "rejected_at",
    "duplicate_at",
    "dispatched_at",
    "closure_type",
    "rework_count",
    "satisfaction",
    "hours_to_accept",
    "hours_to_resolve",
]


# What the percentile's reads filter the hours by: the period (filing time, and the id that
# follows it where cases are partitioned) and the places.
HOURS_PLACES = ["created_at", "id", "region_id", "community_id", "category_code"]


def settled(case: Any) -> ColumnElement[bool]:
    """A case whose measures the clock can no longer change (``case``: the reports table or
    anything with its columns): ended — closed, rejected, a duplicate —, its answer given or
    none due, and no deadline to resolve by still counting unless it closed. The service ends
    cases only so; the other clauses keep a case written by other means (an import) right.
    Statistics keep settled cases' measures by day (app/cases/measure_days.py) and read the
    others, the open ones, from the cases."""
    return and_(
        status_among(case.status, SETTLED_STATUSES),
        or_(
            case.accept_due_at.is_(None),
            case.accepted_at.is_not(None),
            case.rejected_at.is_not(None),
            case.duplicate_at.is_not(None),
        ),
        or_(
            case.accepted_at.is_(None),
            status_among(case.status, ("closed",)),
            case.resolve_due_at.is_(None),
        ),
    )


class _Bare:
    """The columns ``settled`` reads, unqualified: an index's predicate."""

    status: ColumnClause[Any] = column("status")
    accept_due_at: ColumnClause[Any] = column("accept_due_at")
    accepted_at: ColumnClause[Any] = column("accepted_at")
    rejected_at: ColumnClause[Any] = column("rejected_at")
    duplicate_at: ColumnClause[Any] = column("duplicate_at")
    resolve_due_at: ColumnClause[Any] = column("resolve_due_at")


UNSETTLED = not_(settled(_Bare))


def measure_indexes() -> list[Index]:
    """The reports' indexes for the statistics."""
    return [
        # The statistics' reads of the cases filed in a period that are not settled (the
        # others are kept by day: app/cases/measure_days.py), from the index alone
        # (PostgreSQL); open cases are a twentieth of all.
        Index(
            "ix_reports_unsettled_created",
            "created_at",
            postgresql_include=["id", *MEASURED],
            postgresql_where=UNSETTLED,
            sqlite_where=UNSETTLED,
        ),
        # The 90th percentile of the hours of many cases, read from the top down
        # (app/stats/summary.py): a tenth of a period's cases instead of sorting them all.
        Index(
            "ix_reports_hours_to_accept",
            "hours_to_accept",
            postgresql_include=HOURS_PLACES,
            postgresql_where=column("hours_to_accept").is_not(None),
            sqlite_where=column("hours_to_accept").is_not(None),
        ),
        Index(
            "ix_reports_hours_to_resolve",
            "hours_to_resolve",
            postgresql_include=HOURS_PLACES,
            postgresql_where=and_(
                status_among(column("status"), ENDED_RESOLVED),
                column("hours_to_resolve").is_not(None),
            ),
            sqlite_where=and_(
                status_among(column("status"), ENDED_RESOLVED),
                column("hours_to_resolve").is_not(None),
            ),
        ),
    ]
