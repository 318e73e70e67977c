"""The overdue sweep: every running clock past its deadline is recorded once and raised to the
supervisors.

A clock runs while its owner owes the next step: the report's accept clock while it waits to be
accepted, its resolve clock while it is handled, a job's accept clock while the unit has not
answered, its complete clock while the unit works. On hold (挂账) every clock of the report
stops; once the case ended (closed, rejected, duplicate) none runs, not even a job's left
open. Deadlines are set elsewhere (intake, acceptance, the whistle, a unit's acceptance,
extensions), in calendar or working hours; the sweep compares them with the time.

The policy: a clock that runs out gives the report a yellow card (黄牌督办), in the queue of
the supervisors of the report's region; a clock more than ``overdue_red_card_after_hours`` past
its deadline (counted in the category's kind of hours) gives a red card (红牌督办). Levels only
go up, and a supervisor's own card is never lowered.

Safe with several workers: a batch claims its cases' timers and locks their reports with SKIP
LOCKED, and the overdue mark's unique key (report, job, clock, deadline) lets exactly one sweep
record a clock; only that sweep writes its timeline and outbox events. When a case is looked
at: app/cases/clock_timers.py; which of its clocks: overdue_clocks.py."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.attributes import set_committed_value

from app.cases import clock_timers, day_counts
from app.cases.transitions import HANDLING, JOB_CLOCKS_RUN_IN
from app.core.config import Settings
from app.core.metrics import OVERDUE_MARKS, count_on_commit
from app.core.pruning import of_cases, one_plan_for_any_values
from app.core.sql import update_rows, upsert_insert
from app.core.workcalendar import WorkingCalendar
from app.models import Job, OverdueMark, Report
from app.models.enums import (
    DeadlineClock,
    JobStatus,
    ReportStatus,
    StatsMetric,
    SupervisionLevel,
)
from app.models.ids import new_id
from app.workflow import overdue_events
from app.workflow.overdue_clocks import (
    BATCH_SIZE,
    CLOCK_STAGES,
    OverdueClock,
    candidates,
    is_job_clock,
    overdue_clock,
    recorded_column,
    swept_column,
)

LEVEL_ORDER = (SupervisionLevel.normal, SupervisionLevel.yellow, SupervisionLevel.red)


def level_rank(level: SupervisionLevel | None) -> int:
    return -1 if level is None else LEVEL_ORDER.index(level)


def hours_late(clock: OverdueClock, now: datetime, calendar: WorkingCalendar) -> float:
    if clock.working_hours:
        return calendar.working_hours_between(clock.due_at, now)
    return (now - clock.due_at).total_seconds() / 3600


def card_for(
    clock: OverdueClock, now: datetime, calendar: WorkingCalendar, settings: Settings
) -> SupervisionLevel:
    """The supervision level an overdue clock calls for under the policy."""
    if hours_late(clock, now, calendar) > settings.overdue_red_card_after_hours:
        return SupervisionLevel.red
    return SupervisionLevel.yellow


async def sweep_overdue(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: datetime,
    calendar: WorkingCalendar,
    settings: Settings,
    *,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Record every running clock past its deadline once, with an internal "overdue" timeline
    event and a "report.overdue" or "job.overdue" outbox event, and raise the report's
    supervision level per the policy (a "supervision_raised" event each time). Returns how many
    clocks this sweep recorded.

    The cases to look at are those whose timers are due (app/cases/clock_timers.py), claimed a
    batch at a time, each batch a transaction of its own with FOR UPDATE SKIP LOCKED: two
    sweepers share the work instead of queueing, a staff action waits for one batch at most,
    and a catch-up after downtime or an import goes by in short steps, with requests served in
    between. A pass with nothing due, as nearly every one is, is the one statement that finds
    no timer due."""
    policy = clock_timers.Policy(settings.overdue_red_card_after_hours, calendar)
    await _timers_follow(sessionmaker, policy)
    recorded = 0
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        async with sessionmaker() as session, session.begin():
            claimed = await clock_timers.claim(session, now, after, batch_size)
            if claimed:
                cases = [case for _, case in claimed]
                recorded += await _sweep_cases(session, cases, now, calendar, settings)
                await clock_timers.reschedule(session, cases, policy)
        if len(claimed) < batch_size:
            return recorded
        # Where the pass is: a timer that stays due (its case locked by a staff action) is
        # looked at again by the next pass, not over and over by this one.
        after = claimed[-1]
        await asyncio.sleep(0)  # the requests waiting on this process go first


# The rules each database's timers were last set with by this process (its calendar and the red
# card's threshold), by engine.
_SET_WITH: weakref.WeakKeyDictionary[Any, clock_timers.Policy] = weakref.WeakKeyDictionary()


