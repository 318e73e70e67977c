"""The unit reports on its work: progress (a note, photos if any) and completion (办结, with
at least one "after" photo). The lead's completion resolves the case.

The photo work runs after the checks (no upload for a refused action) and before the writes;
whatever fails after the upload removes the objects again. Photos uploaded first
(``photo_ids``) are claimed in the action's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.cases import engine as case_engine
from app.cases.context import ActionContext
from app.cases.parts import on_behalf_of
from app.cases.transitions import JobAction, ReportAction
from app.core.errors import ValidationFailed
from app.jobs import engine, queries
from app.jobs.schemas import JobRead
from app.models import ReportEvent
from app.models.enums import JobStatus, PhotoKind
from app.photos.pending import PhotosSent, photos_in_hand, require_photos
from app.photos.uploads import PhotoFile, PhotoServices, photo_row


def _required_note(note: str) -> str:
    text = note.strip()
    if not text:
        raise ValidationFailed.at(["body", "note"], "write what was done")
    return text


def _add_photos(
    session: AsyncSession,
    files: Sequence[PhotoFile],
    case: engine.JobCase,
    event: ReportEvent,
    kind: PhotoKind,
    principal: Principal,
    now: datetime,
) -> None:
    for position, photo in enumerate(files):
        session.add(
            photo_row(
                photo,
                report_id=case.report.id,
                kind=kind,
                position=position,
                uploaded_by_id=principal.user_id,
                now=now,
                event_id=event.id,
            )
        )


async def _locked_again(
    session: AsyncSession,
    principal: Principal,
    case: engine.JobCase,
    if_match: str | None,
    action: JobAction,
) -> tuple[engine.JobCase, JobStatus]:
    """The job and its case read again under the case's lock, once the photos are stored: the
    photo work runs without the lock, so that the case's other writers do not wait for it, and
    the case may have changed meanwhile (closed, its jobs cancelled): asked again, the state
    machine refuses then with 409, and the stored photos are removed."""
    case = await engine.load_job_for_action(session, principal, case.job.id, if_match)
    return case, engine.next_status(case.job, action, case.actors)


async def report_progress(
    ctx: ActionContext,
    job_id: uuid.UUID,
    note: str,
    sent: PhotosSent,
    *,
    photos: PhotoServices,
) -> JobRead:
    session, principal, now, if_match = ctx.session, ctx.principal, ctx.now, ctx.if_match
    case = await engine.load_job_for_action(session, principal, job_id, if_match, lock=False)
    engine.next_status(case.job, JobAction.progress, case.actors)
    text = _required_note(note)
    require_photos(sent, photos.settings, at_least_one=False)
    assert principal.user_id is not None
    async with photos_in_hand(session, photos, principal.user_id, sent, now) as stored:
        case, _ = await _locked_again(session, principal, case, if_match, JobAction.progress)
        await engine.save_guarded(session, case.job, now)
        event = await engine.record_job_event(
            session, case, principal, "progress", now, action=JobAction.progress, note=text
        )
        _add_photos(session, stored, case, event, PhotoKind.progress, principal, now)
        await engine.touch_report(session, case.report, now)
        return await queries.read_job(session, case.job.id, now, ctx.calendar)


async def complete_job(
    ctx: ActionContext,
    job_id: uuid.UUID,
    note: str,
    sent: PhotosSent,
    *,
    photos: PhotoServices,
) -> JobRead:
    """The unit is done, with "after" photos. The lead's completion resolves the case (待核查);
    assisting units still at work carry on and do not hold it up."""
    session, principal, now, if_match = ctx.session, ctx.principal, ctx.now, ctx.if_match
    case = await engine.load_job_for_action(session, principal, job_id, if_match, lock=False)
    engine.next_status(case.job, JobAction.complete, case.actors)
    text = _required_note(note)
    require_photos(sent, photos.settings, at_least_one=True)
    assert principal.user_id is not None
    async with photos_in_hand(session, photos, principal.user_id, sent, now) as stored:
        case, to = await _locked_again(session, principal, case, if_match, JobAction.complete)
        await engine.save_guarded(session, case.job, now, **engine.entering(case.job, to, now))
        event = await engine.record_job_event(
            session, case, principal, "complete", now, action=JobAction.complete, note=text
        )
        _add_photos(session, stored, case, event, PhotoKind.resolution, principal, now)
        if case.job.is_lead:
            await case_engine.transition(
                session,
                case.report,
                ReportAction.lead_completed,
                actors=on_behalf_of(event.actor_role),
                principal=principal,
                now=now,
                calendar=ctx.calendar,
                data={"job_id": str(case.job.id), "unit_id": str(case.job.unit_id)},
                job=case.job,
            )
        else:
            await engine.touch_report(session, case.report, now)
        return await queries.read_job(session, case.job.id, now, ctx.calendar)
