"""Reading and changing the working calendar.

Every change bumps the ``calendar_revision`` row first, in the change's transaction: other
processes notice the new revision within their refresh interval, and on PostgreSQL the row lock
makes two administrators' changes wait for each other instead of interleaving."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar.exceptions import NoOverride
from app.calendar.schemas import (
    CalendarCoverage,
    CalendarDayRead,
    CalendarOverrideRead,
    CalendarOverrideWrite,
    CalendarRange,
    CalendarYearDay,
    CalendarYearRead,
)
from app.core.errors import FieldError, ValidationFailed
from app.core.workcalendar import FIRST_CALENDAR_YEAR, LAST_CALENDAR_YEAR, WorkingCalendar
from app.models import CalendarDay, CalendarRevision

# /readyz and GET /calendar warn when the calendar is not known this far ahead.
COVERAGE_HORIZON_DAYS = 60
# A year and a leap day: a dashboard asks for a year at most.
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class DayToSet:
    day: date
    is_workday: bool
    name: str


def check_year(year: int, loc: Sequence[str | int]) -> None:
    if not FIRST_CALENDAR_YEAR <= year <= LAST_CALENDAR_YEAR:
        raise ValidationFailed.at(
            loc, f"the year must be within {FIRST_CALENDAR_YEAR}–{LAST_CALENDAR_YEAR}"
        )


def coverage(calendar: WorkingCalendar, today: date) -> CalendarCoverage:
    covered_until = calendar.covered_until(today)
    horizon = today + timedelta(days=COVERAGE_HORIZON_DAYS)
    if covered_until is not None and covered_until >= horizon:
        return CalendarCoverage(covered_until=covered_until, warning=None)
    first_unknown = covered_until + timedelta(days=1) if covered_until else today
    return CalendarCoverage(
        covered_until=covered_until,
        warning=(
            f"the working days of {first_unknown.year} are neither published nor set: from "
            f"{first_unknown} deadlines count Monday to Friday; import the year's schedule"
        ),
    )


def explain_range(
    calendar: WorkingCalendar, first_day: date, last_day: date, today: date
) -> CalendarRange:
    if last_day < first_day:
        raise ValidationFailed.at(["query", "to"], "must not be before `from`")
    if (last_day - first_day).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed.at(["query", "to"], f"at most {MAX_RANGE_DAYS} days at a time")
    days = []
    day = first_day
    while day <= last_day:
        explained = calendar.explain(day)
        days.append(
            CalendarDayRead(
                date=day,
                is_workday=explained.is_workday,
                source=explained.source,
                name=explained.name,
            )
        )
        day += timedelta(days=1)
    return CalendarRange.model_validate(
        {
            "from": first_day,
            "to": last_day,
            "days": days,
            **coverage(calendar, today).model_dump(),
        }
    )


async def _bump_revision(session: AsyncSession, now: datetime) -> None:
    await session.execute(
        update(CalendarRevision)
        .where(CalendarRevision.id == 1)
        .values(revision=CalendarRevision.revision + 1, changed_at=now)
    )


async def get_override(session: AsyncSession, day: date) -> CalendarOverrideRead:
    row = await session.get(CalendarDay, day)
    if row is None:
        raise NoOverride(f"{day} follows the published schedule or the weekday rule")
    return CalendarOverrideRead.model_validate(row)


async def set_override(
    session: AsyncSession,
    day: date,
    body: CalendarOverrideWrite,
    set_by_id: uuid.UUID | None,
    now: datetime,
) -> CalendarOverrideRead:
    check_year(day.year, ["path", "day"])
    await _bump_revision(session, now)
    row = await session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day, created_at=now)
        session.add(row)
    row.is_workday = body.is_workday
    row.name = body.name
    row.set_by_id = set_by_id
    row.updated_at = now
    await session.flush()
    return CalendarOverrideRead.model_validate(row)


async def delete_override(session: AsyncSession, day: date, now: datetime) -> None:
    await _bump_revision(session, now)
    deleted = await session.execute(
        delete(CalendarDay).where(CalendarDay.day == day).returning(CalendarDay.day)
    )
    if deleted.first() is None:
        raise NoOverride(f"{day} follows the published schedule or the weekday rule")


async def read_year(session: AsyncSession, year: int) -> CalendarYearRead:
    check_year(year, ["path", "year"])
    rows = await session.scalars(
        select(CalendarDay)
        .where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(CalendarDay.day)
    )
    return CalendarYearRead(
        year=year, days=[CalendarOverrideRead.model_validate(row) for row in rows]
    )


def check_year_list(year: int, days: Sequence[CalendarYearDay]) -> list[DayToSet]:
    """The body of ``PUT /admin/calendar/{year}``: every day in that year, none twice; 422
    naming each bad entry otherwise."""
    check_year(year, ["path", "year"])
    errors: list[FieldError] = []
    seen: dict[date, int] = {}
    for index, entry in enumerate(days):
        loc: list[str | int] = ["body", "days", index, "date"]
        if entry.date.year != year:
            errors.append(FieldError(loc=loc, msg=f"{entry.date} is not in {year}"))
        elif entry.date in seen:
            errors.append(
                FieldError(
                    loc=loc, msg=f"duplicate date {entry.date} (first at {seen[entry.date]})"
                )
            )
        else:
            seen[entry.date] = index
    if errors:
        raise ValidationFailed(
            f"{len(errors)} bad day(s); nothing was changed: "
            + "; ".join(f"days[{e.loc[2]}]: {e.msg}" for e in errors[:5]),
            errors=errors,
        )
    return [DayToSet(entry.date, entry.is_workday, entry.name) for entry in days]


async def replace_years(
    session: AsyncSession,
    days_by_year: Mapping[int, Iterable[DayToSet]],
    set_by_id: uuid.UUID | None,
    now: datetime,
) -> dict[int, int]:
    """Each year's overrides become exactly the days given (an empty list clears the year).
    Returns how many days each year has now."""
    await _bump_revision(session, now)
    counts: dict[int, int] = {}
    for year, days in sorted(days_by_year.items()):
        await session.execute(
            delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
        )
        rows = [
            CalendarDay(
                day=entry.day,
                is_workday=entry.is_workday,
                name=entry.name,
                set_by_id=set_by_id,
                created_at=now,
                updated_at=now,
            )
            for entry in days
        ]
        session.add_all(rows)
        counts[year] = len(rows)
    await session.flush()
    return counts
