"""``Idempotency-Key``: a phone that retries a write gets the first response, and nothing new.

The record is written last in the same transaction as the change it answers for, so a retry
either finds the whole first outcome or none of it. Two identical requests racing meet on the
record's primary key: the database makes the second wait for the first and then skip its insert;
the loser undoes its own work and replays the winner's answer."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from app.core.errors import Conflict, DomainError, ValidationFailed
from app.core.sql import upsert_insert
from app.models import IdempotencyRecord

MAX_KEY_LENGTH = 200
_RECORDS = cast(Table, IdempotencyRecord.__table__)


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


_FIND = select(
    _RECORDS.c.scope, _RECORDS.c.request_hash, _RECORDS.c.status_code, _RECORDS.c.response_body
).where(
    _RECORDS.c.user_id == bindparam("record_user_id"), _RECORDS.c.key == bindparam("record_key")
)


async def find(
    session: AsyncSession, user_id: uuid.UUID, key: str, scope: str, fingerprint: str
) -> StoredResponse | None:
    record = (
        await session.execute(_FIND, {"record_user_id": user_id, "record_key": key})
    ).one_or_none()
    if record is None:
        return None
    if record.scope != scope or record.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return StoredResponse(record.status_code, record.response_body)


@functools.cache
def _save_statement(dialect: str) -> ReturningInsert[str]:
    """Insert the record unless the key is taken (built once per dialect). A twin's record that
    is not yet committed makes this insert wait for the twin's outcome."""
    insert = upsert_insert(dialect)
    # On the table, not the mapped class: a plain Core statement, without the ORM's bulk path.
    return (
        insert(_RECORDS)
        .values(
            user_id=bindparam("user_id"),
            key=bindparam("key"),
            scope=bindparam("scope"),
            request_hash=bindparam("request_hash"),
            status_code=bindparam("status_code"),
            response_body=bindparam("response_body", type_=_RECORDS.c.response_body.type),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(_RECORDS.c.key)
    )


async def save(
    session: AsyncSession,
    user_id: uuid.UUID,
    key: str,
    scope: str,
    fingerprint: str,
    status_code: int,
    body: dict[str, Any],
) -> bool:
    """Record the response that retries will get, as the last write of the change it answers
    for. False when a twin request with the same key committed first: the caller must roll back
    its change and answer with the twin's response (``winner``)."""
    statement = _save_statement(session.get_bind().dialect.name)
    saved = await session.scalar(
        statement,
        {
            "user_id": user_id,
            "key": key,
            "scope": scope,
            "request_hash": fingerprint,
            "status_code": status_code,
            "response_body": body,
        },
    )
    return saved is not None


async def winner(
    session: AsyncSession, user_id: uuid.UUID, key: str, scope: str, fingerprint: str
) -> StoredResponse:
    """After losing a race (and rolling back): the response of the request that won."""
    stored = await find(session, user_id, key, scope, fingerprint)
    if stored is None:  # the winner rolled back after all; the client may simply retry
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly")
    return stored
