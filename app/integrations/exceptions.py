"""Errors of the integrations domain, each with its own stable ``code``."""

from __future__ import annotations

from app.core.errors import Conflict


class DeliveryNotParked(Conflict):
    """Only a parked delivery can be queued again: a pending one is still being tried and a
    delivered one has arrived."""

    code, title = "delivery_not_parked", "Only a parked delivery can be retried"
