"""One order for the row locks of a case: its report row first, then its jobs and whatever
refers to them.

Two writers that lock the same rows in opposite orders can each wait for the other until
PostgreSQL breaks the circle by failing one of them (a deadlock). So every transaction that
changes a case takes the report row's lock before it writes anything of the case: the report
actions when they load the report (or, for those that convert photos first, right after), a
unit's job actions through the job before they read it, the timeline before it numbers an
entry, the overdue sweep (reports in id order) before it marks a clock. Nothing locks a job
without holding its report, so two writers of a case queue on the report and never meet
anywhere else.

The lock is ``FOR UPDATE``, the strongest row lock, taken before anything else of the case:
an ``UPDATE`` only takes ``FOR NO KEY UPDATE``, and a new job or photo row checks its
reference to the report with ``FOR KEY SHARE``. A transaction that held one of those and
asked for more later (the timeline's lock after the report's update) could wait in a circle
with another holding the other.

SQLite has no row locks: its one write lock, taken by a transaction's first write and held to
its commit, queues writers whole, and the version guards refuse a write based on what another
writer changed in between."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Report

# The reports whose lock the session's current transaction holds, so that the timeline does not
# ask again for a lock the action took when it began.
_HELD = "ssp_report_locks"


def _held(session: AsyncSession) -> set[uuid.UUID]:
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    held: tuple[object, set[uuid.UUID]] | None = session.info.get(_HELD)
    if held is None or held[0] is not transaction:
        held = (transaction, set())
        session.info[_HELD] = held
    return held[1]


def is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def note_locked(session: AsyncSession, report_id: uuid.UUID) -> None:
    """Remember that a statement of the caller's own (``FOR UPDATE OF reports``) locked the
    report in this transaction."""
    if is_postgresql(session):
        _held(session).add(report_id)


async def lock_report(session: AsyncSession, report_id: uuid.UUID) -> None:
    """Take the report row's lock for the rest of the transaction (PostgreSQL), waiting for
    the transaction that holds it to end."""
    if not is_postgresql(session) or report_id in _held(session):
        return
    await session.execute(select(Report.id).where(Report.id == report_id).with_for_update())
    _held(session).add(report_id)
