"""The overdue sweep with a frozen clock: once-only marks, cards, holds, jobs, two workers, and
deadlines on the Chinese working calendar."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.core.workcalendar import CHINA_TZ, WorkingCalendar, due_at
from app.demo.seed import demo_id
from app.models import ClockTimer, Job, OutboxEvent, OverdueMark, Report, ReportEvent
from app.models.enums import (
    DeadlineClock,
    JobStatus,
    Priority,
    ReportSource,
    ReportStatus,
    RoutingMethod,
    SupervisionLevel,
)
from app.workflow import overdue
from app.workflow.overdue import sweep_overdue
from app.workflow.overdue_clocks import REPORT_CLOCK_JOB_ID, Stage, overdue_clock
from app.workflow.overdue_clocks import candidates as candidates_of
from tests.conftest import LoginFn

EAST = demo_id("community", "陕坝镇", "东街社区")
TOWNSHIP = demo_id("region", "陕坝镇")
COURIER = demo_id("user", "courier1")
LEAD_UNIT = demo_id("unit", "旗科协")
ASSISTING_UNIT = demo_id("unit", "旗红十字会")
CALENDAR = WorkingCalendar()
# A Monday morning in China; "fire lane" counts calendar hours, "road damage" working hours.
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=CHINA_TZ)
FIRE_LANE, ROAD = "blocked_fire_lane", "road_damage"


async def add_report(
    session: AsyncSession,
    *,
    status: ReportStatus = ReportStatus.submitted,
    category_code: str = FIRE_LANE,
    created_at: datetime = T0,
    accept_due_at: datetime | None = None,
    resolve_due_at: datetime | None = None,
    supervision_level: SupervisionLevel | None = None,
) -> Report:
    """A report of courier1 in 东街社区, written straight to the database with its deadlines
    (intake and the accept action compute them; the sweep only reads them)."""
    report = Report(
        number=f"SSP-TEST-{uuid.uuid4().hex[:10]}",
        status=status,
        category_code=category_code,
        priority=Priority.urgent,
        source=ReportSource.courier,
        description="消防通道被车堵死",
        lat=40.8436,
        lng=107.1499,
        submitted_lat=40.8436,
        submitted_lng=107.1499,
        submitted_coord_system="wgs84",
        reporter_id=COURIER,
        community_id=EAST,
        region_id=TOWNSHIP,
        routing_method=RoutingMethod.boundary,
        accept_due_at=accept_due_at,
        resolve_due_at=resolve_due_at,
        supervision_level=supervision_level,
        accepted_at=None if status is ReportStatus.submitted else created_at,
        created_at=created_at,
        updated_at=created_at,
    )
    session.add(report)
    await session.commit()
    return report


async def add_job(
    session: AsyncSession,
    report: Report,
    unit_id: uuid.UUID,
    *,
    status: JobStatus,
    accept_due_at: datetime | None = None,
    complete_due_at: datetime | None = None,
) -> Job:
    job = Job(
        report_id=report.id,
        unit_id=unit_id,
        is_lead=unit_id == LEAD_UNIT,
        status=status,
        accept_due_at=accept_due_at,
        complete_due_at=complete_due_at,
        created_at=T0,
    )
    session.add(job)
    await session.commit()
    return job


async def sweep(
    session: AsyncSession, settings: Settings, at: datetime, *, batch_size: int = 200
) -> int:
    """A sweep on the test's database; what ``session`` holds is read afresh afterwards."""
    await session.commit()
    assert isinstance(session.bind, AsyncEngine)
    sessionmaker = async_sessionmaker(session.bind, expire_on_commit=False)
    recorded = await sweep_overdue(sessionmaker, at, CALENDAR, settings, batch_size=batch_size)
    for row in list(session.identity_map.values()):
        await session.refresh(row)
    return recorded


async def marks(session: AsyncSession, report: Report) -> list[OverdueMark]:
    return list(
        await session.scalars(
            select(OverdueMark)
            .where(OverdueMark.report_id == report.id)
            .order_by(OverdueMark.clock, OverdueMark.due_at)
        )
    )


