"""Keeps the ``working_days`` table (app/models/calendar.py) in step with the calendar in force.

The statistics measure working-hour categories in office hours, in SQL, by looking moments up
in that table. It is derived data: whichever process first needs it after the calendar changed
(an administrator's day, an import, a newer chinese-calendar package after an upgrade) rebuilds
it, in a transaction of its own, while the others wait for that rebuild instead of repeating it.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.workcalendar import WorkingCalendar
from app.models import WorkingDay, WorkingDaysBuilt

# Serialises rebuilds on PostgreSQL (a transaction-level advisory lock; SQLite has one writer).
_REBUILD_LOCK_KEY = 0x5353505744  # "SSPWD"
_BATCH = 5_000


class WorkingDaysKeeper:
    """One per process: remembers the digest it last found current, so that a statistic costs
    no look-up while the calendar stays the same."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._current: str | None = None

    async def ensure_current(self, calendar: WorkingCalendar) -> None:
        digest = calendar.tabled.digest
        if self._current == digest:
            return
        async with self._sessionmaker() as session, session.begin():
            if await _built_digest(session) != digest:
                if session.get_bind().dialect.name == "postgresql":
                    await session.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REBUILD_LOCK_KEY}
                    )
                # Another process may have rebuilt it while this one waited for the lock.
                if await _built_digest(session) != digest:
                    await rebuild(session, calendar)
        self._current = digest


async def _built_digest(session: AsyncSession) -> str | None:
    return await session.scalar(select(WorkingDaysBuilt.digest).where(WorkingDaysBuilt.id == 1))


async def rebuild(session: AsyncSession, calendar: WorkingCalendar) -> None:
    """Replaces the table's rows with ``calendar``'s (in the caller's transaction)."""
    tabled = calendar.tabled
    await session.execute(delete(WorkingDay))
    rows = [
        {"day_number": number, "is_workday": is_workday, "worked_before": worked}
        for number, is_workday, worked in tabled.rows
    ]
    for start in range(0, len(rows), _BATCH):
        await session.execute(insert(WorkingDay), rows[start : start + _BATCH])
    await session.execute(delete(WorkingDaysBuilt))
    await session.execute(insert(WorkingDaysBuilt).values(id=1, digest=tabled.digest))
