"""The overdue sweep's timers (``clock_timers``): for each case with a running clock, the next
moment the sweep has anything to do for it. A pass claims the timers that are due, a batch at a
time, and nothing else: with none due, as at nearly every pass, it reads the first entry of one
small index, however many cases and months the database holds.

Two sides keep them:
- every change that starts a clock or sets its deadline (intake, acceptance, the whistle, a
  unit's answer, an extension, a rework, the end of a hold, a calendar's recompute) wakes its
  case no later than that deadline: noted as the rows are flushed (``_note_clocks``) or by
  ``wake`` for a job written by statement, and written in one statement just before the unit
  of work commits, where the timer row is locked for the last moment of the transaction (as the
  day counts are). A timer is only moved earlier there; an early one costs the sweep a look;
- the sweep, having done what was due for its batch of cases, sets each timer to the case's
  next moment exactly (``next_moments``), and drops the timers of cases with no clock left.

A clock waiting for its red card has its moment from rules besides its own row: its category's
kind of hours, the working calendar, the threshold. Its timer says that it waits; a category
whose kind of hours changes wakes every such case as it commits, and a sweeper whose calendar or
threshold differs from those it last set the timers with (its first pass; a calendar changed
since) wakes them before its pass (app/workflow/overdue.py). The sweep then sets their moments
under the rules now in force.

Why this is safe with staff acting while a sweep runs: the sweep claims its timers with SKIP
LOCKED and locks the cases with SKIP LOCKED too, never waiting for a row a staff action holds;
a staff action that waits for a timer the sweep holds waits for the sweep's batch to commit,
then moves it earlier from the sweep's value. A case the sweep could not lock keeps its timer
due, and the next pass looks again."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, event, func, inspect, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert, Update

from app.cases.transitions import HANDLING, JOB_CLOCKS_RUN_IN
from app.core.sql import member_of, update_rows, upsert_insert
from app.core.workcalendar import WorkingCalendar
from app.models import Category, ClockTimer, Job, Report
from app.models.enums import HoursKind, JobStatus, ReportStatus, SupervisionLevel

_WAKES = "ssp_clock_timers"
_AGAIN = "ssp_clock_timers_again"
# A moment before any deadline: a timer set to it is due at the next pass.
AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)
# The red card is due once a clock is *more* than the threshold late: a millisecond more.
_PAST_THE_THRESHOLD = timedelta(milliseconds=1)
# Timers written by one statement at most (two parameters each, of asyncpg's 32,767).
_WAKES_A_STATEMENT = 5_000
# Columns whose change may start a report's clock or move its deadline.
_REPORT_CLOCK_COLUMNS = ("status", "accept_due_at", "resolve_due_at")


def report_deadline(
    status: ReportStatus, accept_due: datetime | None, resolve_due: datetime | None
) -> datetime | None:
    """The deadline of the report's clock that runs in ``status`` (None: none runs)."""
    if status is ReportStatus.submitted:
        return accept_due
    if status in HANDLING:
        return resolve_due
    return None


def job_deadline(
    status: JobStatus, accept_due: datetime | None, complete_due: datetime | None
) -> datetime | None:
    """The deadline of the job's clock that runs in ``status``, while its case runs clocks."""
    if status is JobStatus.pending:
        return accept_due
    if status is JobStatus.accepted:
        return complete_due
    return None


def wake(session: AsyncSession | Session, report_id: uuid.UUID, at: datetime | None) -> None:
    """Have the sweep look at the case at ``at`` at the latest (nothing for None)."""
    if at is None:
        return
    wakes: dict[uuid.UUID, datetime] = session.info.setdefault(_WAKES, {})
    if report_id not in wakes or at < wakes[report_id]:
        wakes[report_id] = at


def wake_for_job(session: AsyncSession | Session, job: Job) -> None:
    """Wake the job's case at its running clock's deadline (a job written by statement rather
    than through its object calls this itself: app/jobs/engine.py)."""
    wake(session, job.report_id, job_deadline(job.status, job.accept_due_at, job.complete_due_at))


@event.listens_for(Session, "before_flush")
def _note_clocks(session: Session, *_: Any) -> None:
    for row in (*session.new, *session.dirty):
        if isinstance(row, Report):
            state = inspect(row)
            changed = state.pending or any(
                state.attrs[name].history.has_changes() for name in _REPORT_CLOCK_COLUMNS
            )
            if changed:
                due = report_deadline(row.status, row.accept_due_at, row.resolve_due_at)
                wake(session, row.id, due)
        elif isinstance(row, Job):
            # Any change: a job made or changed through its object (the whistle, the end of a
            # hold, a recompute) is rare, and a hold's end restarts its clocks as they were.
            wake_for_job(session, row)
        elif isinstance(row, Category) and inspect(row).attrs.hours_kind.history.has_changes():
            # The red card's moment of every clock of its cases counts other hours now.
            session.info[_AGAIN] = True


