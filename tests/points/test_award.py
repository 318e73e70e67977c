"""Awarding points: once per (report, rule), caps, category amounts, who earns."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.workcalendar import CHINA_TZ
from app.demo.seed import demo_id
from app.models import Category, PointsEntry, Report
from app.models.enums import ReportStatus
from app.points.service import award
from tests.points.conftest import (
    EAST,
    SF_BRANCH,
    SF_COMPANY,
    SOUTH,
    ZTO_BRANCH,
    ZTO_COMPANY,
    AwardFn,
    FileReportFn,
    ledger_rows,
)

NOV_20 = datetime(2026, 11, 20, 10, 0, tzinfo=CHINA_TZ)


async def test_acceptance_pays_the_reporter_once_with_where_they_stood(
    file_report: FileReportFn, pay: AwardFn, session: AsyncSession
) -> None:
    report = await file_report("courier1")
    first = await pay(report, "accepted", NOV_20)
    assert first is not None
    assert (first.points, first.points_before_cap) == (10, 10)
    assert await pay(report, "accepted", NOV_20 + timedelta(minutes=5)) is None
    (row,) = await ledger_rows(session, "courier1")
    assert row.user_id == demo_id("user", "courier1")
    assert (row.report_id, row.rule, row.points) == (report.id, "accepted", 10)
    assert (row.community_id, row.branch_id, row.company_id) == (EAST, SF_BRANCH, SF_COMPANY)
    assert row.created_at == NOV_20


async def test_two_sessions_awarding_at_once_record_one_entry(
    app: FastAPI, file_report: FileReportFn, settings: Settings, session: AsyncSession
) -> None:
    report = await file_report("courier2")

    async def accept_in_its_own_transaction() -> PointsEntry | None:
        async with app.state.sessionmaker() as own:
            mine = await own.get_one(Report, report.id)
            entry = await award(own, mine, "accepted", NOV_20, settings)
            await own.commit()
            return entry

    results = await asyncio.gather(accept_in_its_own_transaction(), accept_in_its_own_transaction())
    assert sorted(entry is not None for entry in results) == [False, True]
    rows = await ledger_rows(session, "courier2")
    assert [(r.rule, r.points, r.branch_id, r.company_id) for r in rows] == [
        ("accepted", 10, ZTO_BRANCH, ZTO_COMPANY)
    ]


async def test_two_acceptances_at_once_stay_within_the_daily_cap(
    app: FastAPI,
    file_report: FileReportFn,
    settings_for: Callable[..., Settings],
    database_url: str,
    session: AsyncSession,
) -> None:
    capped = settings_for(database_url, points_daily_cap=15)
    reports = [await file_report("courier1") for _ in range(2)]

    async def accept_in_its_own_transaction(report_id: uuid.UUID) -> PointsEntry | None:
        async with app.state.sessionmaker() as own:
            report = await own.get_one(Report, report_id)
            # As the accept action does: the report changes first, then the award.
            report.status = ReportStatus.accepted
            await own.flush()
            entry = await award(own, report, "accepted", NOV_20, capped)
            await own.commit()
            return entry

    results = await asyncio.gather(
        *(accept_in_its_own_transaction(report.id) for report in reports)
    )
    assert sorted(entry.points for entry in results if entry is not None) == [5, 10]
    assert sum(r.points for r in await ledger_rows(session, "courier1")) == 15


async def test_daily_cap_cuts_awards_and_keeps_what_it_cut(
    file_report: FileReportFn,
    pay: AwardFn,
    settings_for: Callable[..., Settings],
    database_url: str,
    session: AsyncSession,
) -> None:
    capped = settings_for(database_url, points_daily_cap=15)
    reports = [await file_report("courier1") for _ in range(5)]
    morning = datetime(2026, 11, 20, 9, 0, tzinfo=CHINA_TZ)
    paid = [
        await pay(report, "accepted", morning + timedelta(hours=hour), capped)
        for hour, report in enumerate(reports[:3])
    ]
    assert [(e.points, e.points_before_cap) for e in paid if e] == [(10, 10), (5, 10), (0, 10)]
    # The award cut to nothing is recorded, so a later day does not pay it after all.
    assert await pay(reports[2], "accepted", morning + timedelta(days=1), capped) is None
    # The day is China's: 23:59 is still the capped day, 00:01 the next one.
    last_minute = await pay(
        reports[3], "accepted", datetime(2026, 11, 20, 23, 59, tzinfo=CHINA_TZ), capped
    )
    next_day = await pay(
        reports[4], "accepted", datetime(2026, 11, 21, 0, 1, tzinfo=CHINA_TZ), capped
    )
    assert last_minute is not None
    assert last_minute.points == 0
    assert next_day is not None
    assert next_day.points == 10
    assert sum(r.points for r in await ledger_rows(session, "courier1")) == 25


async def test_monthly_cap_holds_across_days_and_resets_with_the_china_month(
    file_report: FileReportFn,
    pay: AwardFn,
    settings_for: Callable[..., Settings],
    database_url: str,
) -> None:
    capped = settings_for(database_url, points_daily_cap=50, points_monthly_cap=25)
    reports = [await file_report("courier1") for _ in range(5)]
    times = [
        datetime(2026, 11, 27, 10, 0, tzinfo=CHINA_TZ),
        datetime(2026, 11, 28, 10, 0, tzinfo=CHINA_TZ),
        datetime(2026, 11, 29, 10, 0, tzinfo=CHINA_TZ),
        datetime(2026, 11, 30, 23, 30, tzinfo=CHINA_TZ),
        # 2026-11-30 16:30 UTC: already December in China.
        datetime(2026, 12, 1, 0, 30, tzinfo=CHINA_TZ),
    ]
    paid = [
        await pay(report, "accepted", at, capped) for report, at in zip(reports, times, strict=True)
    ]
    assert [e.points for e in paid if e] == [10, 10, 5, 0, 10]
    assert [e.points_before_cap for e in paid if e] == [10] * 5


async def test_close_bonus_counts_against_the_caps(
    file_report: FileReportFn,
    pay: AwardFn,
    settings_for: Callable[..., Settings],
    database_url: str,
) -> None:
    capped = settings_for(database_url, points_daily_cap=12)
    report = await file_report("courier1")
    accepted = await pay(report, "accepted", NOV_20, capped)
    bonus = await pay(report, "closed_bonus", NOV_20 + timedelta(hours=3), capped)
    assert accepted is not None
    assert accepted.points == 10
    assert bonus is not None
    assert (bonus.points, bonus.points_before_cap) == (2, 5)


async def test_categories_override_the_amounts(
    file_report: FileReportFn, pay: AwardFn, session: AsyncSession
) -> None:
    parking = await session.get_one(Category, "chaotic_parking")
    parking.points_on_accept, parking.points_close_bonus = 20, 8
    await session.commit()
    special = await file_report("courier1")
    plain = await file_report("courier1", category_code="road_damage")
    awarded = [
        await pay(special, "accepted", NOV_20),
        await pay(special, "closed_bonus", NOV_20),
        await pay(plain, "accepted", NOV_20),
        await pay(plain, "closed_bonus", NOV_20),
    ]
    assert [e.points for e in awarded if e is not None] == [20, 8, 10, 5]


async def test_a_category_that_pays_nothing_records_nothing(
    file_report: FileReportFn, pay: AwardFn, session: AsyncSession
) -> None:
    parking = await session.get_one(Category, "chaotic_parking")
    parking.points_close_bonus = 0
    await session.commit()
    report = await file_report("resident1")
    assert await pay(report, "accepted", NOV_20) is not None
    assert await pay(report, "closed_bonus", NOV_20) is None
    assert [r.rule for r in await ledger_rows(session, "resident1")] == ["accepted"]


async def test_hotline_and_assigned_cases_earn_nothing(
    file_report: FileReportFn, pay: AwardFn, session: AsyncSession
) -> None:
    for source in ("hotline", "assigned"):
        report = await file_report("staff1", source=source)
        assert report.source == source
        assert await pay(report, "accepted", NOV_20) is None
        assert await pay(report, "closed_bonus", NOV_20) is None
    assert await ledger_rows(session, "staff1") == []


async def test_residents_and_grid_workers_earn_without_a_branch(
    file_report: FileReportFn, pay: AwardFn, session: AsyncSession
) -> None:
    resident = await file_report("resident1", community=SOUTH)
    patrol = await file_report("grid1")
    assert patrol.source == "grid_patrol"
    assert await pay(resident, "accepted", NOV_20) is not None
    assert await pay(patrol, "accepted", NOV_20) is not None
    for user, community in (("resident1", SOUTH), ("grid1", EAST)):
        (row,) = await ledger_rows(session, user)
        assert (row.points, row.community_id, row.branch_id, row.company_id) == (
            10,
            community,
            None,
            None,
        )


async def test_a_case_reopened_and_closed_again_pays_no_second_bonus(
    file_report: FileReportFn, pay: AwardFn, session: AsyncSession
) -> None:
    report = await file_report("courier1")
    assert await pay(report, "accepted", NOV_20) is not None
    report.status = ReportStatus.closed
    await session.commit()
    assert await pay(report, "closed_bonus", NOV_20 + timedelta(days=1)) is not None
    report.status, report.reopen_count = ReportStatus.accepted, 1
    await session.commit()
    report.status = ReportStatus.closed
    await session.commit()
    assert await pay(report, "closed_bonus", NOV_20 + timedelta(days=3)) is None
    rows = await ledger_rows(session, "courier1")
    assert [(r.rule, r.points) for r in rows] == [("accepted", 10), ("closed_bonus", 5)]
