"""What is waiting in the database, as Prometheus gauges, read when /metrics is scraped.

At scrape time rather than by the worker: the gauges must show a backlog precisely when no
worker is running or a worker is stuck, and every API process answers with the same values
(take ``max`` across replicas). It is one statement of counts that the indexes serve: the
unfanned-events index, the deliveries' (status, next attempt) index, and the outbox's primary
key for the rows past retention (ids follow creation time, so the first recent id bounds
them). Counting the deliveries of those old events reads ``webhook_deliveries`` by event id."""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    RETENTION_BACKLOG,
    WEBHOOK_DELIVERIES_PARKED,
)
from app.integrations.retention import retention_cutoff
from app.models import OutboxEvent, Webhook, WebhookDelivery
from app.models.enums import DeliveryStatus

log = logging.getLogger("app.integrations.backlog")

# A scrape must answer even when the database does not: the HTTP metrics matter most then.
QUERY_TIMEOUT_SECONDS = 5.0
# Larger than any event id.
NO_EVENT_ID = 2**62


def _backlog_statement(cutoff: datetime | None) -> Select[Any]:
    unfanned = OutboxEvent.fanned_out_at.is_(None)
    active_pending = (
        WebhookDelivery.status == DeliveryStatus.pending,
        # A paused webhook's deliveries wait on purpose: not a backlog.
        WebhookDelivery.webhook_id.in_(select(Webhook.id).where(Webhook.is_active)),
    )
    columns = [
        select(func.count()).where(unfanned).scalar_subquery().label("unfanned"),
        select(OutboxEvent.created_at)
        .where(unfanned)
        .order_by(OutboxEvent.fanned_out_at, OutboxEvent.id)
        .limit(1)
        .scalar_subquery()
        .label("oldest_unfanned"),
        select(func.count())
        .select_from(WebhookDelivery)
        .where(*active_pending)
        .scalar_subquery()
        .label("pending"),
        select(func.min(OutboxEvent.created_at))
        .join(WebhookDelivery, WebhookDelivery.event_id == OutboxEvent.id)
        .where(*active_pending)
        .scalar_subquery()
        .label("oldest_pending"),
        select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.parked)
        .scalar_subquery()
        .label("parked"),
    ]
    if cutoff is not None:
        first_recent = func.coalesce(
            select(func.min(OutboxEvent.id))
            .where(OutboxEvent.created_at >= cutoff)
            .correlate(None)  # of the whole table, not of the counting query's row
            .scalar_subquery(),
            NO_EVENT_ID,
        )
        columns += [
            select(func.count())
            .where(OutboxEvent.id < first_recent)
            .scalar_subquery()
            .label("old_events"),
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.event_id < first_recent)
            .scalar_subquery()
            .label("old_deliveries"),
        ]
    return select(*columns)


async def read_backlog(
    session: AsyncSession, settings: Settings, now: datetime
) -> dict[str, float]:
    """The gauges' values: how much waits, how old the oldest waiting event is, how much is
    past retention."""
    cutoff = retention_cutoff(settings, now)
    row = (await session.execute(_backlog_statement(cutoff))).one()
    oldest = min(
        (t for t in (row.oldest_unfanned, row.oldest_pending) if t is not None), default=None
    )
    return {
        "fan_out": row.unfanned,
        "delivery": row.pending,
        "oldest_age": max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
        "parked": row.parked,
        "old_events": row.old_events if cutoff is not None else 0,
        "old_deliveries": row.old_deliveries if cutoff is not None else 0,
    }


def _set(values: dict[str, float]) -> None:
    OUTBOX_BACKLOG.labels("fan_out").set(values["fan_out"])
    OUTBOX_BACKLOG.labels("delivery").set(values["delivery"])
    OUTBOX_OLDEST_AGE.set(values["oldest_age"])
    WEBHOOK_DELIVERIES_PARKED.set(values["parked"])
    RETENTION_BACKLOG.labels("outbox_events").set(values["old_events"])
    RETENTION_BACKLOG.labels("webhook_deliveries").set(values["old_deliveries"])


async def refresh_backlog_gauges(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> None:
    """Set the gauges from the database; when it cannot be read, set them to NaN (unknown)
    rather than leave the last values standing."""
    try:
        async with asyncio.timeout(QUERY_TIMEOUT_SECONDS), sessionmaker() as session:
            values = await read_backlog(session, settings, now)
    except Exception:
        log.warning("could not read the outbox backlog for /metrics", exc_info=True)
        values = dict.fromkeys(
            ("fan_out", "delivery", "oldest_age", "parked", "old_events", "old_deliveries"),
            math.nan,
        )
    _set(values)
