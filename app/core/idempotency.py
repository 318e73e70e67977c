"""``Idempotency-Key``: a phone that retries a write gets the first response, and nothing new.

The record is written in the same transaction as the change it answers for, so a retry either
finds the whole first outcome or none of it. Two identical requests racing meet on the record's
primary key: the database makes the second wait for the first and then refuse its insert; the
loser undoes its own work and replays the winner's answer."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, DomainError, ValidationFailed
from app.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


class IdempotencyKeyReused(DomainError):
    status_code, code, title = 422, "idempotency_key_reused", "Idempotency key reused"

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request; use a new key"
        )


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


def request_fingerprint(parts: dict[str, Any]) -> str:
    """A stable hash of what the request asked for (fields and the hashes of its files)."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.at(
            ["header", "Idempotency-Key"], f"must be 1 to {MAX_KEY_LENGTH} printable characters"
        )
    return key


async def find(
    session: AsyncSession, user_id: uuid.UUID, key: str, scope: str, fingerprint: str
) -> StoredResponse | None:
    record = await session.get(IdempotencyRecord, (user_id, key))
    if record is None:
        return None
    if record.scope != scope or record.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return StoredResponse(record.status_code, record.response_body)


async def claim(
    session: AsyncSession, user_id: uuid.UUID, key: str, scope: str, fingerprint: str
) -> IdempotencyRecord | None:
    """Insert the record (its response filled in later, in the same transaction). None when a
    concurrent request with the same key got there first; the caller must then roll back."""
    record = IdempotencyRecord(
        user_id=user_id,
        key=key,
        scope=scope,
        request_hash=fingerprint,
        status_code=0,
        response_body={},
    )
    session.add(record)
    try:
        await session.flush()
    except IntegrityError:
        return None
    return record


async def complete(
    session: AsyncSession, user_id: uuid.UUID, key: str, status_code: int, body: dict[str, Any]
) -> None:
    """Fill in the claimed record with the response that retries will get."""
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        .values(status_code=status_code, response_body=body)
    )


async def winner(
    session: AsyncSession, user_id: uuid.UUID, key: str, scope: str, fingerprint: str
) -> StoredResponse:
    """After losing a race (and rolling back): the response of the request that won."""
    stored = await find(session, user_id, key, scope, fingerprint)
    if stored is None:  # the winner rolled back after all; the client may simply retry
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly")
    return stored
