"""Deadlines in calendar or working hours on the Chinese working calendar.

A working day is a weekday that is not a public holiday, or a weekend day made a working day
(调休 make-up day). The calendar comes from, in order: dates an administrator set by hand, the
chinese-calendar package's published State Council schedule, and plain Monday–Friday for years
that schedule does not cover yet (each December the next year's schedule is published; until
the package or an administrator adds it, the weekdays rule keeps deadlines computable)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache

import chinese_calendar

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

# Office hours of a working day, China time: 09:00–12:00 and 13:00–18:00, eight hours.
DEFAULT_OFFICE_HOURS: tuple[tuple[time, time], ...] = (
    (time(9, 0), time(12, 0)),
    (time(13, 0), time(18, 0)),
)


@lru_cache(maxsize=4096)
def _published_workday(day: date) -> bool | None:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class WorkingCalendar:
    overrides: Mapping[date, bool] = field(default_factory=dict)
    office_hours: tuple[tuple[time, time], ...] = DEFAULT_OFFICE_HOURS

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        published = _published_workday(day)
        return published if published is not None else day.weekday() < 5

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` of office time after ``start`` (aware; returned in UTC)."""
        if hours < 0:
            raise ValueError("hours must not be negative")
        remaining = timedelta(hours=hours)
        local = start.astimezone(CHINA_TZ)
        day = local.date()
        cursor = local
        # A limit of a year of working hours crosses at most ~400 days; the bound stops a loop
        # on a calendar an administrator made with no working days at all.
        for _ in range(3660):
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
