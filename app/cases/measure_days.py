"""The measures of settled cases kept per China day of filing, place and category
(``case_measure_days``, app/models/stats.py), as the cases change.

A change to a case takes its old measures out and puts its new ones in, both as the database
computes them (``kept_columns``, the definitions the statistics read with): before the unit of
work first writes a case that was settled, its measures as they stand are read; just before
the commit, those of the cases it leaves settled are read; the differences are added to the
table together, in key order, in one statement (the rows locked for the last moment of the
transaction, never in a different order by two writers) and dropped if it rolls back. A case
that is not settled, before or after, costs nothing: most changes (filing, accepting,
dispatching, sweeping) cost no statement at all; closing, rating and reopening cost two.

Cases are changed through the ORM; a statement that updates cases' measured columns in bulk
would pass this by (none does: the overdue sweep writes the supervision level, numbering the
number). ``python -m app stats rebuild-counts`` writes the table again from the cases."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, Subquery, event, inspect, select
from sqlalchemy.orm import Session

from app.cases.day_counts import day_number
from app.cases.measures import kept_columns, measured_columns
from app.core.sql import add_to_kept_rows
from app.models import Report
from app.models.settled import SETTLED_STATUSES, settled
from app.models.stats import MEASURE_COUNTS, MEASURE_DAY_KEYS, MEASURE_SUMS, NO_COMMUNITY
from app.models.stats import case_measure_days as table

_STATE = "ssp_case_measure_days"
MEASURES = (*MEASURE_COUNTS, *MEASURE_SUMS)

Key = tuple[int, uuid.UUID, uuid.UUID, str]


class _Unit:
    """What one unit of work noted: the cases it touched (with the object), those whose old
    measures were read, and the measures' differences by key."""

    def __init__(self) -> None:
        self.touched: dict[uuid.UUID, Report] = {}
        self.seen: set[uuid.UUID] = set()
        self.changes: dict[Key, list[float]] = {}

    def add(self, rows: Iterable[Any], sign: int) -> None:
        for row in rows:
            community = row.community_id or NO_COMMUNITY
            key = (day_number(row.created_at), row.region_id, community, row.category_code)
            change = self.changes.setdefault(key, [0] * len(MEASURES))
            for i, name in enumerate(MEASURES):
                change[i] += sign * (getattr(row, name) or 0)


def settled_cases(ids: list[uuid.UUID] | None = None) -> Subquery:
    """The settled cases among ``ids`` (all of them: None) with their filing time, place and
    what the measures read of them."""
    statement = select(
        Report.id,
        Report.created_at,
        Report.region_id,
        Report.community_id,
        Report.category_code,
        *measured_columns(),
    ).where(settled(Report))
    if ids is not None:
        statement = statement.where(Report.id.in_(ids))
    return statement.subquery("settled")


def case_measures(ids: list[uuid.UUID]) -> Select[Any]:
    """The kept measures of each settled case among ``ids``, with its filing time and place."""
    rows = settled_cases(ids).c
    places = [rows.created_at, rows.region_id, rows.community_id, rows.category_code]
    return select(*places, *kept_columns(rows)).group_by(rows.id, *places)


def _unit(session: Session) -> _Unit:
    unit: _Unit | None = session.info.get(_STATE)
    if unit is None:
        unit = session.info[_STATE] = _Unit()
    return unit


def _status_written(report: Report) -> Any:
    """The status the database holds for ``report`` (before changes not yet written)."""
    history = inspect(report).attrs.status.history
    return history.deleted[0] if history.deleted else report.status


@event.listens_for(Session, "before_flush")
def _note_cases(session: Session, *_: Any) -> None:
    reports = [o for o in (*session.new, *session.dirty) if isinstance(o, Report)]
    if not reports:
        return
    unit = _unit(session)
    settled_before = []
    for report in reports:
        if report.id in unit.seen:
            unit.touched[report.id] = report
            continue
        unit.seen.add(report.id)
        unit.touched[report.id] = report
        written = inspect(report).persistent and _status_written(report)
        if written in SETTLED_STATUSES:
            settled_before.append(report.id)
    if settled_before:
        unit.add(session.execute(case_measures(settled_before)), -1)


@event.listens_for(Session, "before_commit")
def _add_changes(session: Session) -> None:
    unit: _Unit | None = session.info.get(_STATE)
    if unit is None:
        return
    session.flush()  # the cases as they will be committed; notes what it writes first
    session.info.pop(_STATE, None)
    settled_now = [i for i, report in unit.touched.items() if report.status in SETTLED_STATUSES]
    if settled_now:
        unit.add(session.execute(case_measures(settled_now)), +1)
    add_to_kept_rows(session, table, MEASURE_DAY_KEYS, MEASURES, unit.changes)


@event.listens_for(Session, "after_soft_rollback")
def _drop_changes(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_STATE, None)