# First of the listeners before a commit: a unit of work takes its timers before the rows the
# others add to (the day counts), as the sweep, which holds its timers from the start, does;
# taken in the other order, a staff action and a sweep could each wait for the other.
@event.listens_for(Session, "before_commit", insert=True)
def _write_wakes(session: Session) -> None:
    session.flush()  # the rows as they will be committed: their clocks are noted
    dialect = session.get_bind().dialect.name
    if session.info.pop(_AGAIN, False):
        session.execute(wake_the_waiting())
    wakes: dict[uuid.UUID, datetime] | None = session.info.pop(_WAKES, None)
    if not wakes:
        return
    table = cast(Table, ClockTimer.__table__)
    # In key order, as every writer does: two never wait for each other in a circle.
    cases = sorted(wakes)
    for start in range(0, len(cases), _WAKES_A_STATEMENT):
        chunk = cases[start : start + _WAKES_A_STATEMENT]
        stmt = upsert_insert(dialect)(table).values(
            [{"report_id": case, "due_at": wakes[case]} for case in chunk]
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["report_id"],
                set_={"due_at": stmt.excluded.due_at},
                where=stmt.excluded.due_at < table.c.due_at,
            )
        )


@event.listens_for(Session, "after_soft_rollback")
def _drop_wakes(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_WAKES, None)
    session.info.pop(_AGAIN, None)


