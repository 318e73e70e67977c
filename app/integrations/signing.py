"""The wire format of an event, and the signature that proves a delivery came from us.

Webhook bodies and live-stream ``data:`` lines are the same JSON: the outbox payload with the
event ``id`` and ``type``. A delivery is signed with HMAC-SHA256 over ``"{timestamp}.{body}"``
keyed with the webhook's secret; ``verify_signature`` is what a receiver implements."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from app.models import OutboxEvent

SIGNATURE_SCHEME = "sha256="
SIGNATURE_TOLERANCE_SECONDS = 300


def event_envelope(event: OutboxEvent) -> dict[str, Any]:
    """What receivers (and live streams) get: the event id and type with the payload."""
    return {"id": event.id, **event.payload, "type": event.type}


def encode_body(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">``: the timestamp is signed too, so a
    captured delivery cannot be replayed later with a fresh one."""
    message = f"{timestamp}.".encode() + body
    return SIGNATURE_SCHEME + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: bytes,
    signature: str,
    now: datetime | float,
    tolerance: float = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does with ``X-Suishoupai-Timestamp`` and ``X-Suishoupai-Signature``:
    recompute the HMAC over the raw body as received, compare in constant time, and refuse
    timestamps further than ``tolerance`` seconds from its own clock (replays). ``now`` is a
    datetime or unix seconds."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    now_seconds = now.timestamp() if isinstance(now, datetime) else now
    if abs(now_seconds - sent_at) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent_at, body), signature)
