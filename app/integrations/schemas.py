"""Request and response bodies of the webhook endpoints."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    UrlConstraints,
    field_validator,
)

from app.integrations.failures import DELIVERY_ERROR_DESCRIPTION, DeliveryError
from app.models.enums import DeliveryStatus, JobStatus, ReportStatus, WishStatus

# The families of outbox event types. A pattern outside them is refused so that a typo such as
# "reports.accepted" is caught at subscription time instead of silently matching nothing.
EVENT_FAMILIES = ("report", "job", "wish")
EVENT_PATTERN = re.compile(r"^(\*|(?P<family>[a-z_]+)\.(\*|[a-z_]+))$")
EVENTS_DESCRIPTION = (
    'Event types to receive: exact ("report.submitted", "job.dispatched"), a family '
    '("report.*", "job.*", "wish.*"), or "*" for every event'
)

WebhookUrl = Annotated[
    AnyHttpUrl,
    UrlConstraints(max_length=500, allowed_schemes=["http", "https"]),
    Field(
        description=(
            "Where deliveries are POSTed: an http or https URL (https in production) without "
            "a user name or password, whose host is, or resolves to, public internet addresses "
            "only (unless the administrator allowed it); otherwise 422 "
            "`webhook_target_not_allowed`"
        )
    ),
]


def _check_events(events: list[str]) -> list[str]:
    for pattern in events:
        match = EVENT_PATTERN.match(pattern)
        if match is None or (match["family"] and match["family"] not in EVENT_FAMILIES):
            raise ValueError(
                f'{pattern!r} is not an event type or pattern: use "report.<action>", '
                '"job.<action>", "wish.<action>", "report.*", "job.*", "wish.*" or "*"'
            )
    return list(dict.fromkeys(events))  # duplicates dropped, order kept


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/suishoupai",
                    "events": ["report.*", "job.complete"],
                    "unit_id": "5d1e8a3c-7b4f-4e2a-9c6d-0f8b2a1e3c57",
                }
            ]
        }
    )

    url: WebhookUrl
    events: list[str] = Field(
        min_length=1, max_length=50, description=EVENTS_DESCRIPTION, examples=[["report.*"]]
    )
    unit_id: uuid.UUID | None = Field(
        default=None,
        description=(
            "Receive only the events of this unit's jobs. Unit staff may leave it out when "
            "they act for one unit; admins leave it out for every event."
        ),
    )

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        return _check_events(value)


class WebhookUpdate(BaseModel):
    """Fields left out keep their value."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"events": ["report.*"], "active": True}]}
    )

    url: WebhookUrl | None = None
    events: list[str] | None = Field(
        default=None, min_length=1, max_length=50, description=EVENTS_DESCRIPTION
    )
    active: bool | None = Field(
        default=None,
        description=(
            "false pauses the webhook: no new events are queued for it and queued deliveries "
            "wait until it is active again"
        ),
    )

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return _check_events(value)

    @field_validator("url", "active", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str = Field(examples=["https://ops.example.cn/hooks/suishoupai"])
    events: list[str] = Field(examples=[["report.*", "job.dispatched"]])
    unit_id: uuid.UUID | None
    active: bool = Field(validation_alias=AliasChoices("is_active", "active"))
    created_by_id: uuid.UUID | None
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(
        description=(
            "The HMAC-SHA256 key that signs every delivery. Shown once; store it now. "
            "A receiver checks `X-Suishoupai-Signature: sha256=<hex>` against "
            'HMAC-SHA256(secret, f"{X-Suishoupai-Timestamp}.{raw body}") and refuses '
            "timestamps more than 5 minutes away from its clock."
        )
    )


class DeliveryRead(BaseModel):
    """One event's delivery to one webhook, with the outcome of its latest attempt."""

    id: uuid.UUID = Field(description="Also sent as `X-Suishoupai-Delivery`")
    webhook_id: uuid.UUID
    event_id: int = Field(description="The outbox event id (also the live-stream event id)")
    event_type: str = Field(examples=["report.submitted"])
    status: DeliveryStatus
    attempts: int = Field(description="Attempts made so far (reset when a parked one is retried)")
    last_status_code: int | None = Field(description="HTTP status of the last attempt, if any")
    last_error: DeliveryError | None = Field(description=DELIVERY_ERROR_DESCRIPTION)
    next_attempt_at: datetime | None = Field(
        description="When it is tried next; null unless pending"
    )
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class EventReport(BaseModel):
    """The report an event is about, as the change left it."""

    id: uuid.UUID
    number: str = Field(examples=["SSP-150826-20261129-000042"])
    status: ReportStatus
    version: int
    category_code: str = Field(examples=["chaotic_parking"])
    community_id: uuid.UUID | None
    region_id: uuid.UUID


class EventJob(BaseModel):
    """The job of a job event, as the change left it."""

    id: uuid.UUID
    unit_id: uuid.UUID
    is_lead: bool
    status: JobStatus


class EventWish(BaseModel):
    """A micro-wish as events carry it: never the resident's contact."""

    id: uuid.UUID
    status: WishStatus
    title: str
    community_id: uuid.UUID


class Event(BaseModel):
    """An event as a live stream sends it (the `data:` of a message) and a webhook POSTs it."""

    id: int = Field(description="Increases with every event; also the stream message's `id:`")
    type: str = Field(
        description="`report.<action>`, `job.<action>` or `wish.<action>`",
        examples=["report.submitted"],
    )
    occurred_at: datetime
    report: EventReport | None = Field(default=None, description="In report and job events")
    wish: EventWish | None = Field(default=None, description="Only in micro-wish events")
    job: EventJob | None = Field(default=None, description="Only in job events")
    data: dict[str, Any] | None = Field(
        default=None, description="The change's details, when it has any", examples=[None]
    )


class RecentEvents(BaseModel):
    items: list[Event] = Field(description="Newest first")