async def events(session: AsyncSession, report: Report) -> list[ReportEvent]:
    return list(
        await session.scalars(
            select(ReportEvent)
            .where(ReportEvent.report_id == report.id)
            .order_by(ReportEvent.seq)
            .execution_options(populate_existing=True)
        )
    )


async def outbox_types(session: AsyncSession, report: Report) -> list[str]:
    return list(
        await session.scalars(
            select(OutboxEvent.type)
            .where(OutboxEvent.report_id == report.id)
            .order_by(OutboxEvent.id)
        )
    )


async def fresh(session: AsyncSession, report: Report) -> Report:
    await session.refresh(report)
    return report


async def test_an_expired_accept_clock_is_recorded_once(
    session: AsyncSession, settings: Settings
) -> None:
    due = T0 + timedelta(hours=2)
    report = await add_report(session, accept_due_at=due)
    assert await sweep(session, settings, due - timedelta(minutes=1)) == 0
    assert await marks(session, report) == []
    assert await sweep(session, settings, due + timedelta(minutes=1)) == 1
    assert await sweep(session, settings, due + timedelta(minutes=2)) == 0
    assert await sweep(session, settings, due + timedelta(hours=3)) == 0

    (mark,) = await marks(session, report)
    assert (mark.job_id, mark.clock, mark.due_at) == (
        REPORT_CLOCK_JOB_ID,
        DeadlineClock.report_accept,
        due,
    )
    assert (mark.raised_to_region_id, mark.unit_id) == (TOWNSHIP, None)
    assert mark.marked_at == due + timedelta(minutes=1)
    overdue = [e for e in await events(session, report) if e.type == "overdue"]
    assert len(overdue) == 1
    assert overdue[0].is_internal
    assert overdue[0].data == {"clock": "report_accept", "due_at": due.astimezone(UTC).isoformat()}
    assert await outbox_types(session, report) == ["report.overdue", "report.supervision_raised"]
    report = await fresh(session, report)
    assert report.supervision_level is SupervisionLevel.yellow
    assert report.version == 2


async def test_the_reporter_does_not_see_the_overdue_events(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, settings: Settings
) -> None:
    report = await add_report(session, accept_due_at=T0 + timedelta(hours=2))
    await sweep(session, settings, T0 + timedelta(hours=3))
    url = f"/api/v1/reports/{report.id}/timeline"
    staff = (await client.get(url, headers=await login("staff1"))).json()
    assert [e["type"] for e in staff] == ["overdue", "supervision_raised"]
    reporter = await client.get(url, headers=await login("courier1"))
    assert reporter.status_code == 200
    assert reporter.json() == []


async def test_a_yellow_card_turns_red_once_past_the_threshold(
    session: AsyncSession, settings: Settings
) -> None:
    assert settings.overdue_red_card_after_hours == 24
    due = T0 + timedelta(hours=12)
    report = await add_report(session, status=ReportStatus.dispatched, resolve_due_at=due)
    assert await sweep(session, settings, due + timedelta(hours=1)) == 1
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.yellow
    assert await sweep(session, settings, due + timedelta(hours=23, minutes=59)) == 0
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.yellow
    assert await sweep(session, settings, due + timedelta(hours=24, minutes=1)) == 0
    assert await sweep(session, settings, due + timedelta(hours=30)) == 0

    assert (await fresh(session, report)).supervision_level is SupervisionLevel.red
    assert len(await marks(session, report)) == 1
    raised = [e.data for e in await events(session, report) if e.type == "supervision_raised"]
    assert [(d["from"], d["to"], d["clock"]) for d in raised] == [
        (None, "yellow", "report_resolve"),
        ("yellow", "red", "report_resolve"),
    ]
    assert await outbox_types(session, report) == [
        "report.overdue",
        "report.supervision_raised",
        "report.supervision_raised",
    ]


