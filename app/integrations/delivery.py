"""Webhook delivery: outbox events fanned out into deliveries, signed POSTs, retries.

Guarantees, and how they are kept:

- Nothing is announced that did not happen: events are read from the outbox, which is written
  in the transaction of the change and so exists only once the change committed.
- Several workers never send the same delivery twice. A worker claims due deliveries in one
  short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` (on PostgreSQL, rows another worker is
  claiming are skipped, not waited for), then an ``UPDATE`` of exactly those rows, guarded by
  the same conditions, ``RETURNING`` what it got (on SQLite, where the select takes no lock, the
  guard makes a second process's overlapping pick come back empty). Two statements on purpose:
  PostgreSQL may rescan an ``IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`` subquery once per
  outer row and so claim far more than ``n``. The claim bumps ``attempts`` and moves
  ``next_attempt_at`` past the longest possible attempt (a lease), and is committed *before*
  the POST, so the row is no longer due for anyone else while the request is in flight; no
  transaction is held open across the network. The outcome is recorded only if the row still
  carries the claim (same ``attempts``).
- Nothing is lost if a worker dies: a claimed delivery whose worker vanished becomes due again
  when its lease runs out, and counts the lost attempt. Delivery is therefore at least once;
  receivers drop repeats by ``X-Suishoupai-Delivery`` (or the event ``id``).
- Retries back off exponentially (``webhook_backoff_seconds * 2**(attempts-1)``, ±10% jitter
  so that a receiver coming back up is not hit by every retry at the same second); after
  ``webhook_max_attempts`` failed attempts the delivery is parked for inspection and a manual
  retry. Only a 2xx answer counts as delivered; redirects are not followed.
- Deliveries go only where the target rules allow, checked on the addresses connected to
  (app/integrations/transport.py); a refused target is a failed attempt like any other, so
  that an administrator allowing it, or its name changing, lets the retries through.
- The delivery log keeps the status code and a fixed error class
  (app/integrations/failures.py), never the receiver's answer nor the exception's text; the
  details go to the server's log.
- Deliveries to one receiver may arrive out of order (a retried event after a newer one);
  the body carries the event ``id``, which orders events.

Fan-out claims events the same way (``fanned_out_at`` set in the claiming transaction), so two
workers never create deliveries for the same event."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock
from app.core.config import Settings
from app.core.metrics import WEBHOOK_DELIVERIES, count_on_commit
from app.integrations.failures import DeliveryError, classify
from app.integrations.signing import encode_body, event_envelope, sign
from app.integrations.targets import Resolver, TargetRefused, system_resolver
from app.integrations.transport import guarded_client
from app.models import OutboxEvent, Webhook, WebhookDelivery
from app.models.enums import DeliveryStatus
from app.models.ids import new_id

log = logging.getLogger("app.integrations.delivery")

FANOUT_BATCH = 200
# Deliveries claimed at once by one worker; all of them are in flight together, so the lease
# (twice the attempt timeout) covers every request of the batch.
DELIVERY_BATCH = 10
USER_AGENT = "Suishoupai-Webhooks/1.0"
# The outcome label of ssp_webhook_deliveries_total for the status an attempt left behind.
ATTEMPT_OUTCOME = {
    DeliveryStatus.delivered: "delivered",
    DeliveryStatus.pending: "retry",
    DeliveryStatus.parked: "parked",
}


def matches(patterns: list[str], event_type: str) -> bool:
    """Whether a webhook subscribed to ``patterns`` ("report.submitted", "job.*", "*") wants
    an event of ``event_type``."""
    return any(
        pattern in ("*", event_type)
        or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))
        for pattern in patterns
    )


def webhook_wants(webhook: Webhook, event: OutboxEvent) -> bool:
    if not matches(webhook.events, event.type):
        return False
    # A unit's webhook learns only about reports the unit has a job on.
    return webhook.unit_id is None or str(webhook.unit_id) in event.unit_ids


# --- Fan-out -------------------------------------------------------------------------------------


async def _fan_out_batch(session: AsyncSession, now: datetime) -> int:
    picked = (
        await session.scalars(
            select(OutboxEvent.id)
            .where(OutboxEvent.fanned_out_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(FANOUT_BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not picked:
        return 0
    events = (
        await session.scalars(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(picked), OutboxEvent.fanned_out_at.is_(None))
            .values(fanned_out_at=now)
            .returning(OutboxEvent)
            .execution_options(synchronize_session=False)
        )
    ).all()
    webhooks = (await session.scalars(select(Webhook).where(Webhook.is_active))).all()
    for event in sorted(events, key=lambda e: e.id):
        for webhook in webhooks:
            if webhook_wants(webhook, event):
                session.add(
                    WebhookDelivery(
                        id=new_id(),
                        webhook_id=webhook.id,
                        event_id=event.id,
                        event_created_at=event.created_at,
                        status=DeliveryStatus.pending,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    await session.flush()
    return len(picked)


async def fan_out(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Create a delivery for each new outbox event and each active webhook that wants it;
    return how many events were handled. Events that no webhook wants are marked all the same,
    so that the unfanned index stays small."""
    total = 0
    while True:
        async with sessionmaker() as session, session.begin():
            handled = await _fan_out_batch(session, now)
        total += handled
        if handled < FANOUT_BATCH:
            return total


