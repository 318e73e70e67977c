"""Checks of the overdue sweep's timers against the cases: each case with a running clock has a
timer no later than the next moment the sweep has anything to do for it. Before an action the
timers are set to those moments exactly, so that an action which starts a clock or moves a
deadline without waking its case is caught, whatever timers were set before."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar.cache import load_calendar
from app.cases import clock_timers
from app.core.config import Settings
from app.models import ClockTimer, Report


async def timer_of(session: AsyncSession, report: Report) -> datetime | None:
    """When the sweep looks at the case next (None: it has no timer)."""
    due = await session.scalar(select(ClockTimer.due_at).where(ClockTimer.report_id == report.id))
    await session.commit()
    return due


async def _policy(session: AsyncSession, settings: Settings) -> clock_timers.Policy:
    calendar = await load_calendar(session)
    return clock_timers.Policy(settings.overdue_red_card_after_hours, calendar)


async def _cases(session: AsyncSession, case_ids: Collection[uuid.UUID] | None) -> list[uuid.UUID]:
    if case_ids is not None:
        return list(case_ids)
    return list(await session.scalars(select(Report.id)))


async def set_exactly(
    session: AsyncSession, settings: Settings, case_ids: Collection[uuid.UUID] | None = None
) -> None:
    """Each case's timer at its next moment exactly (none for a case with nothing to do)."""
    cases = await _cases(session, case_ids)
    moments = await clock_timers.next_moments(session, cases, await _policy(session, settings))
    await session.execute(delete(ClockTimer).where(ClockTimer.report_id.in_(cases)))
    if moments:
        rows = [
            {"report_id": case, "due_at": m.at, "waits_for_red_card": m.waits_for_red_card}
            for case, m in moments.items()
        ]
        await session.execute(insert(ClockTimer), rows)
    await session.commit()


async def assert_timers_cover(
    session: AsyncSession, settings: Settings, case_ids: Collection[uuid.UUID] | None = None
) -> None:
    """Every case with something to do for the sweep has a timer no later than that."""
    session.expire_all()
    cases = await _cases(session, case_ids)
    moments = await clock_timers.next_moments(session, cases, await _policy(session, settings))
    rows = await session.execute(select(ClockTimer.report_id, ClockTimer.due_at))
    timers = {row.report_id: row.due_at for row in rows}
    await session.commit()
    late = {
        case: (timers.get(case), moment.at)
        for case, moment in moments.items()
        if case not in timers or timers[case] > moment.at
    }
    assert not late, f"timers (found, wanted) later than the cases' next moments: {late}"
