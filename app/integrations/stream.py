"""Live events: ``GET /api/v1/events/stream`` as Server-Sent Events.

One ``EventBroker`` per API process reads new outbox rows and hands each to the streams of
the callers allowed to see it. It reads the database, not process memory, so a change made
through any API process (or worker) reaches every stream. It polls every ``sse_poll_seconds``;
on PostgreSQL the outbox writer also sends ``NOTIFY ssp_outbox`` at commit, which the broker
LISTENs for on one connection of its own, straight to PostgreSQL (``SSP_DATABASE_DIRECT_URL``:
behind a transaction pooler a LISTEN would stay on a server connection the service no longer
holds), so events usually arrive within milliseconds. While no stream is open the broker does
no database work at all and holds no connection.

Ids come from a sequence that PostgreSQL hands out at insert time, so a transaction holding id
10 may commit after one holding id 11. Reading "ids above the last one seen" alone would lose
10; the broker therefore remembers such holes for ``GAP_GRACE_SECONDS`` and publishes the
events that fill them late (to every stream that may see them, whatever its position).

A stream first replays what the client missed (``Last-Event-ID``, read from the database),
then follows the broker. Each stream has a bounded buffer: a client too slow to keep up is
not allowed to hold the broker or other streams back. Its stream is ended with a ``retry``
hint instead; an ``EventSource`` reconnects by itself with ``Last-Event-ID`` and resumes from
the database without losing anything. Streams also end after ``access_token_minutes`` so that
a revoked token or key does not keep streaming: the client reconnects and signs in again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.sse import ServerSentEvent
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth.principal import Principal
from app.core.config import Settings
from app.core.listen import keep_listening
from app.integrations.audience import Audience, ListenerIndex, LiveEvent
from app.integrations.outbox import NOTIFY_CHANNEL
from app.models import OutboxEvent

log = logging.getLogger("app.integrations.stream")

POLL_BATCH = 500
CATCH_UP_PAGE = 200
SUBSCRIBER_BUFFER = 1000
GAP_GRACE_SECONDS = 60.0
MAX_TRACKED_GAPS = 1000
# Ids below the newest one that may still be in flight when the broker starts reading.
START_LOOKBACK = 100
RECONNECT_MILLISECONDS = 3000


class Subscription:
    """One open stream's buffer. The broker offers it every event; it keeps those its caller
    may see and has not had yet."""

    def __init__(self, audience: Audience, live_after: int) -> None:
        self.audience = audience
        # Events up to this id reach the stream through its catch-up; newer ones through here.
        self.live_after = live_after
        self.overflowed = False
        self.closed = False
        self._buffer: deque[LiveEvent] = deque()
        self._ready = asyncio.Event()

    def offer(self, event: LiveEvent, *, late: bool) -> bool:
        """Queue ``event`` if it is for this stream; ``False`` once the buffer overflowed."""
        if (event.id <= self.live_after and not late) or not self.audience.sees(event):
            return True
        if len(self._buffer) >= SUBSCRIBER_BUFFER:
            self.overflowed = True
            self._ready.set()
            return False
        self._buffer.append(event)
        self._ready.set()
        return True

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def next_events(self, wait_seconds: float) -> list[LiveEvent]:
        """The queued events, waiting up to ``wait_seconds`` for one; [] if none came."""
        if not self._buffer and not self.closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), wait_seconds)
        self._ready.clear()
        events = list(self._buffer)
        self._buffer.clear()
        return events


class EventBroker:
    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        poll_seconds: float | None = None,
    ) -> None:
        self._engine = engine
        self._sessionmaker = sessionmaker
        self._settings = settings
        self._poll_seconds = settings.sse_poll_seconds if poll_seconds is None else poll_seconds
        self._subscriptions: ListenerIndex[Subscription] = ListenerIndex()
        self._lock = asyncio.Lock()
        self._active = asyncio.Event()
        self._wake = asyncio.Event()
        self._last_id: int | None = None  # None while idle
        self._gaps: dict[int, float] = {}  # missing id → when to stop waiting for it
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def listens(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    async def subscribe(self, principal: Principal, last_event_id: int | None) -> Subscription:
        """Register a stream. Live events start after the broker's current position (or the
        client's ``last_event_id`` if that is further on); ``catch_up`` covers the rest."""
        if self._closed:
            raise RuntimeError("the event broker is closed")
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="event-broker")
        async with self._lock:
            if self._last_id is None:
                await self._start_reading()
            assert self._last_id is not None
            live_after = max(self._last_id, last_event_id or 0)
            subscription = Subscription(Audience(principal), live_after)
            self._subscriptions.add(subscription)
            self._active.set()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    async def close(self) -> None:
        self._closed = True
        for subscription in self._subscriptions:
            subscription.close()
        self._subscriptions.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _start_reading(self) -> None:
        """Position the broker at the newest event, treating recent holes as gaps to watch."""
        async with self._sessionmaker() as session:
            newest = await session.scalar(select(func.max(OutboxEvent.id))) or 0
            recent = set(
                (
                    await session.scalars(
                        select(OutboxEvent.id).where(OutboxEvent.id > newest - START_LOOKBACK)
                    )
                ).all()
            )
        deadline = time.monotonic() + GAP_GRACE_SECONDS
        self._gaps = {
            i: deadline
            for i in range(max(1, newest - START_LOOKBACK + 1), newest)
            if i not in recent
        }
        self._last_id = newest

    async def _run(self) -> None:
        while True:
            await self._active.wait()
            listener = (
                asyncio.create_task(keep_listening(self._settings, NOTIFY_CHANNEL, self._on_notify))
                if self.listens
                else None
            )
            try:
                while self._subscriptions:
                    try:
                        more = await self._poll()
                    except Exception:
                        log.exception("reading new outbox events failed; retrying")
                        more = False
                    if not more:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
                        self._wake.clear()
            finally:
                if listener is not None:
                    listener.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await listener
            async with self._lock:
                if not self._subscriptions:  # idle: the next stream starts from the newest
                    self._active.clear()
                    self._last_id = None
                    self._gaps.clear()

    async def _poll(self) -> bool:
        """Publish new events (and late ones filling gaps); ``True`` if there may be more."""
        async with self._lock:
            if self._last_id is None:
                return False
            now = time.monotonic()
            self._gaps = {i: t for i, t in self._gaps.items() if t > now}
            condition = OutboxEvent.id > self._last_id
            if self._gaps:
                condition = or_(condition, OutboxEvent.id.in_(list(self._gaps)))
            async with self._sessionmaker() as session:
                rows = (
                    await session.scalars(
                        select(OutboxEvent)
                        .where(condition)
                        .order_by(OutboxEvent.id)
                        .limit(POLL_BATCH)
                    )
                ).all()
            expected = self._last_id + 1
            for row in rows:
                late = row.id <= self._last_id
                if late:
                    self._gaps.pop(row.id, None)
                else:
                    for missing in range(expected, row.id):
                        self._gaps[missing] = now + GAP_GRACE_SECONDS
                    expected = row.id + 1
                self._publish(LiveEvent.from_row(row), late=late)
            self._last_id = max(self._last_id, expected - 1)
            if len(self._gaps) > MAX_TRACKED_GAPS:  # e.g. a bulk rollback: oldest holes go first
                for missing in sorted(self._gaps)[: len(self._gaps) - MAX_TRACKED_GAPS]:
                    del self._gaps[missing]
            return len(rows) == POLL_BATCH

    def _publish(self, event: LiveEvent, *, late: bool) -> None:
        for subscription in self._subscriptions.candidates(event):
            if not subscription.offer(event, late=late):
                self._subscriptions.discard(subscription)

    def _on_notify(self, *_args: object) -> None:
        self._wake.set()