async def test_a_clock_found_long_overdue_gets_the_red_card_at_once(
    session: AsyncSession, settings: Settings
) -> None:
    due = T0 + timedelta(hours=2)
    report = await add_report(session, accept_due_at=due, supervision_level=SupervisionLevel.normal)
    assert await sweep(session, settings, due + timedelta(hours=25)) == 1
    raised = [e.data for e in await events(session, report) if e.type == "supervision_raised"]
    assert [(d["from"], d["to"]) for d in raised] == [("normal", "red")]


async def test_a_supervisors_card_is_never_lowered(
    session: AsyncSession, settings: Settings
) -> None:
    due = T0 + timedelta(hours=2)
    report = await add_report(session, accept_due_at=due, supervision_level=SupervisionLevel.red)
    assert await sweep(session, settings, due + timedelta(hours=1)) == 1
    assert [e.type for e in await events(session, report)] == ["overdue"]
    report = await fresh(session, report)
    assert (report.supervision_level, report.version) == (SupervisionLevel.red, 1)


async def test_the_red_card_threshold_is_configuration(
    session: AsyncSession, settings_for: Callable[..., Settings], database_url: str
) -> None:
    strict = settings_for(database_url, overdue_red_card_after_hours=2)
    due = T0 + timedelta(hours=2)
    report = await add_report(session, accept_due_at=due)
    await sweep(session, strict, due + timedelta(hours=1))
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.yellow
    await sweep(session, strict, due + timedelta(hours=2, minutes=1))
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.red


async def test_clocks_stopped_or_on_hold_are_not_marked(
    session: AsyncSession, settings: Settings
) -> None:
    past = T0 + timedelta(hours=1)
    held = await add_report(session, status=ReportStatus.on_hold, resolve_due_at=past)
    await add_job(session, held, LEAD_UNIT, status=JobStatus.pending, accept_due_at=past)
    await add_job(session, held, ASSISTING_UNIT, status=JobStatus.accepted, complete_due_at=past)
    resolved = await add_report(session, status=ReportStatus.resolved, resolve_due_at=past)
    rejected = await add_report(session, status=ReportStatus.rejected, accept_due_at=past)
    dispatched = await add_report(
        session, status=ReportStatus.dispatched, resolve_due_at=T0 + timedelta(days=3)
    )
    await add_job(session, dispatched, LEAD_UNIT, status=JobStatus.completed, complete_due_at=past)
    await add_job(
        session, dispatched, ASSISTING_UNIT, status=JobStatus.declined, accept_due_at=past
    )
    assert await sweep(session, settings, T0 + timedelta(days=1)) == 0
    for report in (held, resolved, rejected, dispatched):
        assert await marks(session, report) == []
        assert await events(session, report) == []

    # Resumed, the report's clocks run again (the resume moved no deadline here).
    held.status = ReportStatus.dispatched
    await session.commit()
    assert await sweep(session, settings, T0 + timedelta(days=1)) == 3
    assert {m.clock for m in await marks(session, held)} == {
        DeadlineClock.report_resolve,
        DeadlineClock.job_accept,
        DeadlineClock.job_complete,
    }


async def test_job_clocks_are_marked_with_their_unit(
    session: AsyncSession, settings: Settings
) -> None:
    report = await add_report(
        session, status=ReportStatus.dispatched, resolve_due_at=T0 + timedelta(days=3)
    )
    accept_due, complete_due = T0 + timedelta(hours=2), T0 + timedelta(hours=20)
    pending = await add_job(
        session, report, ASSISTING_UNIT, status=JobStatus.pending, accept_due_at=accept_due
    )
    working = await add_job(
        session, report, LEAD_UNIT, status=JobStatus.accepted, complete_due_at=complete_due
    )
    assert await sweep(session, settings, T0 + timedelta(hours=3)) == 1
    assert await sweep(session, settings, T0 + timedelta(hours=21)) == 1
    assert await sweep(session, settings, T0 + timedelta(hours=22)) == 0

    assert [(m.clock, m.job_id, m.unit_id, m.due_at) for m in await marks(session, report)] == [
        (DeadlineClock.job_accept, pending.id, ASSISTING_UNIT, accept_due),
        (DeadlineClock.job_complete, working.id, LEAD_UNIT, complete_due),
    ]
    overdue = [e.data for e in await events(session, report) if e.type == "overdue"]
    assert overdue == [
        {
            "clock": "job_accept",
            "due_at": accept_due.astimezone(UTC).isoformat(),
            "job_id": str(pending.id),
            "unit_id": str(ASSISTING_UNIT),
        },
        {
            "clock": "job_complete",
            "due_at": complete_due.astimezone(UTC).isoformat(),
            "job_id": str(working.id),
            "unit_id": str(LEAD_UNIT),
        },
    ]
    job_events = (
        await session.execute(
            select(OutboxEvent.type, OutboxEvent.job_id)
            .where(OutboxEvent.report_id == report.id, OutboxEvent.type == "job.overdue")
            .order_by(OutboxEvent.id)
        )
    ).all()
    assert [tuple(row) for row in job_events] == [
        ("job.overdue", pending.id),
        ("job.overdue", working.id),
    ]
    # Late units put the case under supervision, though its own resolve clock is in time.
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.yellow


