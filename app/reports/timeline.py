"""A case's timeline as its readers see it, and the comments they add to it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import region_path, report_scope
from app.cases.parts import acting_role, case_parts
from app.cases.timeline import append_event
from app.cases.transitions import Actor
from app.cases.visibility import STAFF_PARTS, case_view
from app.core.errors import Forbidden, NotFound
from app.models import Photo, Report, ReportEvent, User
from app.reports import presenter
from app.reports.queries import get_visible_report
from app.reports.schemas import PersonRef, TimelineEvent

# Who may comment on a case: its staff (internal notes too) and its reporter.
COMMENTING_PARTS = STAFF_PARTS | {Actor.reporter}


async def _visible_case(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID
) -> tuple[Report, str, str | None]:
    """The report if the caller may see it (404 otherwise), with the paths its view depends
    on, in one statement."""
    row = (
        await session.execute(
            presenter.case_with_paths().where(Report.id == report_id, report_scope(principal))
        )
    ).one_or_none()
    if row is None:
        raise NotFound("No such report")
    return row.Report, row.region_path, row.place_path


def event_fields(
    event: ReportEvent, actor: PersonRef | None, photos: list[dict[str, Any]]
) -> dict[str, Any]:
    """A TimelineEvent as plain values (see app/core/responses.py)."""
    return {
        "id": event.id,
        "seq": event.seq,
        "type": event.type,
        "created_at": event.created_at,
        "actor": None if actor is None else actor.model_dump(),
        "actor_role": event.actor_role,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "reason": event.reason,
        "is_internal": event.is_internal,
        "photos": photos,
    }


async def timeline(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, now: datetime
) -> list[dict[str, Any]]:
    """The case's events as the caller sees them, oldest first: TimelineEvent's fields, as
    plain values (see app/core/responses.py). Three statements: the case, its events with
    their actors, the photos that came with events."""
    report, owner_path, place = await _visible_case(session, principal, report_id)
    view = case_view(principal, report, owner_path, place)
    stmt = (
        select(ReportEvent, User.display_name)
        .outerjoin(User, User.id == ReportEvent.actor_id)
        .where(ReportEvent.report_id == report.id)
    )
    if not view.internal:
        stmt = stmt.where(ReportEvent.is_internal.is_(False))
    events = (await session.execute(stmt.order_by(ReportEvent.seq))).all()
    photos: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for photo in await session.scalars(
        select(Photo)
        .where(Photo.report_id == report.id, Photo.event_id.is_not(None))
        .order_by(Photo.position)
    ):
        assert photo.event_id is not None
        photos.setdefault(photo.event_id, []).append(presenter.photo_fields(photo, view, now))
    out = []
    for e, actor_name in events:
        # The reporter sees what happened, not which member of staff did it.
        shown = actor_name is not None and (view.internal or e.actor_id == principal.user_id)
        actor = PersonRef(id=e.actor_id, display_name=actor_name) if shown else None
        out.append(event_fields(e, actor, photos.get(e.id, [])))
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
    actor = PersonRef(id=user.id, display_name=user.display_name)
    return TimelineEvent.model_validate(event_fields(event, actor, []))
