"""Errors of the integrations domain, each with its own stable ``code``."""

from __future__ import annotations

from app.core.errors import Conflict, ValidationFailed


class DeliveryNotParked(Conflict):
    """Only a parked delivery can be queued again: a pending one is still being tried and a
    delivered one has arrived."""

    code, title = "delivery_not_parked", "Only a parked delivery can be retried"


class WebhookTargetNotAllowed(ValidationFailed):
    """The URL is not one deliveries may go to: not http(s) (https in production), with a user
    name or password, or a host that is, or resolves to, an address that is not public (and
    that the administrator did not allow)."""

    code, title = "webhook_target_not_allowed", "Webhooks cannot be sent there"