async def test_an_extended_deadline_that_runs_out_is_a_new_mark(
    session: AsyncSession, settings: Settings
) -> None:
    report = await add_report(
        session, status=ReportStatus.dispatched, resolve_due_at=T0 + timedelta(days=3)
    )
    first_due = T0 + timedelta(hours=4)
    job = await add_job(
        session, report, LEAD_UNIT, status=JobStatus.accepted, complete_due_at=first_due
    )
    assert await sweep(session, settings, first_due + timedelta(hours=1)) == 1
    job.complete_due_at = first_due + timedelta(hours=8)
    await session.commit()
    assert await sweep(session, settings, first_due + timedelta(hours=2)) == 0
    assert await sweep(session, settings, first_due + timedelta(hours=9)) == 1
    assert [m.due_at for m in await marks(session, report)] == [
        first_due,
        first_due + timedelta(hours=8),
    ]


async def test_two_workers_sweeping_at_once_record_each_clock_once(
    app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    due = T0 + timedelta(hours=2)
    reports = [await add_report(session, accept_due_at=due) for _ in range(3)]
    await add_job(session, reports[0], LEAD_UNIT, status=JobStatus.pending, accept_due_at=due)

    async def worker() -> int:
        return await sweep_overdue(
            app.state.sessionmaker, due + timedelta(hours=1), CALENDAR, settings
        )

    counts = await asyncio.gather(worker(), worker())
    assert sum(counts) == 4
    ids = [r.id for r in reports]
    assert (
        await session.scalar(
            select(func.count()).select_from(OverdueMark).where(OverdueMark.report_id.in_(ids))
        )
        == 4
    )
    for report in reports:
        types = [e.type for e in await events(session, report)]
        clocks = 2 if report is reports[0] else 1
        assert types.count("overdue") == clocks
        assert types.count("supervision_raised") == 1
        outbox = await outbox_types(session, report)
        assert outbox.count("report.supervision_raised") == 1
        assert len(outbox) == clocks + 1


async def test_working_hours_deadline_falls_on_the_make_up_saturday(
    session: AsyncSession, settings: Settings
) -> None:
    # Friday 2026-10-09 17:00; Saturday 2026-10-10 is a make-up workday (调休) after the
    # National Day holiday, Sunday 2026-10-11 a rest day.
    friday = datetime(2026, 10, 9, 17, 0, tzinfo=CHINA_TZ)
    due = due_at(CALENDAR, friday, 8, working=True)
    # Office hours 9–12 and 13–18: Friday 17–18, Saturday 9–12 and 13–17.
    assert due == datetime(2026, 10, 10, 17, 0, tzinfo=CHINA_TZ)
    # Were that Saturday a rest day, the limit would run into Monday afternoon.
    without_make_up_day = WorkingCalendar(overrides={due.date(): False})
    assert due_at(without_make_up_day, friday, 8, working=True) == datetime(
        2026, 10, 12, 17, 0, tzinfo=CHINA_TZ
    )
    report = await add_report(session, category_code=ROAD, created_at=friday, accept_due_at=due)

    assert await sweep(session, settings, datetime(2026, 10, 10, 16, 59, tzinfo=CHINA_TZ)) == 0
    assert await sweep(session, settings, datetime(2026, 10, 10, 17, 1, tzinfo=CHINA_TZ)) == 1
    (mark,) = await marks(session, report)
    assert mark.due_at == due

    # The red card counts working hours too: on Monday morning the clock is 41 hours late on
    # the wall clock but 2 working hours late (Saturday 17–18, Monday 9–10).
    monday = datetime(2026, 10, 12, 10, 0, tzinfo=CHINA_TZ)
    assert await sweep(session, settings, monday) == 0
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.yellow
    # 24 working hours late: Saturday 1, Monday 8, Tuesday 8, Wednesday 9–12 and 13–17.
    wednesday = datetime(2026, 10, 14, 17, 0, tzinfo=CHINA_TZ)
    await sweep(session, settings, wednesday)
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.yellow
    await sweep(session, settings, wednesday + timedelta(minutes=1))
    assert (await fresh(session, report)).supervision_level is SupervisionLevel.red


@pytest.mark.parametrize(
    "ended", [ReportStatus.closed, ReportStatus.rejected, ReportStatus.duplicate]
)
async def test_a_job_left_open_on_an_ended_case_is_never_marked(
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
    app: FastAPI,
    ended: ReportStatus,
) -> None:
    """Rows from before closing cancelled open jobs: the case ended, so no clock of it runs."""
    past = T0 + timedelta(hours=1)
    report = await add_report(session, status=ended, resolve_due_at=past)
    pending = await add_job(
        session, report, ASSISTING_UNIT, status=JobStatus.pending, accept_due_at=past
    )
    await add_job(session, report, LEAD_UNIT, status=JobStatus.accepted, complete_due_at=past)
    supervisor = await login("supervisor")

    assert await sweep(session, settings, T0 + timedelta(weeks=3)) == 0
    assert await marks(session, report) == []
    assert await events(session, report) == []
    assert (await fresh(session, report)).supervision_level is None
    # Nothing left to do for the case: later passes do not look at it.
    timer = await session.scalar(select(ClockTimer).where(ClockTimer.report_id == report.id))
    assert timer is None

    # Nor do the unit's inbox and its lights call them overdue.
    app.state.clock = FrozenClock(T0 + timedelta(weeks=3))
    listed = (await client.get("/api/v1/jobs?overdue=true&limit=200", headers=supervisor)).json()
    assert str(report.id) not in {job["report_id"] for job in listed["items"]}
    shown = (await client.get(f"/api/v1/jobs/{pending.id}", headers=supervisor)).json()
    assert [d["light"] for d in shown["deadlines"]] == [None]


async def test_a_clock_that_stops_while_the_sweep_runs_is_not_marked(
    app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    """The sweep reads its candidates, then the case is closed (its jobs cancelled) before it
    records them: under the report's lock it sees the clock stopped and records nothing."""
    past = T0 + timedelta(hours=1)
    report = await add_report(session, status=ReportStatus.resolved, resolve_due_at=past)
    job = await add_job(
        session, report, ASSISTING_UNIT, status=JobStatus.pending, accept_due_at=past
    )
    now = T0 + timedelta(days=2)
    stage = Stage.record
    candidates = [
        overdue_clock(DeadlineClock.job_accept, stage, row)
        for row in await session.execute(
            candidates_of(DeadlineClock.job_accept, stage, now, settings)
        )
    ]
    assert [c.job_id for c in candidates] == [job.id]
    await session.commit()

    async with app.state.sessionmaker() as other:
        await other.execute(
            update(Report).where(Report.id == report.id).values(status=ReportStatus.closed)
        )
        await other.execute(update(Job).where(Job.id == job.id).values(status=JobStatus.cancelled))
        await other.commit()

    assert await overdue._process(session, candidates, now, CALENDAR, settings) == 0
    await session.commit()
    assert await marks(session, report) == []
    assert (await fresh(session, report)).supervision_level is None
