"""Dependencies of the integration routes: who may manage webhooks, the webhook in scope, the
process's event broker and the stream's resume position."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from app.auth.deps import require_roles
from app.auth.principal import Principal
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import ValidationFailed
from app.core.params import WebhookId
from app.integrations import service
from app.integrations.stream import EventBroker, event_broker
from app.integrations.targets import TargetPolicy
from app.models import Webhook
from app.models.enums import Role

# Admins, and unit staff for their own units' webhooks.
WebhookManager = Annotated[Principal, Depends(require_roles(Role.unit_staff))]


async def load_webhook(
    webhook_id: WebhookId, principal: WebhookManager, session: SessionDep
) -> Webhook:
    return await service.get_webhook(session, principal, webhook_id)


# A webhook the caller manages; 404 outside their units.
ManagedWebhook = Annotated[Webhook, Depends(load_webhook)]


def target_policy(settings: SettingsDep) -> TargetPolicy:
    return TargetPolicy.from_settings(settings)


# Where webhooks may be sent (app/integrations/targets.py).
TargetPolicyDep = Annotated[TargetPolicy, Depends(target_policy)]


async def get_event_broker(request: Request) -> EventBroker:
    return event_broker(request.app)


EventBrokerDep = Annotated[EventBroker, Depends(get_event_broker)]


async def resume_position(
    last_event_id_header: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="Sent by a reconnecting EventSource: replay the events after this id",
        ),
    ] = None,
    last_event_id: Annotated[
        int | None,
        Query(
            ge=0, description="The same as the Last-Event-ID header, for clients that cannot set it"
        ),
    ] = None,
) -> int | None:
    """Where a stream resumes; the header wins, since a reconnecting EventSource sends the
    newer position there while the URL keeps the one it was opened with."""
    if last_event_id_header is None or not last_event_id_header.strip():
        return last_event_id
    try:
        position = int(last_event_id_header.strip())
    except ValueError:
        position = -1
    if position < 0:
        raise ValidationFailed.at(
            ["header", "Last-Event-ID"], "must be the id of an event this stream sent"
        )
    return position


ResumePosition = Annotated[int | None, Depends(resume_position)]
