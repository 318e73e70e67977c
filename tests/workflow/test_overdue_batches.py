"""The overdue sweep a batch at a time: each clock recorded once with batches of one and with two
sweepers at once, and a clock it is done with left out of what later passes read."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.models import OverdueMark, Report
from app.models.enums import DeadlineClock, JobStatus, ReportStatus, SupervisionLevel
from app.workflow.overdue import stages_with_work, sweep_overdue
from app.workflow.overdue_clocks import (
    CLOCK_STAGES,
    Stage,
    candidates,
    clock_stages_with_work,
)
from tests.conftest import PG_URL
from tests.workflow.test_overdue import (
    CALENDAR,
    LEAD_UNIT,
    ROAD,
    T0,
    add_job,
    add_report,
    events,
    fresh,
    sweep,
)


async def some_overdue_clocks(session: AsyncSession) -> list[Report]:
    """Five reports past their accept deadline and one handled case with two overdue jobs:
    seven clocks, five of them on reports of their own."""
    due = T0 + timedelta(hours=2)
    reports = [await add_report(session, accept_due_at=due) for _ in range(5)]
    whistled = await add_report(
        session, status=ReportStatus.dispatched, resolve_due_at=T0 + timedelta(days=30)
    )
    await add_job(session, whistled, LEAD_UNIT, status=JobStatus.pending, accept_due_at=due)
    await add_job(session, whistled, LEAD_UNIT, status=JobStatus.accepted, complete_due_at=due)
    return [*reports, whistled]


async def marks_of(session: AsyncSession, reports: list[Report]) -> int:
    ids = [r.id for r in reports]
    count = await session.scalar(
        select(func.count()).select_from(OverdueMark).where(OverdueMark.report_id.in_(ids))
    )
    return count or 0


async def assert_each_recorded_once(session: AsyncSession, reports: list[Report]) -> None:
    assert await marks_of(session, reports) == 7
    for report in reports:
        types = [e.type for e in await events(session, report)]
        assert types.count("overdue") == (2 if report is reports[-1] else 1)
        assert types.count("supervision_raised") == 1  # yellow, once per case


async def test_batches_of_one_record_each_clock_once(
    session: AsyncSession, settings: Settings
) -> None:
    reports = await some_overdue_clocks(session)
    at = T0 + timedelta(hours=3)
    assert await sweep(session, settings, at, batch_size=1) == 7
    assert await sweep(session, settings, at + timedelta(minutes=1), batch_size=1) == 0
    await assert_each_recorded_once(session, reports)


async def test_two_sweepers_with_batches_of_one_share_the_clocks(
    app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    reports = await some_overdue_clocks(session)
    at = T0 + timedelta(hours=3)

    async def sweeper() -> int:
        return await sweep_overdue(app.state.sessionmaker, at, CALENDAR, settings, batch_size=1)

    counts = await asyncio.gather(sweeper(), sweeper(), sweeper())
    assert sum(counts) == 7
    await assert_each_recorded_once(session, reports)


async def unfinished(
    session: AsyncSession, settings: Settings, clock: DeadlineClock, at: datetime
) -> int:
    """How many clocks of the kind a pass at ``at`` would look at, in either stage."""
    found = 0
    for stage in Stage:
        found += len((await session.execute(candidates(clock, stage, at, settings))).all())
    await session.commit()  # the candidates' locks go
    return found


async def test_a_clock_at_the_red_card_is_left_out_until_a_new_deadline(
    session: AsyncSession, settings: Settings
) -> None:
    due = T0 + timedelta(hours=2)
    report = await add_report(session, status=ReportStatus.accepted, resolve_due_at=due)
    at = due + timedelta(hours=30)  # past the red card threshold at once
    assert await sweep(session, settings, at) == 1
    report = await fresh(session, report)
    assert report.supervision_level is SupervisionLevel.red
    assert report.resolve_due_recorded == due
    assert report.resolve_due_swept == due
    version = report.version
    assert await unfinished(session, settings, DeadlineClock.report_resolve, at) == 0

    # A new deadline (an extension, a rework) that runs out again is a new overdue clock.
    later = at + timedelta(hours=1)
    await session.execute(update(Report).where(Report.id == report.id).values(resolve_due_at=later))
    await session.commit()
    updated = (await fresh(session, report)).updated_at
    assert await unfinished(session, settings, DeadlineClock.report_resolve, later) == 0
    after = later + timedelta(minutes=5)
    assert await unfinished(session, settings, DeadlineClock.report_resolve, after) == 1
    assert await sweep(session, settings, after) == 1
    report = await fresh(session, report)
    assert report.resolve_due_swept == later
    # Noting where the sweep is, is no change a client sees: the ETag and updated_at stay (the
    # case was red already, so nothing else changed).
    assert report.version == version
    assert report.updated_at == updated
    overdue = [e for e in await events(session, report) if e.type == "overdue"]
    assert len(overdue) == 2


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's planner")
@pytest.mark.parametrize("clock", list(DeadlineClock))
@pytest.mark.parametrize("stage", list(Stage))
async def test_a_pass_reads_the_partial_index_of_its_stage(
    session: AsyncSession, settings: Settings, clock: DeadlineClock, stage: Stage
) -> None:
    """The sweep's query implies the partial index's predicate, with its statuses written in the
    statement: PostgreSQL reads the small index, not every running clock."""
    stmt = candidates(clock, stage, T0, settings)
    sql = stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(await session.scalars(text(f"EXPLAIN {sql}")))
    table = "jobs" if clock in (DeadlineClock.job_accept, DeadlineClock.job_complete) else "reports"
    due = (
        "complete_due_at"
        if clock is DeadlineClock.job_complete
        else ("resolve_due_at" if clock is DeadlineClock.report_resolve else "accept_due_at")
    )
    name = "unrecorded" if stage is Stage.record else "unswept"
    index = f"ix_{table}_{due}_{name}"
    # Each month's partition has its copy of the index, under a name of its own.
    copies = await session.scalars(
        text(
            "SELECT inhrelid::regclass::text FROM pg_inherits"
            " WHERE inhparent = CAST(:index AS regclass)"
        ),
        {"index": index},
    )
    read = {index, *copies.all()}
    assert any(f" {name} " in plan for name in read), plan
    await session.rollback()


async def test_what_a_batch_writes_does_not_grow_with_its_clocks(
    session: AsyncSession, settings: Settings
) -> None:
    """Five clocks or forty in one batch: the same statements, each clock still announced
    (its entry numbered after the report's latest) and each case carded once."""
    assert isinstance(session.bind, AsyncEngine)
    engine = session.bind.sync_engine
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    async def statements_of_a_pass(size: int, due: datetime) -> tuple[int, list[Report]]:
        reports = [await add_report(session, accept_due_at=due) for _ in range(size)]
        await session.commit()
        sweeping = async_sessionmaker(session.bind, expire_on_commit=False)
        sent.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            at = due + timedelta(hours=1)
            assert await sweep_overdue(sweeping, at, CALENDAR, settings) == size
        finally:
            event.remove(engine, "before_cursor_execute", count)
        for report in reports:
            await session.refresh(report)
        return len(sent), reports

    few, _ = await statements_of_a_pass(5, T0 + timedelta(hours=2))
    many, reports = await statements_of_a_pass(40, T0 + timedelta(hours=4))
    assert many == few, (few, many)
    for report in reports:
        timeline = await events(session, report)
        assert [e.type for e in timeline][-2:] == ["overdue", "supervision_raised"]
        assert [e.seq for e in timeline] == list(range(1, len(timeline) + 1))
        assert report.supervision_level is SupervisionLevel.yellow


async def test_a_pass_with_nothing_due_asks_once(session: AsyncSession, settings: Settings) -> None:
    """Which kinds of clock and stages have work is one statement; with none, the pass ends
    there instead of reading each kind of clock at each stage in a transaction of its own."""
    await some_overdue_clocks(session)
    await sweep(session, settings, T0 + timedelta(hours=3))
    assert isinstance(session.bind, AsyncEngine)
    engine = session.bind.sync_engine
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        sweeping = async_sessionmaker(session.bind, expire_on_commit=False)
        assert await sweep_overdue(sweeping, T0 + timedelta(hours=4), CALENDAR, settings) == 0
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # On PostgreSQL, the one plan for any values around it: a SET before and after.
    assert len(sent) == (3 if PG_URL else 1), "\n\n".join(sent)


async def waiting(
    session: AsyncSession, settings: Settings, at: datetime
) -> set[tuple[DeadlineClock, Stage]]:
    """The kinds of clock and stages a pass at ``at`` reads (``stages_with_work``)."""
    found = (await session.execute(clock_stages_with_work(at, settings))).one()
    await session.commit()
    return stages_with_work(found, at, CALENDAR, settings)


async def test_the_question_finds_the_stages_the_candidates_find(
    session: AsyncSession, settings: Settings
) -> None:
    await some_overdue_clocks(session)
    await session.commit()
    at = T0 + timedelta(hours=3)

    async def stages_with_work(at: datetime) -> set[tuple[DeadlineClock, Stage]]:
        return await waiting(session, settings, at)

    async def stages_of_candidates(at: datetime) -> set[tuple[DeadlineClock, Stage]]:
        found = {
            (clock, stage)
            for clock, stage in CLOCK_STAGES
            if (await session.execute(candidates(clock, stage, at, settings))).first()
        }
        await session.commit()  # the candidates' locks go
        return found

    assert await stages_with_work(T0) == set()
    expected = {
        (DeadlineClock.report_accept, Stage.record),
        (DeadlineClock.job_accept, Stage.record),
        (DeadlineClock.job_complete, Stage.record),
    }
    assert await stages_of_candidates(at) == expected
    assert await stages_with_work(at) == expected
    # Recorded, yellow: each waits for the red card, once far enough past its deadline.
    assert await sweep(session, settings, at) == 7
    assert await stages_with_work(at) == set()
    late = T0 + timedelta(days=3)
    red_card = {(clock, Stage.red_card) for clock, _ in expected}
    assert await stages_of_candidates(late) == red_card
    assert await stages_with_work(late) == red_card


async def test_a_clock_in_working_hours_waits_for_its_red_card_through_the_weekend(
    session: AsyncSession, settings: Settings
) -> None:
    """Recorded at the yellow card on a Friday evening, a clock counted in working hours is
    not read again until 24 working hours have passed (Thursday), though it waits in the
    red-card stage's index from Saturday on."""
    friday_evening = T0 + timedelta(days=4, hours=8)  # Friday 17:00 in China
    await add_report(session, category_code=ROAD, accept_due_at=friday_evening)
    assert await sweep(session, settings, friday_evening + timedelta(hours=1)) == 1
    stage = (DeadlineClock.report_accept, Stage.red_card)
    sunday = friday_evening + timedelta(days=2)
    assert (await session.execute(candidates(*stage, sunday, settings))).first() is not None
    await session.commit()
    assert await waiting(session, settings, sunday) == set()
    wednesday_noon = friday_evening + timedelta(days=5, hours=-5)  # 20 working hours late
    assert await waiting(session, settings, wednesday_noon) == set()
    thursday_noon = wednesday_noon + timedelta(days=1)  # 28
    assert await waiting(session, settings, thursday_noon) == {stage}
    assert await sweep(session, settings, thursday_noon) == 0
    assert await waiting(session, settings, thursday_noon) == set()
    red = await session.scalar(
        select(Report.supervision_level).where(Report.accept_due_at == friday_evening)
    )
    assert red is SupervisionLevel.red
