"""What a light needs beyond a clock's own columns: the holds (挂账) that stopped a case's
clocks, and when a job's completion clock was restarted by rework (返工).

Both come from the timeline, and only for the cases that had a hold or a rework (the report's
``held_seconds`` and the job's ``rework_count`` say so): most lists of cases need no query."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.transitions import ReportAction
from app.core.lights import ClockRules, Light, Pause, light
from app.core.pruning import of_cases
from app.models import Report, ReportEvent
from app.models.enums import OPEN_REPORT_STATUSES, ReportStatus

JOB_REWORK_EVENT = "job_rework"
# The resolve clock is met while the case is resolved or closed.
RESOLVE_MET = frozenset({ReportStatus.resolved, ReportStatus.closed})


@dataclass(frozen=True)
class ClockHistory:
    pauses: tuple[Pause, ...] = ()
    # The latest rework of each reworked job: its completion clock started again then.
    reworked_at: Mapping[uuid.UUID, datetime] = field(default_factory=dict)


NO_HISTORY = ClockHistory()


def reading_time(status: ReportStatus, on_hold_at: datetime | None, now: datetime) -> datetime:
    """When a case's clocks are read: now, or the moment they stopped while it is on hold."""
    if status is ReportStatus.on_hold and on_hold_at is not None:
        return min(on_hold_at, now)
    return now


async def load_histories(
    session: AsyncSession, report_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, ClockHistory]:
    """The holds and reworks of the given cases (one query; none for no cases)."""
    if not report_ids:
        return {}
    rows = await session.execute(
        select(ReportEvent.report_id, ReportEvent.type, ReportEvent.created_at, ReportEvent.data)
        .where(
            of_cases(session, ReportEvent.report_id, report_ids),
            ReportEvent.type.in_(
                [ReportAction.hold.value, ReportAction.resume.value, JOB_REWORK_EVENT]
            ),
        )
        .order_by(ReportEvent.report_id, ReportEvent.seq)
    )
    pauses: dict[uuid.UUID, list[Pause]] = {}
    held_since: dict[uuid.UUID, datetime] = {}
    reworks: dict[uuid.UUID, dict[uuid.UUID, datetime]] = {}
    for report_id, kind, at, data in rows:
        if kind == ReportAction.hold.value:
            held_since[report_id] = at
        elif kind == ReportAction.resume.value:
            start = held_since.pop(report_id, None)
            if start is not None:
                pauses.setdefault(report_id, []).append(Pause(start=start, end=at))
        elif data and data.get("job_id"):
            reworks.setdefault(report_id, {})[uuid.UUID(data["job_id"])] = at
    return {
        report_id: ClockHistory(
            pauses=tuple(pauses.get(report_id, ())), reworked_at=reworks.get(report_id, {})
        )
        for report_id in report_ids
    }


class ClockFacts(Protocol):
    """What the lights read of a case: a report, or a row of these columns."""

    @property
    def status(self) -> ReportStatus: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def accepted_at(self) -> datetime | None: ...
    @property
    def rejected_at(self) -> datetime | None: ...
    @property
    def duplicate_at(self) -> datetime | None: ...
    @property
    def reopened_at(self) -> datetime | None: ...
    @property
    def accept_due_at(self) -> datetime | None: ...
    @property
    def resolve_due_at(self) -> datetime | None: ...


# The report columns a light reads (ClockFacts), and whether its holds must be read too.
CLOCK_COLUMNS = (
    Report.status,
    Report.created_at,
    Report.accepted_at,
    Report.rejected_at,
    Report.duplicate_at,
    Report.reopened_at,
    Report.on_hold_at,
    Report.accept_due_at,
    Report.resolve_due_at,
    Report.held_seconds,
)


def accept_light(report: ClockFacts, rules: ClockRules, at: datetime) -> Light | None:
    """The accept clock's light: it runs from the filing until the case is accepted, rejected
    or found a duplicate."""
    if report.accept_due_at is None or accept_met(report):
        return None
    return light(report.created_at, report.accept_due_at, at, rules)


def resolve_light(
    report: ClockFacts, rules: ClockRules, at: datetime, pauses: Sequence[Pause]
) -> Light | None:
    """The resolve clock's light: it runs from the acceptance, or from the latest reopening
    (which set a fresh deadline), while the case is open and not resolved; verification that
    sends it back for rework starts it again."""
    if (
        report.resolve_due_at is None
        or report.status in RESOLVE_MET
        or report.status not in OPEN_REPORT_STATUSES
    ):
        return None
    started = report.reopened_at or report.accepted_at or report.created_at
    return light(started, report.resolve_due_at, at, rules, pauses)


def accept_met(report: ClockFacts) -> datetime | None:
    return report.accepted_at or report.rejected_at or report.duplicate_at
