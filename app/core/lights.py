"""The light of a running clock: green under 80 % of its limit used, yellow from 80 %, red when
overdue. Shared by reports and jobs.

A clock's limit is the time between its start and its deadline, counted in the hours its
deadline was set in: office hours on the working calendar for a working-hour limit (a job
dispatched on Friday evening has used none of it by Monday morning), wall-clock hours
otherwise. Time the case spent on hold (挂账) is neither used nor allowed: resuming moved the
deadline later by exactly that time, so it is taken out of both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.core.workcalendar import WorkingCalendar

YELLOW_FROM = 0.8  # share of a limit used from which a clock shows yellow


class Light(StrEnum):
    green = "green"
    yellow = "yellow"
    red = "red"


@dataclass(frozen=True, slots=True)
class Pause:
    """A hold of the case that ended (hold → resume): every clock stood still meanwhile."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ClockRules:
    """How a case's clocks count: in working hours or not, on which calendar."""

    working: bool
    calendar: WorkingCalendar

    def hours(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        if self.working:
            return self.calendar.working_hours_between(start, end)
        return (end - start).total_seconds() / 3600


def light(
    started_at: datetime,
    due_at: datetime,
    now: datetime,
    rules: ClockRules,
    pauses: Sequence[Pause] = (),
) -> Light:
    """The light of a clock started at ``started_at`` and due at ``due_at``, read at ``now``
    (the moment the case was put on hold, while it is on hold)."""
    if now >= due_at:
        return Light.red
    # One walk over the calendar: the hours used so far and the hours left add up to the limit.
    used = rules.hours(started_at, now)
    left = rules.hours(now, due_at)
    for pause in pauses:
        # A hold ended before ``now``: its hours sit in ``used`` only (when it overlaps the clock).
        used -= rules.hours(max(pause.start, started_at), min(pause.end, now))
    limit = used + left
    return Light.yellow if limit <= 0 or used >= YELLOW_FROM * limit else Light.green
