"""Writing a case's timeline: every entry, from the report's filing to its closure, is numbered
in the order it was written, one number per report, whoever writes it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Required, TypedDict, Unpack

from sqlalchemy import ScalarSelect, func, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.cases.locks import lock_report
from app.models import Report, ReportEvent
from app.models.enums import ReportStatus, Role
from app.models.ids import new_id


class TimelineFields(TypedDict, total=False):
    """What a timeline entry says, besides its report and number."""

    type: Required[str]
    actor: Required[Principal | None]
    # The role that authorised what the actor did (see app/cases/parts.py); none is
    # recorded unless the caller names it.
    actor_role: Role | None
    at: Required[datetime]
    from_status: ReportStatus | None
    to_status: ReportStatus | None
    note: str | None
    reason: str | None
    is_internal: bool
    data: dict[str, object] | None


def _next_seq(report_id: uuid.UUID) -> ScalarSelect[int]:
    return (
        select(func.coalesce(func.max(ReportEvent.seq), 0) + 1)
        .where(ReportEvent.report_id == report_id)
        .scalar_subquery()
    )


async def append_event(
    session: AsyncSession, report: Report, **fields: Unpack[TimelineFields]
) -> ReportEvent:
    """The next entry of the report's timeline, written now.

    Entries written at the same moment by different requests (two comments, a comment and a
    unit's action) each get their own number: the number is taken by the INSERT itself, while
    it holds the database's write lock on SQLite, and after taking the report row's lock on
    PostgreSQL, where each writer waits for the one before to commit and then sees its entry."""
    await lock_report(session, report.id)
    event = timeline_entry(report, seq=0, **fields)
    values: dict[str, Any] = {
        attribute.key: getattr(event, attribute.key)
        for attribute in sa_inspect(ReportEvent).column_attrs
    }
    values["seq"] = _next_seq(report.id)
    seq = await session.scalar(insert(ReportEvent).values(values).returning(ReportEvent.seq))
    assert seq is not None
    event.seq = seq
    return event


def timeline_entry(report: Report, *, seq: int, **fields: Unpack[TimelineFields]) -> ReportEvent:
    """A timeline row numbered ``seq`` (1 for a report just filed), not yet added."""
    actor = fields["actor"]
    return ReportEvent(
        id=new_id(),
        report_id=report.id,
        seq=seq,
        type=fields["type"],
        actor_id=actor.user_id if actor else None,
        actor_role=fields.get("actor_role"),
        from_status=fields.get("from_status"),
        to_status=fields.get("to_status"),
        note=fields.get("note"),
        reason=fields.get("reason"),
        is_internal=fields.get("is_internal", False),
        data=fields.get("data") or {},
        created_at=fields["at"],
    )
