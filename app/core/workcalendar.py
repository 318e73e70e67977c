"""Deadlines in calendar or working hours on the Chinese working calendar.

A working day is a weekday that is not a public holiday, or a weekend day made a working day
(调休 make-up day). The calendar comes from, in order: days an administrator set (the
``calendar_days`` table, kept in memory by app/calendar/cache.py), the chinese-calendar
package's published State Council schedule, and plain Monday–Friday for years neither covers
(each December the next year's schedule is published, usually before the package has it; until
an administrator imports it, the weekday rule keeps deadlines computable, with a warning in the
logs and the ``ssp_calendar_uncovered_deadlines_total`` counter)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Protocol

import chinese_calendar

from app.core.metrics import CALENDAR_UNCOVERED_DEADLINES

log = logging.getLogger("app.core.workcalendar")

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

# Office hours of a working day, China time: 09:00–12:00 and 13:00–18:00, eight hours.
DEFAULT_OFFICE_HOURS: tuple[tuple[time, time], ...] = (
    (time(9, 0), time(12, 0)),
    (time(13, 0), time(18, 0)),
)

# The years an administrator may set days for: a typo such as 2207 is refused, not stored.
FIRST_CALENDAR_YEAR, LAST_CALENDAR_YEAR = 2000, 2100

_CHINESE_HOLIDAY_NAMES = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}


class DaySource(StrEnum):
    """Why a day is or is not a working day."""

    published = "published"  # the State Council schedule, as the chinese-calendar package has it
    override = "override"  # set by an administrator
    weekday_rule = "weekday_rule"  # neither knows the year: Monday to Friday


@dataclass(frozen=True, slots=True)
class DayExplained:
    day: date
    is_workday: bool
    source: DaySource
    name: str | None


@lru_cache(maxsize=4096)
def _published_day(day: date) -> tuple[bool, str | None] | None:
    """Whether the published schedule makes ``day`` a working day, and the holiday it belongs to
    (in Chinese; a make-up day is "<holiday>调休"); None for a year the package does not know."""
    try:
        is_holiday, english_name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    name = _CHINESE_HOLIDAY_NAMES.get(english_name, english_name) if english_name else None
    if name is not None and not is_holiday:
        name = f"{name}调休"
    return (not is_holiday, name)


@lru_cache(maxsize=256)
def is_published_year(year: int) -> bool:
    return _published_day(date(year, 6, 1)) is not None


# Years this process has already warned about: the log says it once, the counter every time.
_warned_uncovered_years: set[int] = set()


def _note_uncovered_year(year: int) -> None:
    CALENDAR_UNCOVERED_DEADLINES.labels(year=str(year)).inc()
    if year not in _warned_uncovered_years:
        _warned_uncovered_years.add(year)
        log.warning(
            "no working calendar for %d: neither the published schedule nor an administrator "
            "covers it, so its deadlines count Monday to Friday as working days; import the "
            "year's schedule (python -m app calendar import FILE)",
            year,
        )


class CalendarSource(Protocol):
    """Where a process gets the calendar now in force (see app/calendar/cache.py)."""

    async def current(self) -> WorkingCalendar: ...


@dataclass(frozen=True)
class WorkingCalendar:
    overrides: Mapping[date, bool] = field(default_factory=dict)
    office_hours: tuple[tuple[time, time], ...] = DEFAULT_OFFICE_HOURS
    # The overrides' names ("春节", "国庆节调休"), for explaining a day.
    names: Mapping[date, str] = field(default_factory=dict)

    async def current(self) -> WorkingCalendar:
        """A fixed calendar is its own source (tests, and code that holds one already)."""
        return self

    @cached_property
    def _override_years(self) -> frozenset[int]:
        return frozenset(day.year for day in self.overrides)

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        published = _published_day(day)
        return published[0] if published is not None else day.weekday() < 5

    def explain(self, day: date) -> DayExplained:
        """Whether ``day`` is a working day, and why."""
        if day in self.overrides:
            return DayExplained(day, self.overrides[day], DaySource.override, self.names.get(day))
        published = _published_day(day)
        if published is not None:
            return DayExplained(day, published[0], DaySource.published, published[1])
        return DayExplained(day, day.weekday() < 5, DaySource.weekday_rule, None)

    def is_covered(self, year: int) -> bool:
        """Whether the year's working days are known: published, or set by an administrator."""
        return year in self._override_years or is_published_year(year)

    def covered_until(self, today: date) -> date | None:
        """The last day of the unbroken run of covered years from ``today``'s; None when even
        this year is not covered."""
        year = today.year
        if not self.is_covered(year):
            return None
        while year < LAST_CALENDAR_YEAR and self.is_covered(year + 1):
            year += 1
        return date(year, 12, 31)

    @cached_property
    def tabled(self) -> TabledDays:
        """The calendar as rows of the ``working_days`` table, and their digest (computed once
        per calendar: some 18,000 days)."""
        return tabulate(self)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` of office time after ``start`` (aware; returned in UTC)."""
        if hours < 0:
            raise ValueError("hours must not be negative")
        remaining = timedelta(hours=hours)
        local = start.astimezone(CHINA_TZ)
        day = local.date()
        cursor = local
        year_checked = None
        # A limit of a year of working hours crosses at most ~400 days; the bound stops a loop
        # on a calendar an administrator made with no working days at all.
        for _ in range(3660):
            if day.year != year_checked:
                year_checked = day.year
                if not self.is_covered(day.year):
                    _note_uncovered_year(day.year)
            if self.is_workday(day):
                for opens, closes in self.office_hours:
                    window_start = datetime.combine(day, opens, CHINA_TZ)
                    window_end = datetime.combine(day, closes, CHINA_TZ)
                    begin = max(window_start, cursor)
                    if begin >= window_end:
                        continue
                    available = window_end - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= available
                    cursor = window_end
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0, 0), CHINA_TZ)
        raise ValueError("no working time in the next ten years of the calendar")

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Office hours elapsed from ``start`` to ``end`` (0 when end is not after start)."""
        if end <= start:
            return 0.0
        total = timedelta()
        local_start, local_end = start.astimezone(CHINA_TZ), end.astimezone(CHINA_TZ)
        day = local_start.date()
        while day <= local_end.date():
            if self.is_workday(day):
                for opens, closes in self.office_hours:
                    begin = max(datetime.combine(day, opens, CHINA_TZ), local_start)
                    finish = min(datetime.combine(day, closes, CHINA_TZ), local_end)
                    if finish > begin:
                        total += finish - begin
            day += timedelta(days=1)
        return total.total_seconds() / 3600


def due_at(calendar: WorkingCalendar, start: datetime, hours: float, working: bool) -> datetime:
    """When a limit of ``hours`` started at ``start`` runs out."""
    if working:
        return calendar.add_working_hours(start, hours)
    return (start + timedelta(hours=hours)).astimezone(UTC)


def china_today(now: datetime) -> date:
    return now.astimezone(CHINA_TZ).date()


# The days the ``working_days`` table holds (statistics of working-hour categories read it):
# cases filed before the first or measured after the last are left out of working-hour means.
FIRST_TABLED_DAY, LAST_TABLED_DAY = date(2010, 1, 1), date(2060, 12, 31)
EPOCH_DAY = date(1970, 1, 1)
_TABLED_DAYS = (LAST_TABLED_DAY - FIRST_TABLED_DAY).days + 1


@dataclass(frozen=True)
class TabledDays:
    # (day number since 1970-01-01, is a working day, office seconds of the days before it)
    rows: tuple[tuple[int, bool, float], ...]
    digest: str


def office_seconds(office_hours: tuple[tuple[time, time], ...]) -> float:
    return sum(
        (datetime.combine(EPOCH_DAY, closes) - datetime.combine(EPOCH_DAY, opens)).total_seconds()
        for opens, closes in office_hours
    )


@lru_cache(maxsize=1)
def _tabled_without_overrides() -> tuple[bool, ...]:
    """Whether each tabled day is a working day by the published schedule or the weekday rule:
    the same for every calendar of a process, so worked out once."""
    days = (FIRST_TABLED_DAY + timedelta(days=offset) for offset in range(_TABLED_DAYS))
    return tuple(
        chinese_calendar.is_workday(day) if is_published_year(day.year) else day.weekday() < 5
        for day in days
    )


def tabulate(calendar: WorkingCalendar) -> TabledDays:
    per_day = office_seconds(calendar.office_hours)
    workdays = list(_tabled_without_overrides())
    for day, is_workday in calendar.overrides.items():
        if FIRST_TABLED_DAY <= day <= LAST_TABLED_DAY:
            workdays[(day - FIRST_TABLED_DAY).days] = is_workday
    first = (FIRST_TABLED_DAY - EPOCH_DAY).days
    rows: list[tuple[int, bool, float]] = []
    worked = 0.0
    for offset, is_workday in enumerate(workdays):
        rows.append((first + offset, is_workday, worked))
        worked += per_day if is_workday else 0.0
    fingerprint = hashlib.sha256(repr(calendar.office_hours).encode())
    fingerprint.update(bytes(is_workday for _, is_workday, _ in rows))
    return TabledDays(rows=tuple(rows), digest=fingerprint.hexdigest())
