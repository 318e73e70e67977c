"""A case's timeline as its readers see it, and the comments they add to it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import place_path, region_path
from app.cases.parts import acting_role, case_parts
from app.cases.timeline import append_event
from app.cases.transitions import Actor
from app.cases.visibility import STAFF_PARTS, case_view
from app.core.errors import Forbidden
from app.models import Photo, ReportEvent, User
from app.reports import presenter
from app.reports.queries import get_visible_report
from app.reports.schemas import PersonRef, TimelineEvent

# Who may comment on a case: its staff (internal notes too) and its reporter.
COMMENTING_PARTS = STAFF_PARTS | {Actor.reporter}


async def timeline(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID
) -> list[TimelineEvent]:
    report = await get_visible_report(session, principal, report_id)
    view = case_view(
        principal, report, await region_path(session, report), await place_path(session, report)
    )
    stmt = select(ReportEvent).where(ReportEvent.report_id == report.id)
    if not view.internal:
        stmt = stmt.where(ReportEvent.is_internal.is_(False))
    events = list((await session.scalars(stmt.order_by(ReportEvent.seq))).all())
    actor_ids = {e.actor_id for e in events if e.actor_id}
    actors = (
        {u.id: u for u in await session.scalars(select(User).where(User.id.in_(actor_ids)))}
        if actor_ids
        else {}
    )
    photos: dict[uuid.UUID, list[Photo]] = {}
    for photo in await session.scalars(
        select(Photo).where(Photo.report_id == report.id).order_by(Photo.position)
    ):
        if photo.event_id is not None:
            photos.setdefault(photo.event_id, []).append(photo)
    out = []
    for e in events:
        actor = actors.get(e.actor_id) if e.actor_id else None
        # The reporter sees what happened, not which member of staff did it.
        show_actor = actor is not None and (view.internal or e.actor_id == principal.user_id)
        out.append(
            TimelineEvent(
                id=e.id,
                seq=e.seq,
                type=e.type,
                created_at=e.created_at,
                actor=PersonRef(id=actor.id, display_name=actor.display_name)
                if show_actor and actor
                else None,
                actor_role=e.actor_role,
                from_status=e.from_status,
                to_status=e.to_status,
                note=e.note,
                reason=e.reason,
                is_internal=e.is_internal,
                photos=[presenter.photo_read(p, view) for p in photos.get(e.id, [])],
            )
        )
    return out


async def add_comment(
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    body: str,
    internal: bool,
    now: datetime,
) -> TimelineEvent:
    report = await get_visible_report(session, principal, report_id)
    if principal.user_id is None:
        raise Forbidden("API keys are read-only")
    parts = case_parts(principal, report, await region_path(session, report))
    is_staff = not STAFF_PARTS.isdisjoint(parts)
    if internal and not is_staff:
        raise Forbidden("Only staff can write internal notes")
    if not is_staff and Actor.reporter not in parts:
        raise Forbidden("Only the reporter and the case's staff can comment")
    event = await append_event(
        session,
        report,
        type="comment",
        actor=principal,
        actor_role=acting_role(STAFF_PARTS if internal else COMMENTING_PARTS, parts),
        note=body,
        is_internal=internal,
        at=now,
    )
    user = await session.get_one(User, principal.user_id)
    return TimelineEvent(
        id=event.id,
        seq=event.seq,
        type=event.type,
        created_at=event.created_at,
        actor=PersonRef(id=user.id, display_name=user.display_name),
        actor_role=event.actor_role,
        from_status=None,
        to_status=None,
        note=event.note,
        reason=None,
        is_internal=event.is_internal,
    )
