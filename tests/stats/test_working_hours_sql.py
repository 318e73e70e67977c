"""Office hours between two moments, as the statistics compute them in SQL from the
``working_days`` table, equal the working calendar's own count — across weekends, lunch
breaks, public holidays, make-up working days and a day an administrator set — on the test's
database; and a moment's China day is its day at midnight Beijing time."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.calendar.working_days import WorkingDaysKeeper
from app.cases.day_counts import day_number
from app.core.workcalendar import CHINA_TZ, WorkingCalendar
from app.models import WorkingDay
from app.models.base import UTCDateTime
from app.stats.timesql import (
    china_day_number,
    day_from_number,
    working_seconds_at,
)

# 2026-01-04 (a Sunday) was made a working day for the New Year holiday; 2025-10-01..08 were
# the National Day holiday; 2027-03-03 (a Wednesday) is made a holiday here by an override.
OVERRIDDEN_HOLIDAY = date(2027, 3, 3)
CALENDAR = WorkingCalendar(overrides={OVERRIDDEN_HOLIDAY: False})


def _moment(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA_TZ).astimezone(UTC)


def _pairs() -> list[tuple[datetime, datetime]]:
    chosen = [
        # Friday evening to Monday 10:00: one working hour.
        (_moment(date(2026, 11, 27), 19), _moment(date(2026, 11, 30), 10)),
        # Across the lunch break: 11:30 to 13:30 is one hour.
        (_moment(date(2026, 11, 30), 11, 30), _moment(date(2026, 11, 30), 13, 30)),
        # Over the National Day holiday into the make-up Saturday.
        (_moment(date(2025, 9, 30), 17), _moment(date(2025, 10, 11), 10)),
        # A make-up Sunday counts; the overridden Wednesday does not.
        (_moment(date(2026, 1, 3), 12), _moment(date(2026, 1, 5), 9)),
        (_moment(date(2027, 3, 2), 17), _moment(date(2027, 3, 4), 10)),
        # Moments outside office hours on the same day.
        (_moment(date(2026, 12, 1), 6), _moment(date(2026, 12, 1), 23)),
    ]
    rng = random.Random(20261204)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for _ in range(60):
        first = start + timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
        chosen.append((first, first + timedelta(minutes=rng.randrange(0, 40 * 24 * 60))))
    return chosen


async def _sql_hours(session: AsyncSession, start: datetime, end: datetime) -> float:
    def at(moment: datetime) -> Any:
        day, value = aliased(WorkingDay), literal(moment, UTCDateTime())
        return (
            select(working_seconds_at(value, day))
            .where(day.day_number == china_day_number(value))
            .scalar_subquery()
        )

    seconds = await session.scalar(select(at(end) - at(start)))
    assert seconds is not None, f"{start} or {end} is not in the working-days table"
    return float(seconds) / 3600


async def test_office_hours_in_sql_equal_the_calendars(app: FastAPI, session: AsyncSession) -> None:
    await WorkingDaysKeeper(app.state.sessionmaker).ensure_current(CALENDAR)
    for start, end in _pairs():
        expected = CALENDAR.working_hours_between(start, end)
        assert await _sql_hours(session, start, end) == pytest.approx(expected, abs=1e-6), (
            start,
            end,
        )


async def test_the_table_follows_a_changed_calendar(app: FastAPI, session: AsyncSession) -> None:
    keeper = WorkingDaysKeeper(app.state.sessionmaker)
    start, end = _moment(date(2027, 3, 2), 17), _moment(date(2027, 3, 4), 10)
    await keeper.ensure_current(WorkingCalendar())
    assert await _sql_hours(session, start, end) == pytest.approx(10.0)  # 1 + 8 + 1
    await keeper.ensure_current(CALENDAR)
    await session.rollback()  # read what the keeper committed
    assert await _sql_hours(session, start, end) == pytest.approx(2.0)  # the Wednesday is off


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (_moment(date(2026, 12, 31), 23, 30), date(2026, 12, 31)),
        (_moment(date(2027, 1, 1), 0, 10), date(2027, 1, 1)),
        (_moment(date(2027, 1, 4), 0, 0), date(2027, 1, 4)),
        (_moment(date(2027, 1, 3), 23, 59), date(2027, 1, 3)),
    ],
)
async def test_days_turn_at_midnight_beijing_time(
    session: AsyncSession, moment: datetime, day: date
) -> None:
    """The China day of a moment in SQL (counting from the cases) is the one the service keys
    its counts per day by (app/cases/day_counts.py)."""
    number = await session.scalar(select(china_day_number(literal(moment, UTCDateTime()))))
    assert number is not None
    assert day_from_number(number) == day
    assert day_number(moment) == number
