"""The overdue sweep a batch of cases at a time, from their timers: each clock recorded once with
batches of one and with two sweepers at once, a pass with nothing due one statement, each
case's timer set to its next moment (the red card's, counted in its kind of hours) or dropped
once the sweep is done with it, and a case a staff action holds left for the next pass."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.cases import clock_timers
from app.cli import cli
from app.core.config import Settings, get_settings
from app.models import ClockTimer, OverdueMark, Report
from app.models.enums import JobStatus, ReportStatus, SupervisionLevel
from app.workflow.overdue import sweep_overdue
from tests import pgbouncer
from tests.conftest import PG_URL
from tests.workflow.clock_timer_checks import timer_of
from tests.workflow.test_overdue import (
    CALENDAR,
    LEAD_UNIT,
    ROAD,
    T0,
    add_job,
    add_report,
    events,
    fresh,
    marks,
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


async def test_a_clock_at_the_red_card_is_left_out_until_a_new_deadline(
    session: AsyncSession, settings: Settings
) -> None:
    due = T0 + timedelta(hours=2)
    report = await add_report(session, status=ReportStatus.accepted, resolve_due_at=due)
    assert await timer_of(session, report) == due
    at = due + timedelta(hours=30)  # past the red card threshold at once
    assert await sweep(session, settings, at) == 1
    report = await fresh(session, report)
    assert report.supervision_level is SupervisionLevel.red
    assert report.resolve_due_recorded == due
    assert report.resolve_due_swept == due
    version = report.version
    # Nothing left to do for the case: no timer, and no pass reads it.
    assert await timer_of(session, report) is None

    # A new deadline (an extension, a rework) that runs out again is a new overdue clock.
    later = at + timedelta(hours=1)
    report.resolve_due_at = later
    await session.commit()
    assert await timer_of(session, report) == later
    report = await fresh(session, report)
    updated, version = report.updated_at, report.version
    assert await sweep(session, settings, later - timedelta(minutes=5)) == 0
    after = later + timedelta(minutes=5)
    assert await sweep(session, settings, after) == 1
    report = await fresh(session, report)
    assert report.resolve_due_swept == later
    assert await timer_of(session, report) is None
    # Noting where the sweep is, is no change a client sees: the ETag and updated_at stay (the
    # case was red already, so nothing else changed).
    assert report.version == version
    assert report.updated_at == updated
    overdue = [e for e in await events(session, report) if e.type == "overdue"]
    assert len(overdue) == 2


async def test_a_recorded_clock_waits_for_its_red_card(
    session: AsyncSession, settings: Settings
) -> None:
    """Recorded at the yellow card, a clock counted in calendar hours is looked at again a
    millisecond after it is 24 hours late; a job's clock sets its case's timer as the case's
    own does."""
    report = await add_report(
        session, status=ReportStatus.dispatched, resolve_due_at=T0 + timedelta(days=30)
    )
    due = T0 + timedelta(hours=2)
    await add_job(session, report, LEAD_UNIT, status=JobStatus.pending, accept_due_at=due)
    assert await timer_of(session, report) == due
    assert await sweep(session, settings, due + timedelta(hours=1)) == 1
    red_card = due + timedelta(hours=24, milliseconds=1)
    assert await timer_of(session, report) == red_card
    assert await sweep(session, settings, red_card - timedelta(milliseconds=1)) == 0
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.yellow
    assert await sweep(session, settings, red_card) == 0
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.red
    # At the red card, the job's clock is done with; the case's own clock still runs.
    assert await timer_of(session, report) == T0 + timedelta(days=30)


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

    await sweep(session, settings, T0)  # the rules the timers are set with, seen: nothing due
    few, _ = await statements_of_a_pass(5, T0 + timedelta(hours=2))
    many, reports = await statements_of_a_pass(40, T0 + timedelta(hours=4))
    assert many == few, (few, many)
    for report in reports:
        timeline = await events(session, report)
        assert [e.type for e in timeline][-2:] == ["overdue", "supervision_raised"]
        assert [e.seq for e in timeline] == list(range(1, len(timeline) + 1))
        assert report.supervision_level is SupervisionLevel.yellow


async def test_a_pass_with_nothing_due_asks_once(session: AsyncSession, settings: Settings) -> None:
    """With no timer due, a pass is the one statement that finds none: it reads no case and no
    clock, however many run."""
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
    assert len(sent) == 1, "\n\n".join(sent)
    assert "clock_timers" in sent[0]


async def test_a_clock_in_working_hours_waits_for_its_red_card_through_the_weekend(
    session: AsyncSession, settings: Settings
) -> None:
    """Recorded at the yellow card on a Friday evening, a clock counted in working hours is
    not looked at again until 24 working hours have passed (Thursday): passes through the
    weekend claim nothing."""
    friday_evening = T0 + timedelta(days=4, hours=8)  # Friday 17:00 in China
    report = await add_report(session, category_code=ROAD, accept_due_at=friday_evening)
    assert await sweep(session, settings, friday_evening + timedelta(hours=1)) == 1
    red_card = await timer_of(session, report)
    expected = CALENDAR.add_working_hours(friday_evening, 24 + 0.001 / 3600)
    assert red_card == expected
    wednesday_noon = friday_evening + timedelta(days=5, hours=-5)  # 20 working hours late
    thursday_noon = wednesday_noon + timedelta(days=1)  # 28
    assert wednesday_noon < red_card < thursday_noon
    for at in (friday_evening + timedelta(days=2), wednesday_noon):
        assert await sweep(session, settings, at) == 0
        assert await timer_of(session, report) == red_card
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.yellow
    assert await sweep(session, settings, thursday_noon) == 0
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.red
    assert await timer_of(session, report) is None


@pytest.mark.skipif(not PG_URL, reason="row locks: PostgreSQL")
async def test_a_case_a_staff_action_holds_is_left_for_the_next_pass(
    app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    """The sweep never waits for a case a staff action has locked: it skips it, keeps its
    timer due, and records its clock at the next pass."""
    due = T0 + timedelta(hours=2)
    held = await add_report(session, accept_due_at=due)
    free = await add_report(session, accept_due_at=due)
    at = due + timedelta(hours=1)
    async with app.state.sessionmaker() as staff:
        await staff.execute(select(Report.id).where(Report.id == held.id).with_for_update())
        swept = sweep_overdue(app.state.sessionmaker, at, CALENDAR, settings)
        assert await asyncio.wait_for(swept, timeout=10) == 1
        await staff.rollback()
    assert await marks(session, held) == []
    assert len(await marks(session, free)) == 1
    assert await timer_of(session, held) == due
    assert await sweep(session, settings, at) == 1
    assert len(await marks(session, held)) == 1


async def test_rebuilt_timers_find_every_running_clock(
    session: AsyncSession, settings: Settings
) -> None:
    """Timers lost (rows written around the service) are made again from the cases: each at
    its case's earliest running deadline the sweep is not done with."""
    reports = await some_overdue_clocks(session)
    done = await add_report(session, status=ReportStatus.closed, resolve_due_at=T0)
    before = {r.id: await timer_of(session, r) for r in reports}
    await session.execute(delete(ClockTimer))
    await clock_timers.rebuild(session)
    await session.commit()
    assert {r.id: await timer_of(session, r) for r in reports} == before
    assert await timer_of(session, done) is None
    assert await sweep(session, settings, T0 + timedelta(hours=3)) == 7


async def test_the_command_rebuilds_the_timers(session: AsyncSession, database_url: str) -> None:
    due = T0 + timedelta(hours=2)
    report = await add_report(session, accept_due_at=due)
    await session.execute(delete(ClockTimer))
    await session.commit()
    environment = {"SSP_ENV": "test", "SSP_DATABASE_URL": pgbouncer.direct_url(database_url)}
    get_settings.cache_clear()  # the command reads its settings from the environment given
    try:
        ran = await asyncio.to_thread(
            CliRunner().invoke, cli, ["rebuild-clock-timers"], env=environment
        )
    finally:
        get_settings.cache_clear()
    assert ran.exit_code == 0, ran.output
    assert "has its timer" in ran.output
    assert await timer_of(session, report) == due


async def test_a_timer_of_a_case_no_longer_there_is_dropped(
    session: AsyncSession, settings: Settings
) -> None:
    report = await add_report(session, accept_due_at=T0 + timedelta(hours=2))
    await session.delete(report)
    await session.commit()
    assert await timer_of(session, report) == T0 + timedelta(hours=2)
    assert await sweep(session, settings, T0 + timedelta(hours=3)) == 0
    assert await timer_of(session, report) is None
