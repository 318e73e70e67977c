"""The working calendar of one process (API or worker), kept in step with the database.

Every deadline computation reads the calendar, so it lives in memory. It goes stale in two
ways: a change made by this process (the write's route calls
:meth:`CalendarCache.invalidate_after_commit`, and the next use reloads) or a change made by
another process or the command line, noticed by comparing the ``calendar_revision`` row at most
every ``refresh_seconds``. The check opens its own short session rather than the request's:
a report's intake resolves the calendar before its photo work, and must not hold a database
transaction open through it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from app.core.workcalendar import WorkingCalendar
from app.models import CalendarDay, CalendarRevision


@dataclass(frozen=True, slots=True)
class _Snapshot:
    revision: int | None
    generation: int
    calendar: WorkingCalendar


async def read_revision(session: AsyncSession) -> int | None:
    return await session.scalar(select(CalendarRevision.revision).where(CalendarRevision.id == 1))


async def load_calendar(session: AsyncSession) -> WorkingCalendar:
    rows = (
        await session.execute(select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.name))
    ).all()
    return WorkingCalendar(
        overrides={row.day: row.is_workday for row in rows},
        names={row.day: row.name for row in rows},
    )


class CalendarCache:
    """The calendar in force, from memory; a :class:`~app.core.workcalendar.CalendarSource`."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        refresh_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._snapshot: _Snapshot | None = None
        # Bumped by every committed change of this process; an older snapshot is stale whatever
        # the revision says.
        self._generation = 0
        self._next_check = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> WorkingCalendar:
        snapshot = self._snapshot
        if snapshot is not None and self._is_fresh(snapshot):
            return snapshot.calendar
        async with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and self._is_fresh(snapshot):
                return snapshot.calendar  # refreshed by the caller this one waited for
            generation = self._generation
            async with self._sessionmaker() as session:
                # The revision first: days read after it are at least as new, so a change
                # committed in between is only ever loaded twice, never missed.
                revision = await read_revision(session)
                if (
                    snapshot is None
                    or snapshot.generation != generation
                    or snapshot.revision != revision
                ):
                    snapshot = _Snapshot(revision, generation, await load_calendar(session))
                    self._snapshot = snapshot
            self._next_check = self._monotonic() + self._refresh_seconds
            return snapshot.calendar

    def invalidate(self) -> None:
        self._generation += 1

    def invalidate_after_commit(self, session: AsyncSession) -> None:
        """Reload on the next use once ``session`` commits. Not before: a use between the write
        and its commit would reload the old days and keep them."""

        def _on_commit(_: Session) -> None:
            self.invalidate()

        event.listen(session.sync_session, "after_commit", _on_commit, once=True)

    def _is_fresh(self, snapshot: _Snapshot) -> bool:
        return snapshot.generation == self._generation and self._monotonic() < self._next_check
