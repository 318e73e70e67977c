"""The outbox of events, and the webhooks that receive them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UUIDPrimaryKey, utcnow
from app.models.enums import DeliveryStatus
from app.models.org import str_enum

# SQLite only makes INTEGER PRIMARY KEY columns auto-increment.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(Base):
    """An event written in the same transaction as the change it describes. Webhook deliveries
    and live streams read it after the commit, so nothing is announced that did not happen and
    nothing that happened is lost. The id orders events and is the SSE event id."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_unfanned", "fanned_out_at", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(60))  # e.g. "report.accepted", "job.declined"
    # The case and job, by id alone: an event outlives its case's month in the database (see
    # app/models/partitioning.py), so no foreign key holds it to the case's partitions.
    report_id: Mapped[uuid.UUID | None]
    job_id: Mapped[uuid.UUID | None]
    # Who may see the event (copied here so that streams filter without joins).
    community_id: Mapped[uuid.UUID | None]
    region_path: Mapped[str | None] = mapped_column(String(400))
    unit_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    reporter_id: Mapped[uuid.UUID | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set once webhook deliveries were created for the event.
    fanned_out_at: Mapped[datetime | None]


class Webhook(UUIDPrimaryKey, Base):
    __tablename__ = "webhooks"

    url: Mapped[str] = mapped_column(String(500))
    # The HMAC-SHA256 key; shown once at creation. Kept in clear: it must sign every delivery.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON)
    # A unit's webhook receives only the events of that unit's jobs.
    unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(UUIDPrimaryKey, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # One delivery of an event to a webhook (the event's time completes the key on
        # PostgreSQL, where the table is partitioned on it).
        UniqueConstraint("webhook_id", "event_id", "event_created_at"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # Pruning an event checks its deliveries and the backlog gauges join on the event:
        # without this, each is a scan of every delivery.
        Index("ix_webhook_deliveries_event_id", "event_id"),
    )

    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    # The event, by id, and when it was made: on PostgreSQL a day's events and their
    # deliveries share the day's partitions and go together (app/models/partitioning.py).
    event_id: Mapped[int] = mapped_column(BigIntId)
    event_created_at: Mapped[datetime]
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
