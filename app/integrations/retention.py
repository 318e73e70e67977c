"""Housekeeping: outbox events and webhook deliveries are deleted once they outlive the
retention period (``retention_days``), by the worker, a bounded batch per short transaction.

What goes:

- a delivered delivery, ``retention_days`` after it was delivered;
- an event created and fanned out more than ``retention_days`` ago, once none of its
  deliveries is left.

What stays, however old:

- pending deliveries (still being tried) and parked ones: a parked delivery is kept until it is
  handled — retried (``POST …/deliveries/{id}/retry`` makes it pending; once delivered, its own
  period starts) or given up with its webhook (deleting a webhook deletes its deliveries);
- the events those deliveries need (a delivery's event is its body; the delivery log shows its
  type) and events not fanned out yet (a worker that was down for weeks still owes them);
- the newest event: SQLite gives a new row the highest id plus one, so deleting the newest
  events would hand their ids out again, and a receiver or a live stream that remembers an id
  (``Last-Event-ID``) would skip the new events that reuse it.

Live streams follow the newest events; only a client resuming a position older than the
retention period misses what was deleted, and it receives everything that is left.

On PostgreSQL a whole day of events goes at once first: the outbox and the deliveries are kept
in day partitions (app/core/day_partitions.py), and a day that ended before the cutoff, with
every event in it fanned out before the cutoff, every delivery of it delivered before the
cutoff and not the newest event, is dropped as two tables instead of deleted row by row. A day
holding back (a parked delivery, a worker that was down) is left to the row-by-row pass below,
which keeps what must stay.

How: the events are walked oldest id first, a window of ``retention_batch_size`` ids at a time
(the primary key serves the walk; no index on the creation time is needed). Within a window,
its old delivered deliveries go first, at most a batch per transaction, then its events that
nothing holds. Ids follow creation time, so the first window holding a recent event ends the
walk. A pass deletes at most ``MAX_BATCHES_PER_PASS`` batches, so that a large backlog (a first
run on a database never pruned) is worked off over several passes without holding up the
deliveries and the overdue sweep of the same worker. Several workers: on PostgreSQL each batch
takes a transaction-level advisory lock; a worker that finds it taken leaves the pruning of
this pass to the one holding it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, exists, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.day_partitions import Day, attached_days, drop_day
from app.core.metrics import RETENTION_PRUNED, count_on_commit
from app.core.partitions import lock_timed_out, take_the_lock
from app.models import OutboxEvent, WebhookDelivery
from app.models.base import UTCDateTime
from app.models.enums import DeliveryStatus

log = logging.getLogger("app.integrations.retention")

MAX_BATCHES_PER_PASS = 20
# Any constant shared by every process of the deployment ("ssp-rete" in ASCII).
ADVISORY_LOCK_KEY = 0x7373702D72657465


@dataclass
class PruneResult:
    events: int = 0
    deliveries: int = 0
    batches: int = 0  # transactions that deleted something
    days_dropped: int = 0  # days of events and deliveries dropped whole (PostgreSQL)
    # False when the pass stopped early (its batch budget, or another worker pruning); the
    # rest is left for the next pass.
    finished: bool = True


def retention_cutoff(settings: Settings, now: datetime) -> datetime | None:
    """Rows older than this are past retention; ``None`` when everything is kept."""
    if settings.retention_days <= 0:
        return None
    return now - timedelta(days=settings.retention_days)


async def _hold_lock(session: AsyncSession) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite has one writer at a time anyway
    held = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
    )
    return bool(held)


class _Pruner:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        cutoff: datetime,
        max_batches: int,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.batch_size = settings.retention_batch_size
        self.cutoff = cutoff
        self.max_batches = max_batches
        self.result = PruneResult()

    def _may_continue(self) -> bool:
        if self.result.batches >= self.max_batches:
            self.result.finished = False
        return self.result.finished

    async def run(self) -> PruneResult:
        async with self.sessionmaker() as session:
            newest = await session.scalar(select(func.max(OutboxEvent.id)))
        if newest is None:
            return self.result
        after = 0
        while self._may_continue():
            async with self.sessionmaker() as session:
                window = (
                    await session.execute(
                        select(OutboxEvent.id, OutboxEvent.created_at)
                        .where(OutboxEvent.id > after, OutboxEvent.id < newest)
                        .order_by(OutboxEvent.id)
                        .limit(self.batch_size)
                    )
                ).all()
            old = [row.id for row in window if row.created_at < self.cutoff]
            if old:
                await self._prune_window(min(old), max(old))
            if len(window) < self.batch_size or len(old) < len(window):
                break  # the end of the table, or recent events: nothing older follows
            after = window[-1].id
        return self.result

    async def _prune_window(self, first: int, last: int) -> None:
        while self._may_continue():
            async with self.sessionmaker() as session, session.begin():
                if not await _hold_lock(session):
                    self.result.finished = False
                    return
                picked, deleted = await self._delete_deliveries(session, first, last)
            self.result.deliveries += deleted
            if deleted:
                self.result.batches += 1
            if picked < self.batch_size:
                break
        if not self._may_continue():
            return
        async with self.sessionmaker() as session, session.begin():
            if not await _hold_lock(session):
                self.result.finished = False
                return
            deleted = await self._delete_events(session, first, last)
        self.result.events += deleted
        if deleted:
            self.result.batches += 1

    async def _delete_deliveries(
        self, session: AsyncSession, first: int, last: int
    ) -> tuple[int, int]:
        """Delete a batch of the window's old delivered deliveries: (picked, deleted); fewer
        are deleted than picked when another worker deleted some meanwhile."""
        ids = (
            await session.scalars(
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.event_id.between(first, last),
                    WebhookDelivery.status == DeliveryStatus.delivered,
                    WebhookDelivery.delivered_at < self.cutoff,
                )
                .limit(self.batch_size)
            )
        ).all()
        if not ids:
            return 0, 0
        # The same conditions again: the row may have changed since it was picked.
        result = await session.execute(
            delete(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(ids),
                WebhookDelivery.status == DeliveryStatus.delivered,
                WebhookDelivery.delivered_at < self.cutoff,
            )
            .execution_options(synchronize_session=False)
        )
        deleted: int = result.rowcount  # type: ignore[attr-defined]  # a DELETE's result is a CursorResult; execute() is typed as Result
        if deleted:
            count_on_commit(session, RETENTION_PRUNED.labels("webhook_deliveries"), deleted)
        return len(ids), deleted

    async def _delete_events(self, session: AsyncSession, first: int, last: int) -> int:
        result = await session.execute(
            delete(OutboxEvent)
            .where(
                OutboxEvent.id.between(first, last),
                OutboxEvent.created_at < self.cutoff,
                # Fanned out long ago, not just now after a long outage: a fan-out committing
                # while this runs may be creating deliveries this statement cannot see yet.
                OutboxEvent.fanned_out_at < self.cutoff,
                ~exists().where(WebhookDelivery.event_id == OutboxEvent.id),
            )
            .execution_options(synchronize_session=False)
        )
        deleted: int = result.rowcount  # type: ignore[attr-defined]  # a DELETE's result is a CursorResult; execute() is typed as Result
        if deleted:
            count_on_commit(session, RETENTION_PRUNED.labels("outbox_events"), deleted)
        return deleted


async def _day_holds_back(session: AsyncSession, day: Day, cutoff: datetime, newest: int) -> bool:
    """Whether anything in ``day``'s partitions must stay: an event not fanned out before the
    cutoff, a delivery not delivered before it, or the newest event."""
    events, deliveries = day.table("outbox_events"), day.table("webhook_deliveries")
    held = await session.scalar(
        text(
            f'SELECT EXISTS (SELECT 1 FROM "{events}" WHERE id = :newest'
            " OR fanned_out_at IS NULL OR fanned_out_at >= :cutoff)"
            f' OR EXISTS (SELECT 1 FROM "{deliveries}" WHERE status <> :delivered'
            " OR delivered_at IS NULL OR delivered_at >= :cutoff)"
        ).bindparams(bindparam("cutoff", type_=UTCDateTime())),
        {"newest": newest, "cutoff": cutoff, "delivered": DeliveryStatus.delivered.value},
    )
    return bool(held)


async def _drop_whole_days(
    sessionmaker: async_sessionmaker[AsyncSession], cutoff: datetime, result: PruneResult
) -> None:
    """PostgreSQL: drop each day of events and deliveries that ended before the cutoff and
    holds nothing back, one short transaction a day (dropping a partition locks its table)."""
    async with sessionmaker() as session:
        days = await attached_days(session)
        newest = await session.scalar(select(func.max(OutboxEvent.id)))
    for day in days:
        if day.plus(1).start() > cutoff or newest is None:
            return
        try:
            dropped = await _drop_day_if_done(sessionmaker, day, cutoff, newest)
        except DBAPIError as exc:
            if not lock_timed_out(exc):
                raise
            log.info("the outbox was busy; day %s is dropped on a later pass", day)
            result.finished = False
            return
        if dropped is not None:
            result.events += dropped[0]
            result.deliveries += dropped[1]
            result.days_dropped += 1


async def _drop_day_if_done(
    sessionmaker: async_sessionmaker[AsyncSession], day: Day, cutoff: datetime, newest: int
) -> tuple[int, int] | None:
    """Drop ``day``'s events and deliveries unless something in them must stay: (events,
    deliveries) dropped, or None."""
    async with sessionmaker() as session, session.begin():
        if not await take_the_lock(session) or await _day_holds_back(session, day, cutoff, newest):
            return None
        counted = await session.execute(
            text(
                f'SELECT (SELECT count(*) FROM "{day.table("outbox_events")}"),'
                f' (SELECT count(*) FROM "{day.table("webhook_deliveries")}")'
            )
        )
        events, deliveries = counted.one()
        await drop_day(session, day)
        count_on_commit(session, RETENTION_PRUNED.labels("outbox_events"), events)
        count_on_commit(session, RETENTION_PRUNED.labels("webhook_deliveries"), deliveries)
    return events, deliveries


async def prune(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime,
    *,
    max_batches: int = MAX_BATCHES_PER_PASS,
) -> PruneResult:
    """Delete what outlived the retention period, as far as ``max_batches`` batches go."""
    cutoff = retention_cutoff(settings, now)
    if cutoff is None:
        return PruneResult()
    days = PruneResult()
    await _drop_whole_days(sessionmaker, cutoff, days)
    result = await _Pruner(sessionmaker, settings, cutoff, max_batches).run()
    result.events += days.events
    result.deliveries += days.deliveries
    result.days_dropped = days.days_dropped
    if result.events or result.deliveries:
        log.info(
            "pruned %d outbox events and %d webhook deliveries older than %d days%s",
            result.events,
            result.deliveries,
            settings.retention_days,
            "" if result.finished else "; more next pass",
        )
    return result