def event_broker(app: FastAPI) -> EventBroker:
    """The process's broker, made on first use (the lifespan closes it)."""
    broker: EventBroker | None = getattr(app.state, "event_broker", None)
    if broker is None:
        settings: Settings = app.state.settings
        broker = EventBroker(app.state.engine, app.state.sessionmaker, settings)
        app.state.event_broker = broker
    return broker


async def _catch_up(
    sessionmaker: async_sessionmaker[AsyncSession],
    audience: Audience,
    after: int,
    until: int,
) -> AsyncIterator[LiveEvent]:
    """The visible events with ``after < id <= until``, oldest first, a page at a time."""
    cursor = after
    while cursor < until:
        async with sessionmaker() as session:
            rows = (
                await session.scalars(
                    select(OutboxEvent)
                    .where(
                        OutboxEvent.id > cursor,
                        OutboxEvent.id <= until,
                        audience.where_visible(session),
                    )
                    .order_by(OutboxEvent.id)
                    .limit(CATCH_UP_PAGE)
                )
            ).all()
        if not rows:
            return
        for row in rows:
            event = LiveEvent.from_row(row)
            if audience.sees(event):
                yield event
        cursor = rows[-1].id


async def event_stream(
    broker: EventBroker,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    principal: Principal,
    last_event_id: int | None,
) -> AsyncIterator[ServerSentEvent]:
    """The messages of one stream: missed events, then live ones, with keep-alive comments
    (framed by FastAPI's ``EventSourceResponse``)."""
    subscription = await broker.subscribe(principal, last_event_id)
    try:
        yield ServerSentEvent(comment="connected", retry=RECONNECT_MILLISECONDS)
        replayed: set[int] = set()
        if last_event_id is not None:
            async for event in _catch_up(
                sessionmaker, subscription.audience, last_event_id, subscription.live_after
            ):
                replayed.add(event.id)
                yield event.to_sse()
        ends_at = time.monotonic() + settings.access_token_minutes * 60
        while not subscription.closed:
            wait = min(settings.sse_keepalive_seconds, ends_at - time.monotonic())
            if wait <= 0:
                break
            events = await subscription.next_events(wait)
            for event in events:
                if event.id not in replayed:
                    yield event.to_sse()
            if subscription.overflowed:
                log.info("an event stream fell behind; ending it so that the client resumes")
                break
            if not events:
                yield ServerSentEvent(comment="keep-alive")
        # Ended by the server (behind, or the token's lifetime is over): come back soon.
        yield ServerSentEvent(retry=1000)
    finally:
        broker.unsubscribe(subscription)
