"""The latest events a caller may see, newest first: what a live page shows before its stream
has brought anything (the big screen's ticker).

The database narrows the outbox to the caller's places (a superset: a unit's events are those
of the cases it has a job on); the stream's own rule (``Audience``) then decides each event,
so that this list and the stream never disagree on who sees what."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.sql import member_of
from app.integrations.signing import event_envelope
from app.integrations.stream import Audience, LiveEvent
from app.models import Job, OutboxEvent

MAX_RECENT: Final = 100
_PAGE: Final = 200


def _places(session: AsyncSession, audience: Audience) -> ColumnElement[bool]:
    if audience.everything:
        return true()
    places: list[ColumnElement[bool]] = [
        OutboxEvent.region_path.startswith(path) for path in audience.region_paths
    ]
    if audience.communities:
        places.append(member_of(session, OutboxEvent.community_id, audience.communities))
    if audience.units:
        jobs = select(Job.report_id).where(Job.unit_id.in_(list(audience.unit_uuids)))
        places.append(OutboxEvent.report_id.in_(jobs))
    if audience.user_id is not None:
        places.append(OutboxEvent.reporter_id == audience.user_id)
    return or_(*places) if places else OutboxEvent.id.is_(None)


async def recent_events(
    session: AsyncSession, principal: Principal, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` of the newest events ``principal`` may see, as the stream sends them."""
    audience = Audience(principal)
    statement = (
        select(OutboxEvent).where(_places(session, audience)).order_by(OutboxEvent.id.desc())
    )
    found: list[dict[str, Any]] = []
    before: int | None = None
    while len(found) < limit:
        page = statement if before is None else statement.where(OutboxEvent.id < before)
        rows = (await session.scalars(page.limit(_PAGE))).all()
        found += [event_envelope(row) for row in rows if audience.sees(LiveEvent.from_row(row))]
        if len(rows) < _PAGE:
            break
        before = rows[-1].id
    return found[:limit]