async def claim(
    session: AsyncSession, now: datetime, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[tuple[datetime, uuid.UUID]]:
    """Up to ``limit`` timers due at ``now``, earliest first, after ``after`` (where this pass
    is), locked; those another sweeper holds are skipped."""
    stmt = (
        select(ClockTimer.due_at, ClockTimer.report_id)
        .where(ClockTimer.due_at <= now)
        .order_by(ClockTimer.due_at, ClockTimer.report_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if after is not None:
        stmt = stmt.where(tuple_(ClockTimer.due_at, ClockTimer.report_id) > tuple_(*after))
    return [(row.due_at, row.report_id) for row in await session.execute(stmt)]


@dataclass(frozen=True, order=True)
class NextMoment:
    """When the sweep next has something to do for a clock, or for a case (its clocks' first),
    and whether a clock of it waits for its red card."""

    at: datetime
    waits_for_red_card: bool


@dataclass(frozen=True)
class Policy:
    """What the next moment of a recorded clock depends on: the red card's threshold, in the
    kind of hours of the case's category."""

    red_card_after_hours: float
    calendar: WorkingCalendar

    def red_card_due(self, due: datetime, working: bool) -> datetime:
        if working:
            late = self.calendar.add_working_hours(due, self.red_card_after_hours)
            # Late by the threshold at the close of a working day is no later at night.
            return self.calendar.add_working_hours(late, _PAST_THE_THRESHOLD.total_seconds() / 3600)
        return due + timedelta(hours=self.red_card_after_hours) + _PAST_THE_THRESHOLD

    def next_moment(
        self,
        due: datetime | None,
        recorded: datetime | None,
        swept: datetime | None,
        level: SupervisionLevel | None,
        working: bool,
    ) -> NextMoment | None:
        """When the sweep has something to do for a running clock: its deadline until its
        overdue is recorded, then the red card's moment until the case has the red card."""
        if due is None:
            return None
        if recorded != due:
            return NextMoment(due, waits_for_red_card=False)
        if swept == due or level is SupervisionLevel.red:
            return None
        return NextMoment(self.red_card_due(due, working), waits_for_red_card=True)


# What the next moment of a case's clocks depends on besides each clock: the case's level and
# whether its category counts working hours.
_CaseTerms = tuple[SupervisionLevel | None, bool]


async def next_moments(
    session: AsyncSession, case_ids: Collection[uuid.UUID], policy: Policy
) -> dict[uuid.UUID, NextMoment]:
    """Each case's next moment over its running clocks, read as they are now; cases with none
    are left out."""
    moments: dict[uuid.UUID, list[NextMoment | None]] = {}
    running = await _report_clocks(session, case_ids, policy, moments)
    if running:
        await _job_clocks(session, running, policy, moments)
    found: dict[uuid.UUID, NextMoment] = {}
    for case, values in moments.items():
        if chosen := [moment for moment in values if moment is not None]:
            waits = any(moment.waits_for_red_card for moment in chosen)
            found[case] = NextMoment(min(chosen).at, waits_for_red_card=waits)
    return found


async def _report_clocks(
    session: AsyncSession,
    case_ids: Collection[uuid.UUID],
    policy: Policy,
    moments: dict[uuid.UUID, list[NextMoment | None]],
) -> dict[uuid.UUID, _CaseTerms]:
    """The next moment of each case's own running clock, into ``moments``; the cases in which
    jobs' clocks run."""
    cases = await session.execute(
        select(
            Report.id,
            Report.status,
            Report.supervision_level,
            Category.hours_kind,
            Report.accept_due_at,
            Report.accept_due_recorded,
            Report.accept_due_swept,
            Report.resolve_due_at,
            Report.resolve_due_recorded,
            Report.resolve_due_swept,
        )
        .join(Category, Category.code == Report.category_code)
        .where(member_of(session, Report.id, case_ids))
    )
    running: dict[uuid.UUID, _CaseTerms] = {}
    for case in cases:
        terms = (case.supervision_level, case.hours_kind is HoursKind.working)
        if case.status in JOB_CLOCKS_RUN_IN:
            running[case.id] = terms
        if case.status is ReportStatus.submitted:
            clock = (case.accept_due_at, case.accept_due_recorded, case.accept_due_swept)
        elif case.status in HANDLING:
            clock = (case.resolve_due_at, case.resolve_due_recorded, case.resolve_due_swept)
        else:
            continue
        moments.setdefault(case.id, []).append(policy.next_moment(*clock, *terms))
    return running


async def _job_clocks(
    session: AsyncSession,
    running: dict[uuid.UUID, _CaseTerms],
    policy: Policy,
    moments: dict[uuid.UUID, list[NextMoment | None]],
) -> None:
    """The next moment of each running job clock of the ``running`` cases, into ``moments``."""
    jobs = await session.execute(
        select(
            Job.report_id,
            Job.status,
            Job.accept_due_at,
            Job.accept_due_recorded,
            Job.accept_due_swept,
            Job.complete_due_at,
            Job.complete_due_recorded,
            Job.complete_due_swept,
        ).where(
            member_of(session, Job.report_id, list(running)),
            Job.status.in_([JobStatus.pending, JobStatus.accepted]),
        )
    )
    for job in jobs:
        if job.status is JobStatus.pending:
            clock = (job.accept_due_at, job.accept_due_recorded, job.accept_due_swept)
        else:
            clock = (job.complete_due_at, job.complete_due_recorded, job.complete_due_swept)
        moments.setdefault(job.report_id, []).append(
            policy.next_moment(*clock, *running[job.report_id])
        )


async def reschedule(
    session: AsyncSession, case_ids: Iterable[uuid.UUID], policy: Policy
) -> dict[uuid.UUID, NextMoment]:
    """Set the claimed cases' timers to their next moments; drop those of cases with none."""
    case_ids = list(case_ids)
    moments = await next_moments(session, case_ids, policy)
    table = cast(Table, ClockTimer.__table__)
    rows = [
        {"report_id": case, "due_at": moment.at, "waits_for_red_card": moment.waits_for_red_card}
        for case, moment in sorted(moments.items())
    ]
    await update_rows(session, table, "report_id", rows)
    ended = [case for case in case_ids if case not in moments]
    if ended:
        await session.execute(delete(table).where(member_of(session, table.c.report_id, ended)))
    return moments


def wake_the_waiting() -> Update:
    """Every case with a clock waiting for its red card, woken for the next pass: the rules its
    moment was set with (the calendar, the threshold, a category's kind of hours) changed."""
    return (
        update(ClockTimer)
        .where(ClockTimer.waits_for_red_card)
        .values(due_at=AT_ONCE)
        .execution_options(synchronize_session=False)
    )


# Every case with a running clock the sweep is not done with, at its earliest deadline (early
# for a clock waiting for its red card: the sweep then sets the exact moment).
def _running_deadlines() -> Any:
    report_due = select(
        Report.id.label("report_id"),
        Report.accept_due_at.label("due_at"),
    ).where(
        Report.status == ReportStatus.submitted,
        Report.accept_due_at.is_not(None),
        Report.accept_due_swept.is_distinct_from(Report.accept_due_at),
    )
    resolve_due = select(Report.id, Report.resolve_due_at).where(
        Report.status.in_(list(HANDLING)),
        Report.resolve_due_at.is_not(None),
        Report.resolve_due_swept.is_distinct_from(Report.resolve_due_at),
    )
    jobs = []
    for status, due, swept in (
        (JobStatus.pending, Job.accept_due_at, Job.accept_due_swept),
        (JobStatus.accepted, Job.complete_due_at, Job.complete_due_swept),
    ):
        jobs.append(
            select(Job.report_id, due)
            .join(Report, Report.id == Job.report_id)
            .where(
                Job.status == status,
                due.is_not(None),
                swept.is_distinct_from(due),
                Report.status.in_(list(JOB_CLOCKS_RUN_IN)),
            )
        )
    return report_due.union_all(resolve_due, *jobs).subquery()


def rebuild_statement(dialect: str) -> Insert:
    """Set a timer for every case with a running clock, from the cases themselves (after rows
    were written around the service: a bulk import in SQL, a restored backup); an existing
    timer is only moved earlier. One statement, for the database named ``dialect``."""
    running = _running_deadlines()
    table = cast(Table, ClockTimer.__table__)
    stmt = upsert_insert(dialect)(table).from_select(
        ["report_id", "due_at"],
        select(running.c.report_id, func.min(running.c.due_at)).group_by(running.c.report_id),
        # Not waiting, as far as is known: the sweep, looking at once, says.
        include_defaults=False,
    )
    return stmt.on_conflict_do_update(
        index_elements=["report_id"],
        set_={"due_at": stmt.excluded.due_at},
        where=stmt.excluded.due_at < table.c.due_at,
    )


async def rebuild(session: AsyncSession) -> None:
    """``rebuild_statement`` run in ``session``."""
    await session.execute(rebuild_statement(session.get_bind().dialect.name))
