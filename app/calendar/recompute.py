"""Recomputing open cases' working-hour deadlines after the calendar changed: an explicit admin
action, because changing the calendar never moves a running clock by itself.

Each running working-hour clock gets the deadline its limit gives from the clock's start on the
calendar now in force, moved later by the case's holds as resuming did (the working hours of
each hold after the start). The starts are the ones the actions use: the filing for the
report's accept clock, the acceptance (or the latest reopening) for its resolve clock, the
dispatch for a job's accept clock, the unit's acceptance (or the latest rework) for a job's
completion clock.

Left alone: calendar-hour limits (the calendar does not count for them), clocks already run out
(their overdue marks and cards stand; moving them would rewrite what supervisors were told),
and completion times a person named (the whistle's ``complete_by``, a granted extension).

Rows are locked jobs first, then reports, the order every job action takes them in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from app.auth.principal import Principal
from app.calendar.schemas import MovedCase, MovedClock, RecomputeResult
from app.cases.clocks import NO_HISTORY, ClockHistory, load_histories, reading_time
from app.cases.timeline import append_event
from app.cases.transitions import HANDLING
from app.core.lights import Pause
from app.core.workcalendar import CHINA_TZ, WorkingCalendar
from app.integrations import outbox
from app.models import Category, Job, JobExtension, Report
from app.models.enums import (
    OPEN_JOB_STATUSES,
    OPEN_REPORT_STATUSES,
    DeadlineClock,
    ExtensionStatus,
    HoursKind,
    JobStatus,
    ReportStatus,
    Role,
)

EVENT_TYPE = "deadlines_recomputed"
# Deadlines are computed to the microsecond from float hours; a difference below this is the
# same deadline written twice, not a move.
_SAME_DEADLINE = timedelta(seconds=1)
_RESOLVE_CLOCK_STATUSES = frozenset({*HANDLING, ReportStatus.on_hold})
_DUE_COLUMNS = {
    DeadlineClock.report_accept: "accept_due_at",
    DeadlineClock.report_resolve: "resolve_due_at",
    DeadlineClock.job_accept: "accept_due_at",
    DeadlineClock.job_complete: "complete_due_at",
}
_CLOCK_NAMES = {
    DeadlineClock.report_accept: "accept",
    DeadlineClock.report_resolve: "resolve",
    DeadlineClock.job_accept: "job accept",
    DeadlineClock.job_complete: "job complete",
}


@dataclass
class _Case:
    report: Report
    category: Category
    jobs: list[Job] = field(default_factory=list)
    moved: list[MovedClock] = field(default_factory=list)
    # Where each moved deadline is written (the row and its column), unless it is a dry run.
    writes: list[tuple[Report | Job, str, datetime]] = field(default_factory=list)


def due_from(
    calendar: WorkingCalendar, start: datetime, hours: float, pauses: Sequence[Pause]
) -> datetime:
    """The deadline of a working-hour limit started at ``start``, with each hold after the
    start added as resuming adds it."""
    due = calendar.add_working_hours(start, hours)
    for pause in pauses:
        if pause.end > start:
            held = calendar.working_hours_between(max(pause.start, start), pause.end)
            due = calendar.add_working_hours(due, held)
    return due


async def recompute_open_deadlines(
    session: AsyncSession,
    principal: Principal,
    calendar: WorkingCalendar,
    now: datetime,
    *,
    dry_run: bool,
) -> RecomputeResult:
    cases = await _load_cases(session, lock=not dry_run)
    histories = await load_histories(
        session,
        {
            case.report.id
            for case in cases
            if case.report.held_seconds or any(job.rework_count for job in case.jobs)
        },
    )
    granted = await _latest_grants(session, [job.id for case in cases for job in case.jobs])
    checked = 0
    for case in cases:
        checked += _recompute_case(
            case, histories.get(case.report.id, NO_HISTORY), granted, calendar, now
        )
    moved = [case for case in cases if case.moved]
    if not dry_run:
        for case in moved:
            await _record(session, case, principal, now)
    return RecomputeResult(
        dry_run=dry_run,
        clocks_checked=checked,
        clocks_moved=sum(len(case.moved) for case in moved),
        cases=[
            MovedCase(report_id=case.report.id, number=case.report.number, clocks=case.moved)
            for case in moved
        ],
    )


async def _load_cases(session: AsyncSession, *, lock: bool) -> list[_Case]:
    """The open cases of working-hour categories with their open jobs."""
    working_open = (
        Report.status.in_(list(OPEN_REPORT_STATUSES)),
        Category.hours_kind == HoursKind.working,
    )
    job_query = (
        select(Job)
        .join(Report, Report.id == Job.report_id)
        .join(Category, Category.code == Report.category_code)
        .where(*working_open, Job.status.in_(list(OPEN_JOB_STATUSES)))
        .order_by(Job.id)
        .execution_options(populate_existing=True)
    )
    report_query = (
        select(Report, Category)
        .join(Category, Category.code == Report.category_code)
        .where(*working_open)
        .order_by(Report.id)
        .execution_options(populate_existing=True)
    )
    if lock:
        job_query = job_query.with_for_update(of=Job)
        report_query = report_query.with_for_update(of=Report)
    jobs = (await session.scalars(job_query)).all()
    rows = (await session.execute(report_query)).all()
    cases = {report.id: _Case(report=report, category=category) for report, category in rows}
    for job in jobs:
        if job.report_id in cases:
            cases[job.report_id].jobs.append(job)
    return list(cases.values())


async def _latest_grants(
    session: AsyncSession, job_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    """When each job last had an extension granted (its completion time was named then)."""
    if not job_ids:
        return {}
    rows = await session.execute(
        select(JobExtension.job_id, func.max(JobExtension.decided_at))
        .where(
            JobExtension.job_id.in_(list(job_ids)),
            JobExtension.status == ExtensionStatus.granted,
        )
        .group_by(JobExtension.job_id)
    )
    return {job_id: decided_at for job_id, decided_at in rows if decided_at is not None}


def _recompute_case(
    case: _Case,
    history: ClockHistory,
    granted: dict[uuid.UUID, datetime],
    calendar: WorkingCalendar,
    now: datetime,
) -> int:
    """Move the case's running clocks that the calendar moves; how many clocks were checked."""
    report = case.report
    # While the case is on hold its clocks stand still at the moment the hold began.
    clocks = _CaseClocks(
        case, calendar, history.pauses, reading_time(report.status, report.on_hold_at, now)
    )
    clocks.recompute_report()
    for job in case.jobs:
        clocks.recompute_job(job, history, granted)
    return clocks.checked