async def _timers_follow(
    sessionmaker: async_sessionmaker[AsyncSession], policy: clock_timers.Policy
) -> None:
    """A clock waiting for its red card has its moment set from the calendar and the threshold
    in force when the sweep last looked at it. When either is not what this process set the
    timers with (its first pass; a calendar another process changed, read again since), every
    case with a clock waiting is woken, and this pass sets their moments with the rules now in
    force: one UPDATE of their timers."""
    engine = sessionmaker.kw.get("bind")
    seen = _SET_WITH.get(engine) if engine is not None else None
    if seen is not None and (seen is policy or seen == policy):
        return
    async with sessionmaker() as session, session.begin():
        await session.execute(clock_timers.wake_the_waiting())
    if engine is not None:
        _SET_WITH[engine] = policy


async def _sweep_cases(
    session: AsyncSession,
    cases: Sequence[uuid.UUID],
    now: datetime,
    calendar: WorkingCalendar,
    settings: Settings,
) -> int:
    """The claimed cases' clocks with something due, of every kind at either stage, dealt with
    together: how many were recorded. A clock recorded here that is late enough for the red card
    gets it at once (``card_for``)."""
    clocks: list[OverdueClock] = []
    async with one_plan_for_any_values(session):
        for clock, stage in CLOCK_STAGES:
            stmt = candidates(clock, stage, now, settings).where(
                of_cases(session, Report.id, cases)
            )
            if is_job_clock(clock):
                stmt = stmt.where(of_cases(session, Job.report_id, cases))
            clocks += [overdue_clock(clock, stage, row) for row in await session.execute(stmt)]
    return await _process(session, clocks, now, calendar, settings) if clocks else 0


async def _process(
    session: AsyncSession,
    batch: Sequence[OverdueClock],
    now: datetime,
    calendar: WorkingCalendar,
    settings: Settings,
) -> int:
    cards_due = {c.key: card_for(c, now, calendar, settings) for c in batch}
    to_do = [
        c
        for c in batch
        if not c.marked or level_rank(cards_due[c.key]) > level_rank(c.supervision_level)
    ]
    # Recorded, and the case at the red card: nothing is left to do for the clock.
    done = [c for c in batch if c.marked and c.supervision_level is SupervisionLevel.red]
    if not to_do:
        await _note_progress(session, swept_column, done)
        return 0
    # Under the reports' locks, with the rows read afresh: a case closed (and its jobs
    # cancelled), a unit that answered or a deadline extended since the candidates were read
    # stops the clock before anything is recorded.
    reports = await _lock_reports(session, {c.report_id for c in to_do})
    jobs = await _jobs(session, {c.job_id for c in to_do if c.is_job_clock})
    running = [c for c in to_do if _still_running(c, reports, jobs)]
    recorded = await _insert_marks(session, [c for c in running if not c.marked], now)
    new_clocks = [c for c in running if c.key in recorded]
    for clock in new_clocks:
        case = reports[clock.report_id]
        day_counts.note(session, StatsMetric.overdue, now, case.region_id, case.community_id)
    # A clock another sweep recorded meanwhile is that sweep's to raise.
    cards: dict[uuid.UUID, tuple[SupervisionLevel, OverdueClock]] = {}
    for clock in running:
        if not clock.marked and clock.key not in recorded:
            continue
        card = cards_due[clock.key]
        if level_rank(card) <= level_rank(clock.supervision_level):
            continue
        best = cards.get(clock.report_id)
        if best is None or level_rank(card) > level_rank(best[0]):
            cards[clock.report_id] = (card, clock)
    announcements = []
    for clock in new_clocks:
        count_on_commit(session, OVERDUE_MARKS.labels(clock.clock.value))
        announcements.append(overdue_events.overdue(reports[clock.report_id], clock, jobs))
    announcements += await _raise_supervision(session, reports, cards, now)
    await overdue_events.write(session, announcements, now)
    # Every clock still running is recorded now, by this sweep or by another meanwhile.
    await _note_progress(session, recorded_column, [c for c in running if not c.marked])
    done += [c for c in running if reports[c.report_id].supervision_level is SupervisionLevel.red]
    await _note_progress(session, swept_column, done)
    return len(new_clocks)


async def _note_progress(
    session: AsyncSession,
    column_of: Callable[[DeadlineClock], InstrumentedAttribute[datetime | None]],
    clocks: Sequence[OverdueClock],
) -> None:
    """Note on each clock (in ``column_of`` its clock) the deadline the sweep is through with
    at that stage: one UPDATE per kind of clock. A plain UPDATE of that column: the row's
    version (the ETag clients hold) and its updated_at stay as they are."""
    for kind in DeadlineClock:
        of_kind = [c for c in clocks if c.clock is kind]
        if not of_kind:
            continue
        column = column_of(kind)
        table = column.class_.__table__
        cases = {c.report_id for c in of_kind}
        await update_rows(
            session,
            table,
            "id",
            [
                {"id": c.job_id if c.is_job_clock else c.report_id, column.key: c.due_at}
                for c in of_kind
            ],
            # The months of the clocks' cases alone (a job's partition is its case's).
            of_cases(session, Job.report_id if is_job_clock(kind) else Report.id, cases),
            # updated_at kept as it is: its onupdate would otherwise stamp the row as changed.
            updated_at=table.c.updated_at,
        )


