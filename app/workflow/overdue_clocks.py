"""Which clocks the overdue sweep looks at, among the cases whose timers it claimed
(app/cases/clock_timers.py): running clocks past their deadline not recorded yet, and recorded
ones whose case may now get the red card. Each clock keeps on its row where the sweep is with
it (the deadline it recorded, the deadline it is done with)."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import InstrumentedAttribute

from app.cases.transitions import HANDLING, JOB_CLOCKS_RUN_IN
from app.core.config import Settings
from app.models import Category, Job, Report
from app.models.base import status_among
from app.models.enums import DeadlineClock, HoursKind, JobStatus, ReportStatus, SupervisionLevel

# OverdueMark.job_id of the report's own clocks (the column is part of a unique key, where
# NULLs would never collide).
REPORT_CLOCK_JOB_ID = uuid.UUID(int=0)
# Cases a sweep's transaction takes on at once: the locks it holds last a few milliseconds.
BATCH_SIZE = 200


@dataclass(frozen=True)
class OverdueClock:
    """A running clock past its deadline, as the candidate query found it."""

    report_id: uuid.UUID
    job_id: uuid.UUID  # REPORT_CLOCK_JOB_ID for the report's own clocks
    clock: DeadlineClock
    due_at: datetime
    unit_id: uuid.UUID | None
    region_id: uuid.UUID
    working_hours: bool
    supervision_level: SupervisionLevel | None
    marked: bool

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID, DeadlineClock, datetime]:
        return (self.report_id, self.job_id, self.clock, self.due_at)

    @property
    def is_job_clock(self) -> bool:
        return self.job_id != REPORT_CLOCK_JOB_ID

    def event_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"clock": self.clock.value, "due_at": self.due_at.isoformat()}
        if self.is_job_clock:
            data["job_id"] = str(self.job_id)
            data["unit_id"] = str(self.unit_id) if self.unit_id else None
        return data


class Stage(enum.Enum):
    """What a pass looks for."""

    # Running clocks past their deadline whose overdue is not recorded yet.
    record = "record"
    # Recorded clocks of cases not at the red card yet, at least the threshold past due in
    # calendar hours (which working hours never exceed; the exact test is made in Python).
    red_card = "red_card"


# Each clock's columns: its deadline, the deadline whose overdue the sweep recorded, and the
# deadline it is done with.
_COLUMNS: dict[DeadlineClock, tuple[InstrumentedAttribute[datetime | None], ...]] = {
    DeadlineClock.report_accept: (
        Report.accept_due_at,
        Report.accept_due_recorded,
        Report.accept_due_swept,
    ),
    DeadlineClock.report_resolve: (
        Report.resolve_due_at,
        Report.resolve_due_recorded,
        Report.resolve_due_swept,
    ),
    DeadlineClock.job_accept: (Job.accept_due_at, Job.accept_due_recorded, Job.accept_due_swept),
    DeadlineClock.job_complete: (
        Job.complete_due_at,
        Job.complete_due_recorded,
        Job.complete_due_swept,
    ),
}


def due_column(clock: DeadlineClock) -> InstrumentedAttribute[datetime | None]:
    return _COLUMNS[clock][0]


def recorded_column(clock: DeadlineClock) -> InstrumentedAttribute[datetime | None]:
    return _COLUMNS[clock][1]


def swept_column(clock: DeadlineClock) -> InstrumentedAttribute[datetime | None]:
    return _COLUMNS[clock][2]


def is_job_clock(clock: DeadlineClock) -> bool:
    return clock in (DeadlineClock.job_accept, DeadlineClock.job_complete)


def _wanted(clock: DeadlineClock, stage: Stage, now: datetime, settings: Settings) -> Select[Any]:
    """Running clocks of one kind that the stage is about, in no order, unlocked."""
    due, recorded = due_column(clock), recorded_column(clock)
    if stage is Stage.record:
        wanted = and_(recorded.is_distinct_from(due), due < now)
    else:
        threshold = now - timedelta(hours=settings.overdue_red_card_after_hours)
        wanted = and_(recorded == due, swept_column(clock).is_distinct_from(due), due < threshold)
    columns: list[Any] = [
        Report.id.label("report_id"),
        due.label("due_at"),
        Report.region_id,
        Report.supervision_level,
        Category.hours_kind,
    ]
    if is_job_clock(clock):
        running = job_running(clock)
        columns += [Job.id.label("job_id"), Job.unit_id]
        base = select(*columns).select_from(Job).join(Report, Report.id == Job.report_id)
    else:
        running = report_running(clock)
        base = select(*columns).select_from(Report)
    return base.join(Category, Category.code == Report.category_code).where(running, wanted)


def candidates(
    clock: DeadlineClock, stage: Stage, now: datetime, settings: Settings
) -> Select[Any]:
    """Running clocks of one kind that the stage is about (the caller says of which cases).
    Their reports are locked, skipping those a staff action holds; a row another transaction
    changed meanwhile is read again and left out if it no longer qualifies."""
    # A job clock's job too: the sweep then never waits for a row once it has claimed its
    # cases (the calendar's recompute locks jobs before their reports).
    return _wanted(clock, stage, now, settings).with_for_update(
        of=[Report, Job] if is_job_clock(clock) else Report, skip_locked=True
    )


# Every kind of clock at each stage: what a pass reads of the cases it claimed.
CLOCK_STAGES = tuple((clock, stage) for clock in DeadlineClock for stage in Stage)


def report_running(clock: DeadlineClock) -> ColumnElement[bool]:
    if clock is DeadlineClock.report_accept:
        return status_among(Report.status, [ReportStatus.submitted.value])
    return status_among(Report.status, [status.value for status in HANDLING])


def job_running(clock: DeadlineClock) -> ColumnElement[bool]:
    """A job's clocks also stop with its report's while the report is on hold (resuming shifts
    its deadlines, which makes them new), and for good once the case ended (closing cancels its
    open jobs; older rows may hold some still open)."""
    job_status = JobStatus.pending if clock is DeadlineClock.job_accept else JobStatus.accepted
    return and_(
        status_among(Job.status, [job_status.value]),
        status_among(Report.status, [status.value for status in JOB_CLOCKS_RUN_IN]),
    )


def overdue_clock(clock: DeadlineClock, stage: Stage, row: Any) -> OverdueClock:
    is_job = is_job_clock(clock)
    return OverdueClock(
        report_id=row.report_id,
        job_id=row.job_id if is_job else REPORT_CLOCK_JOB_ID,
        clock=clock,
        due_at=row.due_at,
        unit_id=row.unit_id if is_job else None,
        region_id=row.region_id,
        working_hours=row.hours_kind is HoursKind.working,
        supervision_level=row.supervision_level,
        marked=stage is Stage.red_card,
    )
