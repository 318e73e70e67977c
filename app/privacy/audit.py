"""The audit log of personal-data access: the one function every access calls, and the
administrators' read of the log."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, SortKey, paginate
from app.models import AuditEntry, User
from app.models.audit import AuditAction
from app.privacy.schemas import AuditEntryRead, AuditPerson


@dataclass(frozen=True)
class AuditContext:
    """Who is acting, from where, in which request: what every audit row records beside the
    action. Built once per request by ``app.privacy.deps.get_audit_context``."""

    actor_id: uuid.UUID | None
    client_address: str | None
    request_id: str | None
    now: datetime


async def record_personal_data_access(
    session: AsyncSession,
    context: AuditContext,
    action: AuditAction,
    subject_ids: Iterable[uuid.UUID],
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one audit row per person whose data ``action`` reads, exports or erases, in the
    caller's transaction: the access and its record commit together or not at all.

    Every export of personal data calls this before it answers: the data export of one's own
    account, the user directory when it shows an administrator fields others see masked, an
    account's cancellation. An export added later (the points ledger's, a report export with
    reporters' names) adds its ``AuditAction`` and calls this with the people in it. ``detail``
    carries a few facts about the access (which fields, how many rows, the reason given), never
    the data itself."""
    rows = [
        AuditEntry(
            occurred_at=context.now,
            action=action.value,
            actor_id=context.actor_id,
            subject_id=subject_id,
            client_address=context.client_address,
            request_id=context.request_id,
            detail=detail or {},
        )
        for subject_id in dict.fromkeys(subject_ids)
    ]
    if rows:
        session.add_all(rows)
        await session.flush()


@dataclass(frozen=True)
class AuditLogFilters:
    actor_id: uuid.UUID | None = None
    subject_id: uuid.UUID | None = None
    action: AuditAction | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


NEWEST_FIRST = [
    SortKey(AuditEntry.occurred_at, descending=True),
    SortKey(AuditEntry.id, descending=True),
]


async def list_audit_entries(
    session: AsyncSession, filters: AuditLogFilters, params: PageParams
) -> tuple[list[AuditEntryRead], str | None]:
    """The log, newest first, for administrators (the route checks the role). Reading the log
    is not itself logged: it shows who read personal data, not the data."""
    stmt = select(AuditEntry)
    if filters.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == filters.actor_id)
    if filters.subject_id is not None:
        stmt = stmt.where(AuditEntry.subject_id == filters.subject_id)
    if filters.action is not None:
        stmt = stmt.where(AuditEntry.action == filters.action.value)
    if filters.occurred_from is not None:
        stmt = stmt.where(AuditEntry.occurred_at >= filters.occurred_from)
    if filters.occurred_to is not None:
        stmt = stmt.where(AuditEntry.occurred_at < filters.occurred_to)
    entries, cursor = await paginate(session, stmt, NEWEST_FIRST, params)
    people_ids = {e.actor_id for e in entries} | {e.subject_id for e in entries}
    people_ids.discard(None)
    people = (
        {
            row.id: AuditPerson(id=row.id, username=row.username, display_name=row.display_name)
            for row in await session.execute(
                select(User.id, User.username, User.display_name).where(User.id.in_(people_ids))
            )
        }
        if people_ids
        else {}
    )
    return [
        AuditEntryRead(
            id=entry.id,
            occurred_at=entry.occurred_at,
            action=entry.action,
            actor=people.get(entry.actor_id) if entry.actor_id else None,
            subject=people.get(entry.subject_id) if entry.subject_id else None,
            client_address=entry.client_address,
            request_id=entry.request_id,
            detail=entry.detail,
        )
        for entry in entries
    ], cursor