# --- Delivery ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedDelivery:
    id: uuid.UUID
    attempts: int  # including the attempt about to be made
    url: str
    secret: str
    event_type: str
    body: bytes


@dataclass(frozen=True)
class AttemptOutcome:
    delivered: bool
    status_code: int | None
    error: DeliveryError | None
    # What happened, for the server's log only (it may name addresses and ports).
    detail: str | None = None


@dataclass
class DeliveryCounts:
    delivered: int = 0
    retrying: int = 0
    parked: int = 0

    def count(self, status: DeliveryStatus | None) -> None:
        if status is DeliveryStatus.delivered:
            self.delivered += 1
        elif status is DeliveryStatus.parked:
            self.parked += 1
        elif status is DeliveryStatus.pending:
            self.retrying += 1


def lease_seconds(settings: Settings) -> float:
    return settings.webhook_timeout_seconds * 2


async def claim_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime,
    limit: int = DELIVERY_BATCH,
) -> list[ClaimedDelivery]:
    """Claim up to ``limit`` due deliveries of active webhooks, and commit the claim."""
    async with sessionmaker() as session, session.begin():
        rows = await _claim(session, settings, now, limit)
        if not rows:
            return []
        webhooks = {
            w.id: w
            for w in await session.scalars(
                select(Webhook).where(Webhook.id.in_({r.webhook_id for r in rows}))
            )
        }
        events = {
            e.id: e
            for e in await session.scalars(
                select(OutboxEvent).where(OutboxEvent.id.in_({r.event_id for r in rows}))
            )
        }
    return [
        ClaimedDelivery(
            id=row.id,
            attempts=row.attempts,
            url=webhooks[row.webhook_id].url,
            secret=webhooks[row.webhook_id].secret,
            event_type=events[row.event_id].type,
            body=encode_body(event_envelope(events[row.event_id])),
        )
        for row in rows
    ]


