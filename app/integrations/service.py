"""Webhooks: who may register them, and their delivery logs.

Admins manage every webhook. Unit staff manage the webhooks of their own units; such a webhook
(and any webhook with a ``unit_id``) receives only the events of reports on which that unit has
a job, which is all a unit may learn about. Anything else is out of scope: 404 for a webhook
outside the caller's units (its existence is not revealed), 403 for registering one for a unit
the caller does not act for."""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import Forbidden, NotFound, ValidationFailed
from app.core.pagination import PageParams, SortKey, paginate
from app.integrations import targets
from app.integrations.exceptions import DeliveryNotParked, WebhookTargetNotAllowed
from app.integrations.failures import shown_error
from app.integrations.schemas import DeliveryRead, WebhookCreate, WebhookUpdate
from app.models import OutboxEvent, Unit, Webhook, WebhookDelivery
from app.models.enums import DeliveryStatus, Role
from app.models.ids import new_id

log = logging.getLogger("app.integrations.service")

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def webhook_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.is_admin:
        return true()
    return Webhook.unit_id.in_(principal.scope_ids(Role.unit_staff))


async def _unit_for_new_webhook(
    session: AsyncSession, principal: Principal, unit_id: uuid.UUID | None
) -> uuid.UUID | None:
    if principal.is_admin:
        if unit_id is not None and await session.get(Unit, unit_id) is None:
            raise ValidationFailed.at(["body", "unit_id"], "no unit has this id")
        return unit_id
    units = principal.scope_ids(Role.unit_staff)
    if unit_id is None:
        if len(units) == 1:
            return next(iter(units))
        raise ValidationFailed.at(
            ["body", "unit_id"], "you act for several units: say which one the webhook is for"
        )
    if unit_id not in units:
        raise Forbidden("You can only register webhooks for a unit you act for")
    return unit_id


async def check_target(policy: targets.TargetPolicy, url: str) -> None:
    """Refuse a URL deliveries may not go to (the worker checks again at each delivery)."""
    try:
        await targets.check_url(policy, url)
    except targets.TargetRefused as exc:
        log.info("webhook target refused: %s", exc)
        raise WebhookTargetNotAllowed.at(["body", "url"], exc.public) from exc


async def create_webhook(
    session: AsyncSession,
    principal: Principal,
    body: WebhookCreate,
    now: datetime,
    policy: targets.TargetPolicy,
) -> Webhook:
    unit_id = await _unit_for_new_webhook(session, principal, body.unit_id)
    url = str(body.url)
    await check_target(policy, url)
    webhook = Webhook(
        id=new_id(),
        url=url,
        secret=new_secret(),
        events=body.events,
        unit_id=unit_id,
        created_by_id=principal.user_id,
        is_active=True,
        created_at=now,
    )
    session.add(webhook)
    await session.flush()
    return webhook


async def list_webhooks(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    unit_id: uuid.UUID | None = None,
) -> tuple[list[Webhook], str | None]:
    stmt = select(Webhook).where(webhook_scope(principal))
    if unit_id is not None:
        stmt = stmt.where(Webhook.unit_id == unit_id)
    keys = (SortKey(Webhook.created_at, descending=True), SortKey(Webhook.id, descending=True))
    return await paginate(session, stmt, keys, page)


async def get_webhook(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> Webhook:
    webhook = await session.scalar(
        select(Webhook).where(Webhook.id == webhook_id, webhook_scope(principal))
    )
    if webhook is None:
        raise NotFound("No such webhook")
    return webhook


async def update_webhook(
    session: AsyncSession, webhook: Webhook, body: WebhookUpdate, policy: targets.TargetPolicy
) -> Webhook:
    changes = body.model_dump(exclude_unset=True)
    if "url" in changes:
        url = str(body.url)
        await check_target(policy, url)
        webhook.url = url
    if "events" in changes:
        webhook.events = changes["events"]
    if "active" in changes:
        webhook.is_active = changes["active"]
    await session.flush()
    return webhook


async def delete_webhook(session: AsyncSession, webhook: Webhook) -> None:
    # The deliveries go with it (ON DELETE CASCADE); a worker holding one in flight finds
    # the row gone when it records the outcome, and records nothing.
    await session.delete(webhook)
    await session.flush()


def _delivery_read(delivery: WebhookDelivery, event_type: str) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        event_type=event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_error=shown_error(delivery.last_error, delivery.last_status_code),
        next_attempt_at=(
            delivery.next_attempt_at if delivery.status is DeliveryStatus.pending else None
        ),
        last_attempt_at=delivery.last_attempt_at,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )


async def list_deliveries(
    session: AsyncSession,
    webhook: Webhook,
    page: PageParams,
    *,
    status: DeliveryStatus | None = None,
) -> tuple[list[DeliveryRead], str | None]:
    """Newest event first. Ordered by event id, which the (webhook, event) unique index serves
    and which is unique within one webhook."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    keys = (SortKey(WebhookDelivery.event_id, descending=True),)
    deliveries, cursor = await paginate(session, stmt, keys, page)
    rows = await session.execute(
        select(OutboxEvent.id, OutboxEvent.type).where(
            OutboxEvent.id.in_([d.event_id for d in deliveries])
        )
    )
    types = {row.id: row.type for row in rows}
    return [_delivery_read(d, types[d.event_id]) for d in deliveries], cursor


async def retry_delivery(
    session: AsyncSession, webhook: Webhook, delivery_id: uuid.UUID, now: datetime
) -> DeliveryRead:
    """Queue a parked delivery again with a fresh round of attempts (the receiver was fixed)."""
    delivery = await session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook.id)
        .with_for_update()
    )
    if delivery is None:
        raise NotFound("No such delivery for this webhook")
    if delivery.status is not DeliveryStatus.parked:
        raise DeliveryNotParked(f"The delivery is {delivery.status.value}")
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.next_attempt_at = now
    await session.flush()
    event_type = await session.scalar(
        select(OutboxEvent.type).where(OutboxEvent.id == delivery.event_id)
    )
    assert event_type is not None  # the delivery's foreign key holds the event
    return _delivery_read(delivery, event_type)
