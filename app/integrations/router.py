"""Webhooks and the live event stream."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.auth.deps import CurrentPrincipal
from app.core.deps import ClockDep, SessionDep, SessionMakerDep, SettingsDep
from app.core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, error_responses
from app.core.pagination import Page, PageParams, page_params
from app.core.params import DeliveryId
from app.core.responses import PresentedJSON
from app.integrations import service
from app.integrations.deps import (
    EventBrokerDep,
    ManagedWebhook,
    ResumePosition,
    TargetPolicyDep,
    WebhookManager,
)
from app.integrations.exceptions import DeliveryNotParked, WebhookTargetNotAllowed
from app.integrations.recent import MAX_RECENT, recent_events
from app.integrations.schemas import (
    DeliveryRead,
    RecentEvents,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from app.integrations.stream import event_stream
from app.models.enums import DeliveryStatus

router = APIRouter()

DELIVERY_DOC = """
Each delivery is a `POST` of the event as JSON (`id`, `type`, `occurred_at`, `report`, and
`job` and `data` where the event has them) with the headers `X-Suishoupai-Event` (the type),
`X-Suishoupai-Delivery` (the delivery id; repeats of a delivery keep it), `X-Suishoupai-Timestamp`
(unix seconds) and `X-Suishoupai-Signature: sha256=<hex>`, the HMAC-SHA256 of
`"{timestamp}.{raw body}"` keyed with the webhook's secret. A receiver recomputes it over the
bytes it received, compares in constant time and refuses timestamps more than 5 minutes off.
Any 2xx answer is success (redirects are not followed); anything else (or no answer within the
timeout) is retried with exponential backoff, and parked after the last attempt. Delivery is at
least once and not necessarily in order: drop repeats by delivery id and order by event `id`.