async def _claim(
    session: AsyncSession, settings: Settings, now: datetime, limit: int
) -> Sequence[Row[uuid.UUID, int, uuid.UUID, int]]:
    """The two statements of a claim (see the module's notes): pick due rows nobody else is
    claiming, then take those still due; each comes back as (id, attempts, webhook, event)."""
    due = (
        WebhookDelivery.status == DeliveryStatus.pending,
        WebhookDelivery.next_attempt_at <= now,
    )
    picked = (
        await session.scalars(
            select(WebhookDelivery.id)
            .where(
                *due,
                # A paused webhook's deliveries wait for it to be active again.
                WebhookDelivery.webhook_id.in_(select(Webhook.id).where(Webhook.is_active)),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not picked:
        return []
    return (
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(picked), *due)
            .values(
                attempts=WebhookDelivery.attempts + 1,
                next_attempt_at=now + timedelta(seconds=lease_seconds(settings)),
                last_attempt_at=now,
            )
            .returning(
                WebhookDelivery.id,
                WebhookDelivery.attempts,
                WebhookDelivery.webhook_id,
                WebhookDelivery.event_id,
            )
            .execution_options(synchronize_session=False)
        )
    ).all()


async def send(
    http: httpx.AsyncClient, claimed: ClaimedDelivery, settings: Settings, clock: Clock
) -> AttemptOutcome:
    """POST one delivery; never raises for what the receiver or the network did."""
    timestamp = int(clock.now().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Suishoupai-Event": claimed.event_type,
        "X-Suishoupai-Delivery": str(claimed.id),
        "X-Suishoupai-Timestamp": str(timestamp),
        "X-Suishoupai-Signature": sign(claimed.secret, timestamp, claimed.body),
    }
    try:
        # An overall deadline: httpx's timeouts are per read, and a receiver trickling bytes
        # must not outlive the claim's lease. The answer's body is never read: only its status
        # matters, and nothing of it may reach the delivery log.
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            async with http.stream("POST", claimed.url, content=claimed.body, headers=headers) as r:
                if r.is_success:
                    return AttemptOutcome(delivered=True, status_code=r.status_code, error=None)
                outcome = AttemptOutcome(
                    delivered=False,
                    status_code=r.status_code,
                    error=DeliveryError.http_status,
                    detail=f"HTTP {r.status_code}",
                )
    except (TimeoutError, httpx.HTTPError, httpx.InvalidURL, TargetRefused) as exc:
        outcome = AttemptOutcome(
            delivered=False,
            status_code=None,
            error=classify(exc),
            detail=f"{type(exc).__name__}: {exc}",
        )
    log.info(
        "webhook delivery %s attempt %d to %s failed: %s (%s)",
        claimed.id,
        claimed.attempts,
        _host_of(claimed.url),
        outcome.error,
        outcome.detail,
    )
    return outcome


def _host_of(url: str) -> str:
    """The URL's host, for the server's log (paths and queries often carry a receiver's
    token, and stay out of it)."""
    try:
        return httpx.URL(url).host
    except httpx.InvalidURL:
        return "(invalid URL)"


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    base = settings.webhook_backoff_seconds * 2 ** (attempts - 1)
    return timedelta(seconds=base * random.uniform(0.9, 1.1))


async def record_outcome(
    session: AsyncSession,
    settings: Settings,
    claimed: ClaimedDelivery,
    outcome: AttemptOutcome,
    now: datetime,
) -> DeliveryStatus | None:
    """Write the attempt's outcome; ``None`` when the claim was lost meanwhile (the webhook
    was deleted, or the lease ran out and another worker took the delivery over)."""
    values: dict[str, Any] = {
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }
    if outcome.delivered:
        status = DeliveryStatus.delivered
        values["delivered_at"] = now
    elif claimed.attempts >= settings.webhook_max_attempts:
        status = DeliveryStatus.parked
    else:
        status = DeliveryStatus.pending
        values["next_attempt_at"] = now + retry_delay(settings, claimed.attempts)
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == claimed.id,
            WebhookDelivery.status == DeliveryStatus.pending,
            WebhookDelivery.attempts == claimed.attempts,
        )
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
    return status if result.rowcount else None  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult; execute() is typed as Result


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    http: httpx.AsyncClient,
    stop: asyncio.Event | None = None,
) -> DeliveryCounts:
    """Send every delivery that is due, a batch at a time, until none is due (or ``stop``)."""
    counts = DeliveryCounts()
    while stop is None or not stop.is_set():
        claimed = await claim_due(sessionmaker, settings, clock.now())
        if not claimed:
            break
        outcomes = await asyncio.gather(*(send(http, c, settings, clock) for c in claimed))
        now = clock.now()
        async with sessionmaker() as session, session.begin():
            for delivery, outcome in zip(claimed, outcomes, strict=True):
                status = await record_outcome(session, settings, delivery, outcome, now)
                counts.count(status)
                if status is not None:
                    count_on_commit(session, WEBHOOK_DELIVERIES.labels(ATTEMPT_OUTCOME[status]))
                if status is DeliveryStatus.parked:
                    log.warning(
                        "webhook delivery %s parked after %d attempts: %s (%s)",
                        delivery.id,
                        delivery.attempts,
                        outcome.error,
                        outcome.detail,
                    )
    return counts


def new_http_client(settings: Settings, resolver: Resolver = system_resolver) -> httpx.AsyncClient:
    """The client a worker delivers with: it connects only to targets the rules allow."""
    return guarded_client(settings, httpx.Limits(max_connections=DELIVERY_BATCH * 2), resolver)
