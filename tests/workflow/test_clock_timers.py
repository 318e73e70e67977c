"""The overdue sweep's timers kept by every action: the statistics' scenario (two weeks of cases
filed, accepted, whistled, extended, reworked, held, reopened, escalated and swept, on a frozen
clock through the API) played with the timers set exactly before each request and checked
after it; a job's clock that is its case's only one left; the red card's moment against the
sweep's count of hours, and set anew when the rules behind it change (the calendar, a
category's kind of hours); the order a commit takes its rows in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.cases import clock_timers, day_counts
from app.core.clock import FrozenClock
from app.core.config import Settings
from app.core.workcalendar import CHINA_TZ, WorkingCalendar
from app.main import create_app
from app.models import Category, ClockTimer, Job
from app.models.enums import HoursKind, JobStatus, ReportStatus, StatsMetric, SupervisionLevel
from app.workflow.overdue import hours_late, sweep_overdue
from app.workflow.overdue_clocks import OverdueClock
from tests.conftest import DatabaseFactory, LoginFn, make_test_settings
from tests.stats import test_stats_scenario as story
from tests.workflow.clock_timer_checks import assert_timers_cover, set_exactly, timer_of
from tests.workflow.test_overdue import (
    CALENDAR,
    LEAD_UNIT,
    ROAD,
    T0,
    add_job,
    add_report,
    fresh,
    sweep,
)


class WatchedScenario(story.Scenario):
    """The scenario, its timers checked after each sweep too: every timer that was due is
    set to its case's next moment, later than the pass."""

    async def sweep(self, at: datetime) -> None:
        await super().sweep(at)
        async with self.app.state.sessionmaker() as session:
            await assert_timers_cover(session, self.app.state.settings)
            timers = list(await session.scalars(select(ClockTimer.due_at)))
        assert all(due > at for due in timers), timers


@pytest.fixture
async def watched(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WatchedScenario]:
    url = await database_factory.clone_template()
    app = create_app(make_test_settings(url, tmp_path_factory.mktemp("clock_timers")))
    sessionmaker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    settings: Settings = app.state.settings

    async def before(request: httpx.Request) -> None:
        if request.method == "POST":
            async with sessionmaker() as session:
                await set_exactly(session, settings)

    async def after(response: httpx.Response) -> None:
        if response.request.method == "POST":
            await response.aread()
            async with sessionmaker() as session:
                await assert_timers_cover(session, settings)

    try:
        transport = httpx.ASGITransport(app=app)
        hooks: dict[str, list[Callable[..., Any]]] = {"request": [before], "response": [after]}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", event_hooks=hooks
        ) as client:
            scenario = WatchedScenario(app, client)
            await scenario.sign_in()
            yield scenario
    finally:
        app.state.photo_pool.shutdown()
        await app.state.engine.dispose()
        await database_factory.drop(url)


async def test_every_action_of_the_scenario_keeps_the_timers(watched: WatchedScenario) -> None:
    days = (story.week_before, story.monday_24, story.tuesday_25, story.wednesday_26)
    for day in (*days, story.thursday_27, story.friday_28, story.next_week):
        await day(watched)
    assert watched.clock.at == story.NOW


