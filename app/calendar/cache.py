"""The working calendar of one process (API or worker), kept in step with the database.

Every deadline computation reads the calendar, so it lives in memory, reloaded after a change
of this process or when the ``calendar_revision`` row shows another process or the command line
changed it (see :mod:`app.core.snapshots`). The check opens its own short session rather than
the request's: a report's intake resolves the calendar before its photo work, and must not hold
a database transaction open through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.snapshots import SnapshotCache
from app.core.workcalendar import WorkingCalendar
from app.models import CalendarDay, CalendarRevision


async def read_revision(session: AsyncSession) -> int | None:
    return await session.scalar(select(CalendarRevision.revision).where(CalendarRevision.id == 1))


async def _load(session: AsyncSession, _: int | None) -> WorkingCalendar:
    return await load_calendar(session)


async def load_calendar(session: AsyncSession) -> WorkingCalendar:
    rows = (
        await session.execute(select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.name))
    ).all()
    return WorkingCalendar(
        overrides={row.day: row.is_workday for row in rows},
        names={row.day: row.name for row in rows},
    )


class CalendarCache(SnapshotCache[WorkingCalendar, int | None]):
    """The calendar in force, from memory; a :class:`~app.core.workcalendar.CalendarSource`."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        refresh_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(read_revision, _load, refresh_seconds=refresh_seconds, monotonic=monotonic)
        self._sessionmaker = sessionmaker

    async def current(self) -> WorkingCalendar:
        calendar = self.fresh()
        if calendar is not None:
            return calendar
        async with self._sessionmaker() as session:
            return await self.get(session)
