"""The latest events a caller may see, newest first: what a live page shows before its stream
has brought anything (the big screen's ticker).

The database narrows the outbox to the caller's places (a superset: a unit's events are those
of the cases it has a job on); the stream's own rule (``Audience``) then decides each event,
so that this list and the stream never disagree on who sees what."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.integrations.audience import Audience, LiveEvent
from app.integrations.signing import event_envelope
from app.models import OutboxEvent

MAX_RECENT: Final = 100
# "Latest" is among the newest events written: a caller who sees few of them does not make the
# database read the whole outbox (it holds weeks of every place's events).
LOOKBACK: Final = 50_000
_PAGE: Final = 200
# The database's narrowing is a superset (a unit's pre-filter keeps other units' internal events
# on the same cases): at most this many pages are read to fill the list.
_MAX_PAGES: Final = 10


async def recent_events(
    session: AsyncSession, principal: Principal, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` of the newest events ``principal`` may see, as the stream sends them."""
    audience = Audience(principal)
    newest = await session.scalar(select(func.max(OutboxEvent.id)))
    if newest is None:
        return []
    statement = (
        select(OutboxEvent)
        .where(OutboxEvent.id > newest - LOOKBACK, audience.where_visible(session))
        .order_by(OutboxEvent.id.desc())
    )
    found: list[dict[str, Any]] = []
    before: int | None = None
    for _ in range(_MAX_PAGES):
        if len(found) >= limit:
            break
        page = statement if before is None else statement.where(OutboxEvent.id < before)
        rows = (await session.scalars(page.limit(_PAGE))).all()
        found += [event_envelope(row) for row in rows if audience.sees(LiveEvent.from_row(row))]
        if len(rows) < _PAGE:
            break
        before = rows[-1].id
    return found[:limit]