def _still_running(
    clock: OverdueClock, reports: dict[uuid.UUID, Report], jobs: dict[uuid.UUID, Job]
) -> bool:
    """Whether the clock still runs, with the same deadline, in the rows read under the lock."""
    report = reports.get(clock.report_id)
    if report is None:
        return False
    if not clock.is_job_clock:
        if clock.clock is DeadlineClock.report_accept:
            return report.status is ReportStatus.submitted and report.accept_due_at == clock.due_at
        return report.status in HANDLING and report.resolve_due_at == clock.due_at
    job = jobs.get(clock.job_id)
    if job is None or report.status not in JOB_CLOCKS_RUN_IN:
        return False
    if clock.clock is DeadlineClock.job_accept:
        return job.status is JobStatus.pending and job.accept_due_at == clock.due_at
    return job.status is JobStatus.accepted and job.complete_due_at == clock.due_at


async def _insert_marks(
    session: AsyncSession, clocks: Sequence[OverdueClock], now: datetime
) -> set[tuple[uuid.UUID, uuid.UUID, DeadlineClock, datetime]]:
    """Insert a mark for each clock; return the keys this call inserted (not those another
    sweep inserted first)."""
    if not clocks:
        return set()
    insert = upsert_insert(session.get_bind().dialect.name)
    stmt = (
        insert(OverdueMark)
        .values(
            [
                {
                    "id": new_id(),
                    "report_id": c.report_id,
                    "job_id": c.job_id,
                    "clock": c.clock,
                    "due_at": c.due_at,
                    "marked_at": now,
                    "raised_to_region_id": c.region_id,
                    "unit_id": c.unit_id,
                }
                for c in clocks
            ]
        )
        .on_conflict_do_nothing(index_elements=["report_id", "job_id", "clock", "due_at"])
        .returning(OverdueMark.report_id, OverdueMark.job_id, OverdueMark.clock, OverdueMark.due_at)
    )
    rows = await session.execute(stmt)
    return {(r.report_id, r.job_id, DeadlineClock(r.clock), r.due_at) for r in rows}


async def _lock_reports(
    session: AsyncSession, report_ids: set[uuid.UUID]
) -> dict[uuid.UUID, Report]:
    """The reports, locked (on PostgreSQL) and read afresh: a staff action or another sweep
    may have changed them since the candidates were read. Locked in id order, as every sweep
    does, so that two sweeps never wait for each other in a circle."""
    rows = await session.scalars(
        select(Report)
        .where(Report.id.in_(report_ids))
        .order_by(Report.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {report.id: report for report in rows}


async def _jobs(session: AsyncSession, job_ids: set[uuid.UUID]) -> dict[uuid.UUID, Job]:
    if not job_ids:
        return {}
    rows = await session.scalars(
        select(Job).where(Job.id.in_(job_ids)).execution_options(populate_existing=True)
    )
    return {job.id: job for job in rows}


async def _raise_supervision(
    session: AsyncSession,
    reports: dict[uuid.UUID, Report],
    cards: dict[uuid.UUID, tuple[SupervisionLevel, OverdueClock]],
    now: datetime,
) -> list[overdue_events.Announcement]:
    """Raise each report to its card (levels read afresh under the lock: another sweep or a
    supervisor may have raised it already), bumping its version so that open consoles see the
    card: one UPDATE for them all, the locked rows' objects brought in step with it."""
    raised = []
    for report_id, (card, clock) in sorted(cards.items()):
        report = reports[report_id]
        before = report.supervision_level
        if level_rank(card) > level_rank(before):
            raised.append((report, before, card, clock))
    if not raised:
        return []
    table = cast(Table, Report.__table__)
    await update_rows(
        session,
        table,
        "id",
        [{"id": report.id, "supervision_level": card} for report, _, card, _ in raised],
        of_cases(session, Report.id, [report.id for report, _, _, _ in raised]),
        version=table.c.version + 1,
        updated_at=now,
    )
    for report, _, card, _ in raised:
        set_committed_value(report, "supervision_level", card)
        set_committed_value(report, "version", report.version + 1)
        set_committed_value(report, "updated_at", now)
    return [
        overdue_events.card_raised(report, before, clock) for report, before, _, clock in raised
    ]
