"""Case events counted per day of China time and place (``case_day_counts``), for the
statistics' time series: a case submitted, accepted or closed, a clock found overdue.

Each change that makes such an event, or moves a case with its events to another place (a
transfer, an escalation), notes it here as it happens; the notes of a unit of work are added to
the table together, in key order, just before it commits (one statement, the rows locked for
the last moment of the transaction, never in a different order by two writers), and dropped
if it rolls back. A case counts where it is now; a closure counts on the day of the case's
latest one, as the case's ``closed_at`` says."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, event, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.core.sql import add_to_kept_rows
from app.core.workcalendar import CHINA_TZ, EPOCH_DAY
from app.models import CaseDayCount, OverdueMark, Report
from app.models.enums import StatsMetric
from app.models.stats import NO_COMMUNITY

_NOTES = "ssp_case_day_counts"

Key = tuple[str, int, uuid.UUID, uuid.UUID]


def day_number(moment: datetime) -> int:
    """The China-time day of ``moment`` as days since 1970-01-01 (as the table keys it)."""
    return (moment.astimezone(CHINA_TZ).date() - EPOCH_DAY).days


def note(
    session: AsyncSession | Session,
    metric: StatsMetric,
    moment: datetime,
    region_id: uuid.UUID,
    community_id: uuid.UUID | None,
    change: int = 1,
) -> None:
    notes: dict[Key, int] = session.info.setdefault(_NOTES, {})
    key = (metric.value, day_number(moment), region_id, community_id or NO_COMMUNITY)
    notes[key] = notes.get(key, 0) + change


def _place_before(report: Report) -> tuple[uuid.UUID, uuid.UUID | None] | None:
    """Where the case was before this unit of work moved it (None: it did not move), from the
    changes to its place columns not yet written."""
    state = inspect(report)
    region, community = state.attrs.region_id.history, state.attrs.community_id.history
    if not region.deleted and not community.deleted:
        return None
    return (
        region.deleted[0] if region.deleted else report.region_id,
        community.deleted[0] if community.deleted else report.community_id,
    )


async def count_transition(
    session: AsyncSession,
    report: Report,
    *,
    accepted_before: bool,
    closed_before: datetime | None,
) -> None:
    """Note what a transition just applied to ``report`` (not yet written) changes: the case
    moved with the events it had, its first acceptance, a closure (replacing the last one)."""
    if (place := _place_before(report)) is not None:
        marks = await session.scalars(
            select(OverdueMark.marked_at).where(OverdueMark.report_id == report.id)
        )
        events = [(StatsMetric.submitted, report.created_at)]
        if accepted_before and report.accepted_at is not None:
            events.append((StatsMetric.accepted, report.accepted_at))
        if closed_before is not None:
            events.append((StatsMetric.closed, closed_before))
        events += [(StatsMetric.overdue, moment) for moment in marks]
        for metric, moment in events:
            note(session, metric, moment, *place, change=-1)
            note(session, metric, moment, report.region_id, report.community_id)
    here = (report.region_id, report.community_id)
    if not accepted_before and report.accepted_at is not None:
        note(session, StatsMetric.accepted, report.accepted_at, *here)
    if report.closed_at is not None and report.closed_at != closed_before:
        if closed_before is not None:
            note(session, StatsMetric.closed, closed_before, *here, change=-1)
        note(session, StatsMetric.closed, report.closed_at, *here)


@event.listens_for(Session, "before_commit")
def _add_notes(session: Session) -> None:
    notes: dict[Key, int] | None = session.info.pop(_NOTES, None)
    if not notes:
        return
    keys = ("metric", "day_number", "region_id", "community_id")
    changes = {key: (change,) for key, change in notes.items()}
    add_to_kept_rows(session, cast(Table, CaseDayCount.__table__), keys, ("count",), changes)


@event.listens_for(Session, "after_soft_rollback")
def _drop_notes(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_NOTES, None)
