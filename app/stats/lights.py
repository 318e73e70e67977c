"""Open cases by the light of their running clock (green, yellow, red): the big screen's lamps.

A light is a reading of a clock at this moment, the same reading the case list gives each case
(app/cases/clocks.py): the accept clock until the case is accepted, then the resolve clock. It
is read for each open case in Python, since a working-hour limit is counted on the working
calendar with the holds taken out; the open cases of a period are a few thousand at most, and
only those that were ever on hold need their holds read."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.clocks import (
    CLOCK_COLUMNS,
    NO_HISTORY,
    accept_light,
    load_histories,
    reading_time,
    resolve_light,
)
from app.core.lights import ClockRules, Light
from app.core.workcalendar import WorkingCalendar
from app.models import Category, Report
from app.models.enums import OPEN_REPORT_STATUSES, HoursKind
from app.stats.schemas import LightCounts
from app.stats.selection import StatsQuery, counted_cases
from app.stats.summary import period_of


async def light_counts(
    session: AsyncSession, query: StatsQuery, calendar: WorkingCalendar
) -> LightCounts:
    """The open cases among the counted ones (filed in the period), by their light now; those
    whose clocks have stopped (resolved, waiting for verification) count as ``stopped``."""
    rows = (
        await session.execute(
            select(Report.id, *CLOCK_COLUMNS, Category.hours_kind)
            .join(Category, Category.code == Report.category_code)
            .where(*counted_cases(query), Report.status.in_(OPEN_REPORT_STATUSES))
        )
    ).all()
    held = [row.id for row in rows if row.held_seconds > 0]
    histories = await load_histories(session, held)
    rules = {
        kind: ClockRules(working=kind is HoursKind.working, calendar=calendar) for kind in HoursKind
    }
    tally: Counter[Light | None] = Counter()
    for row in rows:
        at = reading_time(row.status, row.on_hold_at, query.now)
        pauses = histories.get(row.id, NO_HISTORY).pauses
        clocks = rules[row.hours_kind]
        tally[accept_light(row, clocks, at) or resolve_light(row, clocks, at, pauses)] += 1
    return LightCounts(
        period=period_of(query),
        open=len(rows),
        green=tally[Light.green],
        yellow=tally[Light.yellow],
        red=tally[Light.red],
        stopped=tally[None],
    )
