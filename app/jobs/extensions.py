"""A unit's request for more time (延期申请), one waiting at a time, and the decision of the
case's community staff or a supervisor: granted, the completion time moves to the one asked
for."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.context import ActionContext
from app.cases.transitions import JobAction
from app.core.errors import ValidationFailed
from app.jobs import engine, queries
from app.jobs.exceptions import ExtensionAlreadyPending, NoPendingExtension
from app.jobs.schemas import ExtensionCreate, JobRead
from app.models import Job, JobExtension
from app.models.enums import ExtensionStatus
from app.models.ids import new_id


async def _pending_extension(session: AsyncSession, job: Job) -> JobExtension | None:
    return await session.scalar(
        select(JobExtension).where(
            JobExtension.job_id == job.id, JobExtension.status == ExtensionStatus.pending
        )
    )


async def request_extension(
    ctx: ActionContext,
    job_id: uuid.UUID,
    body: ExtensionCreate,
) -> JobRead:
    session, principal, now, if_match = ctx.session, ctx.principal, ctx.now, ctx.if_match
    case = await engine.load_job_for_action(session, principal, job_id, if_match)
    engine.next_status(case.job, JobAction.request_extension, case.actors)
    if await _pending_extension(session, case.job) is not None:
        raise ExtensionAlreadyPending("Wait for the decision on the request already made")
    current = case.job.complete_due_at
    if body.until <= now or (current is not None and body.until <= current):
        raise ValidationFailed.at(
            ["body", "until"],
            "must be in the future and after the current completion time"
            + (f" ({current.isoformat()})" if current else ""),
        )
    extension = JobExtension(
        id=new_id(),
        job_id=case.job.id,
        report_id=case.job.report_id,
        requested_until=body.until,
        previous_due_at=current,
        reason=body.reason,
        status=ExtensionStatus.pending,
        requested_by_id=principal.user_id,
        requested_at=now,
    )
    session.add(extension)
    await engine.save_guarded(session, case.job, now)
    await engine.record_job_event(
        session,
        case,
        principal,
        "extension_request",
        now,
        action=JobAction.request_extension,
        note=body.note,
        reason=body.reason,
        is_internal=True,
        extra={"extension_id": str(extension.id), "until": body.until.isoformat()},
    )
    await engine.touch_report(session, case.report, now)
    return await queries.read_job(session, case.job.id, now, ctx.calendar)


async def decide_extension(
    ctx: ActionContext,
    job_id: uuid.UUID,
    note: str | None,
    *,
    grant: bool,
) -> JobRead:
    """Grant (the completion time moves to the one asked for) or refuse the pending request."""
    session, principal, now, if_match = ctx.session, ctx.principal, ctx.now, ctx.if_match
    case = await engine.load_job_for_action(session, principal, job_id, if_match)
    engine.next_status(case.job, JobAction.decide_extension, case.actors)
    extension = await _pending_extension(session, case.job)
    if extension is None:
        raise NoPendingExtension("The unit has not asked for more time, or it was decided")
    extension.status = ExtensionStatus.granted if grant else ExtensionStatus.refused
    extension.decided_by_id = principal.user_id
    extension.decided_at = now
    extension.decision_note = note
    if grant:
        await engine.save_guarded(
            session,
            case.job,
            now,
            complete_due_at=extension.requested_until,
            extension_count=Job.extension_count + 1,
        )
    else:
        await engine.save_guarded(session, case.job, now)
    await engine.record_job_event(
        session,
        case,
        principal,
        "extension_grant" if grant else "extension_refuse",
        now,
        action=JobAction.decide_extension,
        note=note,
        is_internal=True,
        extra={
            "extension_id": str(extension.id),
            "until": extension.requested_until.isoformat(),
        },
    )
    await engine.touch_report(session, case.report, now)
    return await queries.read_job(session, case.job.id, now, ctx.calendar)