Deliveries go to public internet addresses only: a URL whose host is, or resolves to, a
loopback, private, link-local or other internal address is refused with 422
`webhook_target_not_allowed` (unless the administrator allowed that host), and checked again on
the addresses each delivery connects to.
"""


@router.post(
    "/webhooks",
    response_model=WebhookCreated,
    status_code=status.HTTP_201_CREATED,
    tags=["webhooks"],
    summary="Register a webhook (the secret is shown once)",
    description=(
        "Admins register webhooks for every event or for one unit; unit staff for their own "
        "unit only (`unit_id` may be left out when they act for one unit). A unit's webhook "
        "receives only the events of reports the unit has a job on.\n" + DELIVERY_DOC
    ),
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed, WebhookTargetNotAllowed),
)
async def create_webhook(
    body: WebhookCreate,
    principal: WebhookManager,
    session: SessionDep,
    clock: ClockDep,
    policy: TargetPolicyDep,
) -> WebhookCreated:
    webhook = await service.create_webhook(session, principal, body, clock.now(), policy)
    read = WebhookRead.model_validate(webhook)
    return WebhookCreated(**read.model_dump(), secret=webhook.secret)


@router.get(
    "/webhooks",
    response_model=Page[WebhookRead],
    tags=["webhooks"],
    summary="Webhooks: all for admins, their units' for unit staff; newest first",
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def list_webhooks(
    principal: WebhookManager,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    unit_id: Annotated[uuid.UUID | None, Query(description="Only this unit's webhooks")] = None,
) -> Page[WebhookRead]:
    items, cursor = await service.list_webhooks(session, principal, page, unit_id=unit_id)
    return Page(items=[WebhookRead.model_validate(w) for w in items], next_cursor=cursor)


@router.get(
    "/webhooks/{webhook_id}",
    response_model=WebhookRead,
    tags=["webhooks"],
    summary="A webhook",
    responses=error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed),
)
async def read_webhook(webhook: ManagedWebhook) -> WebhookRead:
    return WebhookRead.model_validate(webhook)


@router.patch(
    "/webhooks/{webhook_id}",
    response_model=WebhookRead,
    tags=["webhooks"],
    summary="Change a webhook's URL or events, or pause it (`active: false`)",
    responses=error_responses(
        Unauthorized, Forbidden, NotFound, ValidationFailed, WebhookTargetNotAllowed
    ),
)
async def update_webhook(
    body: WebhookUpdate, webhook: ManagedWebhook, session: SessionDep, policy: TargetPolicyDep
) -> WebhookRead:
    return WebhookRead.model_validate(await service.update_webhook(session, webhook, body, policy))


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["webhooks"],
    summary="Remove a webhook and its delivery log",
    responses=error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed),
)
async def delete_webhook(webhook: ManagedWebhook, session: SessionDep) -> None:
    await service.delete_webhook(session, webhook)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=Page[DeliveryRead],
    tags=["webhooks"],
    summary="The webhook's delivery log, newest event first",
    responses=error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed),
)
async def list_deliveries(
    webhook: ManagedWebhook,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    delivery_status: Annotated[
        DeliveryStatus | None, Query(alias="status", description="Only deliveries in it")
    ] = None,
) -> Page[DeliveryRead]:
    items, cursor = await service.list_deliveries(session, webhook, page, status=delivery_status)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryRead,
    tags=["webhooks"],
    summary="Queue a parked delivery again, with a fresh round of attempts",
    responses=error_responses(
        Unauthorized, Forbidden, NotFound, DeliveryNotParked, ValidationFailed
    ),
)
async def retry_delivery(
    delivery_id: DeliveryId, webhook: ManagedWebhook, session: SessionDep, clock: ClockDep
) -> DeliveryRead:
    return await service.retry_delivery(session, webhook, delivery_id, clock.now())


# One message of the stream, as OpenAPI describes a text/event-stream: the schema of each
# message (comments and a lone `retry:` are not messages), its `data:` a JSON document.
STREAM_MESSAGE = {
    "type": "object",
    "required": ["id", "event", "data"],
    "properties": {
        "id": {"type": "string", "description": "The event id", "examples": ["42"]},
        "event": {"type": "string", "description": "The event type"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/Event"},
        },
    },
}


@router.get(
    "/events/recent",
    tags=["events"],
    response_model=RecentEvents,
    summary="The latest events the caller may see, newest first (what a live page starts with)",
    description="The same events, with the same bodies, as `/events/stream` sends this caller; "
    "a page shows them, then follows the stream from the newest one's id.",
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def latest_events(
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_RECENT, description="How many")] = 20,
) -> PresentedJSON:
    return PresentedJSON({"items": await recent_events(session, principal, limit)})


@router.get(
    "/events/stream",
    tags=["events"],
    summary="Live report and job events the caller may see (Server-Sent Events)",
    description=(
        "A `text/event-stream`. Each event has `id:` (the event id, increasing), `event:` (its "
        "type, e.g. `report.submitted`) and `data:` (the event as JSON, the same body webhooks "
        "get); comments (`: keep-alive`) keep proxies from closing an idle stream. Without a "
        "position the stream starts with the next event. Reconnect with the `Last-Event-ID` "
        "header (an `EventSource` does this by itself) or `?last_event_id=` to receive first "
        "every event after that id which the caller may see. The server ends a stream now and "
        "then (a client that falls behind, or after the access token lifetime): reconnect and "
        "resume. Authenticate with a bearer token or a dashboard API key."
    ),
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "The event stream",
            "content": {
                "text/event-stream": {
                    "schema": STREAM_MESSAGE,
                    "example": (
                        'id: 42\nevent: report.submitted\ndata: {"id":42,"type":"report.submitted",'
                        '"occurred_at":"2026-11-29T08:00:00+00:00","report":{"id":"…"}}\n\n'
                    ),
                }
            },
        },
        **error_responses(Unauthorized, ValidationFailed),
    },
)
async def stream_events(
    principal: CurrentPrincipal,
    broker: EventBrokerDep,
    sessionmaker: SessionMakerDep,
    settings: SettingsDep,
    position: ResumePosition,
) -> AsyncIterator[ServerSentEvent]:
    # EventSourceResponse frames each message and sends Cache-Control: no-cache and
    # X-Accel-Buffering: no (nginx would otherwise deliver events in bursts).
    async for message in event_stream(broker, sessionmaker, settings, principal, position):
        yield message