async def test_a_unit_accepting_wakes_a_case_whose_own_clocks_are_done(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """The case at the red card, its own clock done with: the unit's acceptance starts the
    completion clock, the case's only one, and the sweep looks at it when that runs out."""
    past = T0 + timedelta(hours=1)
    report = await add_report(session, status=ReportStatus.dispatched, resolve_due_at=past)
    job = await add_job(session, report, LEAD_UNIT, status=JobStatus.pending)
    later = T0 + timedelta(days=3)
    assert await sweep(session, settings, later) == 1
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.red
    assert await session.get(ClockTimer, report.id) is None

    unit = await login("unit4")  # tokens are checked against the real time: sign in first
    app.state.clock = FrozenClock(later)
    accepted = await client.post(f"/api/v1/jobs/{job.id}/accept", json={}, headers=unit)
    assert accepted.status_code == 200, accepted.text
    complete_due = await session.scalar(select(Job.complete_due_at).where(Job.id == job.id))
    assert complete_due is not None
    assert complete_due > later
    timer = await session.scalar(select(ClockTimer.due_at).where(ClockTimer.report_id == report.id))
    assert timer == complete_due
    assert await sweep(session, settings, complete_due + timedelta(minutes=1)) == 1


FRIDAY_EVENING = T0 + timedelta(days=4, hours=8)  # Friday 17:00 in China


async def test_a_new_calendar_sets_the_red_cards_moments_anew(
    session: AsyncSession, settings: Settings
) -> None:
    """Recorded on a Friday evening, a clock counted in working hours waits for its red card
    into the next week. A calendar that makes the weekend two working days (a make-up weekend)
    puts the moment on Monday at 17:00 (Friday 1 hour, Saturday and Sunday 8 each, Monday 7):
    the first pass under it wakes the waiting cases and gives the card then."""
    report = await add_report(session, category_code=ROAD, accept_due_at=FRIDAY_EVENING)
    assert await sweep(session, settings, FRIDAY_EVENING + timedelta(hours=1)) == 1
    monday_after_five = FRIDAY_EVENING + timedelta(days=3, minutes=1)
    waiting = await timer_of(session, report)
    assert waiting is not None
    assert waiting > monday_after_five
    saturday = FRIDAY_EVENING.astimezone(CHINA_TZ).date() + timedelta(days=1)
    make_up = WorkingCalendar(overrides={saturday: True, saturday + timedelta(days=1): True})
    assert isinstance(session.bind, AsyncEngine)
    sweeping = async_sessionmaker(session.bind, expire_on_commit=False)
    assert await sweep_overdue(sweeping, monday_after_five, make_up, settings) == 0
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.red


async def test_a_category_counting_other_hours_wakes_its_waiting_cases(
    session: AsyncSession, settings: Settings
) -> None:
    """Road damage switched from working to calendar hours: a clock recorded on a Friday
    evening is 24 hours late on Saturday evening, not on Thursday."""
    report = await add_report(session, category_code=ROAD, accept_due_at=FRIDAY_EVENING)
    assert await sweep(session, settings, FRIDAY_EVENING + timedelta(hours=1)) == 1
    road = await session.get_one(Category, ROAD)
    road.hours_kind = HoursKind.calendar
    await session.commit()
    waiting = await timer_of(session, report)
    assert waiting is not None
    assert waiting <= FRIDAY_EVENING
    assert await sweep(session, settings, FRIDAY_EVENING + timedelta(hours=24, minutes=1)) == 0
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.red


async def test_a_commit_takes_its_timers_before_the_day_counts(session: AsyncSession) -> None:
    """The sweep holds its timers from the start of its batch and adds to the day counts at its
    end: a staff action must take its timers first too, or each could wait for the other."""
    assert isinstance(session.bind, AsyncEngine)
    engine = session.bind.sync_engine
    sent: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement.split("(")[0])

    report = await add_report(session, accept_due_at=T0 + timedelta(hours=2))
    event.listen(engine, "before_cursor_execute", note)
    try:
        day_counts.note(session, StatsMetric.submitted, T0, report.region_id, None)
        clock_timers.wake(session, report.id, T0)
        await session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    written = [s.strip() for s in sent if s.startswith("INSERT")]
    assert written == ["INSERT INTO clock_timers", "INSERT INTO case_day_counts"], sent


@hypothesis_settings(max_examples=500, deadline=None)
@given(
    due=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20)),
    # Whole minutes, as a threshold is set (a float of hours finer than the microseconds of
    # Python's times can move the moment by one).
    threshold=st.integers(min_value=30, max_value=80 * 60).map(lambda minutes: minutes / 60),
    working=st.booleans(),
)
def test_the_red_cards_moment_is_the_first_the_sweep_gives_it(
    due: datetime, threshold: float, working: bool
) -> None:
    """At the moment a timer is set to, the clock is more than the threshold late (counted as
    the sweep counts it); two milliseconds earlier it is not."""
    due = due.replace(tzinfo=UTC)
    policy = clock_timers.Policy(threshold, CALENDAR)
    moment = policy.red_card_due(due, working)
    clock = SimpleNamespace(due_at=due, working_hours=working)
    late = hours_late(cast(OverdueClock, clock), moment, CALENDAR)
    assert late > threshold
    earlier = hours_late(cast(OverdueClock, clock), moment - timedelta(milliseconds=2), CALENDAR)
    assert earlier <= threshold
