"""The overdue sweep's timers kept by every action: the statistics' scenario (two weeks of cases
filed, accepted, whistled, extended, reworked, held, reopened, escalated and swept, on a frozen
clock through the API) played with the timers set exactly before each request and checked
after it; and a job's clock that is its case's only one left."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.main import create_app
from app.models import ClockTimer, Job
from app.models.enums import JobStatus, ReportStatus, SupervisionLevel
from tests.conftest import DatabaseFactory, LoginFn, make_test_settings
from tests.stats import test_stats_scenario as story
from tests.workflow.clock_timer_checks import assert_timers_cover, set_exactly
from tests.workflow.test_overdue import LEAD_UNIT, T0, add_job, add_report, fresh, sweep


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