@dataclass
class _CaseClocks:
    """One case's clocks read at ``read_at``: the deadlines they would have now, and the
    moves, noted on the case."""

    case: _Case
    calendar: WorkingCalendar
    pauses: Sequence[Pause]
    read_at: datetime
    checked: int = 0

    def recompute_report(self) -> None:
        report, category = self.case.report, self.case.category
        if report.status is ReportStatus.submitted:
            before = report.accept_due_at
            new = self.check(before, report.created_at, category.accept_within_hours)
            if new is not None and before is not None:
                self.move(DeadlineClock.report_accept, None, before, new)
        if report.status in _RESOLVE_CLOCK_STATUSES:
            before = report.resolve_due_at
            new = self.check(
                before, report.reopened_at or report.accepted_at, category.resolve_within_hours
            )
            if new is not None and before is not None:
                self.move(DeadlineClock.report_resolve, None, before, new)

    def recompute_job(
        self, job: Job, history: ClockHistory, granted: dict[uuid.UUID, datetime]
    ) -> None:
        category = self.case.category
        if job.status is JobStatus.pending:
            before = job.accept_due_at
            new = self.check(before, job.created_at, category.accept_within_hours)
            if new is not None and job.complete_by_explicit and job.complete_due_at:
                # The unit must answer by the named completion time at the latest.
                new = min(new, job.complete_due_at)
            if new is not None and before is not None and abs(new - before) >= _SAME_DEADLINE:
                self.move(DeadlineClock.job_accept, job, before, new)
        elif job.status is JobStatus.accepted:
            start = history.reworked_at.get(job.id, job.accepted_at)
            named = job.complete_by_explicit and job.id not in history.reworked_at
            extended = start is not None and granted.get(job.id, start) > start
            if named or extended:
                return
            before = job.complete_due_at
            new = self.check(before, start, category.resolve_within_hours)
            if new is not None and before is not None:
                self.move(DeadlineClock.job_complete, job, before, new)

    def check(
        self, current: datetime | None, start: datetime | None, hours: float
    ) -> datetime | None:
        """The new deadline, or None when the clock is not running or keeps its deadline."""
        if current is None or start is None or current <= self.read_at:
            return None
        self.checked += 1
        new = due_from(self.calendar, start, hours, self.pauses)
        if abs(new - current) < _SAME_DEADLINE:
            return None
        return new

    def move(
        self, clock: DeadlineClock, job: Job | None, before: datetime, after: datetime
    ) -> None:
        self.case.writes.append((job or self.case.report, _DUE_COLUMNS[clock], after))
        self.case.moved.append(
            MovedClock(
                clock=clock,
                job_id=job.id if job else None,
                previous_due_at=before,
                due_at=after,
            )
        )


def _note(moved: Sequence[MovedClock]) -> str:
    """The timeline's words for the change, in China time as staff read deadlines."""

    def china(at: datetime) -> str:
        return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")

    changes = "; ".join(
        f"{_CLOCK_NAMES[c.clock]} due {china(c.previous_due_at)} → {china(c.due_at)}" for c in moved
    )
    return f"Working calendar changed: {changes} (China time)"


async def _record(session: AsyncSession, case: _Case, principal: Principal, now: datetime) -> None:
    """Write the moved deadlines, one timeline event and one outbox event for the case."""
    for row, column, due in case.writes:
        setattr(row, column, due)
    moved_jobs = {clock.job_id for clock in case.moved if clock.job_id}
    for job in case.jobs:
        if job.id in moved_jobs:
            job.version += 1
            job.updated_at = now
    # Also when only jobs moved: the report's version is the case's guard.
    case.report.updated_at = now
    flag_modified(case.report, "updated_at")
    await session.flush()
    data: dict[str, Any] = {
        "reason": "calendar_changed",
        "clocks": [clock.model_dump(mode="json") for clock in case.moved],
    }
    await append_event(
        session,
        case.report,
        type=EVENT_TYPE,
        actor=principal,
        # The route lets admins alone do this.
        actor_role=Role.admin,
        note=_note(case.moved),
        is_internal=True,
        data=data,
        at=now,
    )
    await outbox.record(
        session, f"report.{EVENT_TYPE}", case.report, now=now, data=data, internal=True
    )
