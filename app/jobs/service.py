"""What units and the case's staff do with a job (派单), and what it means for the report:
accepting, declining and cancelling; the lead's job reopened for rework; the open jobs of a
case that ended withdrawn. The report's own status changes (the lead done → resolved; nobody left →
back to the community) go through the workflow engine.

Progress and completion (with photos) are in ``progress``, extensions in ``extensions``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.cases import engine as case_engine
from app.cases.context import ActionContext
from app.cases.parts import on_behalf_of
from app.cases.transitions import JobAction, ReportAction
from app.core.workcalendar import WorkingCalendar, due_at
from app.jobs import engine, queries
from app.jobs.schemas import JobCancel, JobDecline, JobRead
from app.models import Category, Job, Report, ReportEvent
from app.models.enums import OPEN_JOB_STATUSES, HoursKind, ReportStatus, Role


def _resolve_limit_from(calendar: WorkingCalendar, category: Category, start: datetime) -> datetime:
    """A completion time: the category's resolve limit, counted from ``start``."""
    return due_at(
        calendar, start, category.resolve_within_hours, category.hours_kind is HoursKind.working
    )


async def _open_jobs(session: AsyncSession, report: Report) -> list[Job]:
    return list(
        await session.scalars(
            select(Job).where(Job.report_id == report.id, Job.status.in_(list(OPEN_JOB_STATUSES)))
        )
    )


async def _unit_left(
    session: AsyncSession,
    case: engine.JobCase,
    principal: Principal,
    action: JobAction,
    now: datetime,
    *,
    note: str | None,
    reason: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """After a decline or a cancellation: with no unit left on a dispatched case it goes back
    to the community (accepted); with the lead gone but others still on it, it stays
    dispatched and is flagged for a new whistle naming a new lead."""
    remaining = await _open_jobs(session, case.report)
    dispatched = case.report.status is ReportStatus.dispatched
    needs_redispatch = dispatched and bool(remaining) and not any(j.is_lead for j in remaining)
    # Declines and cancellations are between the community and the units, not for the reporter.
    event = await engine.record_job_event(
        session,
        case,
        principal,
        action.value,
        now,
        action=action,
        note=note,
        reason=reason,
        is_internal=True,
        extra={**(extra or {}), "needs_redispatch": needs_redispatch},
    )
    if dispatched and not remaining:
        await case_engine.transition(
            session,
            case.report,
            ReportAction.all_declined,
            actors=on_behalf_of(event.actor_role),
            principal=principal,
            now=now,
            data={"job_id": str(case.job.id), "unit_id": str(case.job.unit_id)},
            job=case.job,
        )
    else:
        await engine.touch_report(session, case.report, now)


async def accept_job(
    ctx: ActionContext,
    job_id: uuid.UUID,
    note: str | None,
) -> JobRead:
    """The unit reports for duty: its answer clock stops and its completion clock starts, with
    the category's resolve limit from now (unless the whistle named the completion time)."""
    session, principal, now, if_match = ctx.session, ctx.principal, ctx.now, ctx.if_match
    case = await engine.load_job_for_action(session, principal, job_id, if_match)
    to = engine.next_status(case.job, JobAction.accept, case.actors)
    completion: dict[str, datetime] = {}
    if not case.job.complete_by_explicit:
        category = await session.get_one(Category, case.report.category_code)
        completion["complete_due_at"] = _resolve_limit_from(ctx.calendar, category, now)
    await engine.save_guarded(
        session, case.job, now, **engine.entering(case.job, to, now), **completion
    )
    await engine.record_job_event(
        session, case, principal, "accept", now, action=JobAction.accept, note=note
    )
    await engine.touch_report(session, case.report, now)
    return await queries.read_job(session, case.job.id, now, ctx.calendar)


async def decline_job(
    ctx: ActionContext,
    job_id: uuid.UUID,
    body: JobDecline,
) -> JobRead:
    session, principal, now, if_match = ctx.session, ctx.principal, ctx.now, ctx.if_match
    case = await engine.load_job_for_action(session, principal, job_id, if_match)
    to = engine.next_status(case.job, JobAction.decline, case.actors)
    await engine.save_guarded(
        session,
        case.job,
        now,
        **engine.entering(case.job, to, now),
        decline_reason_code=body.reason_code,
        decline_reason=body.reason,
    )
    await _unit_left(
        session,
        case,
        principal,
        JobAction.decline,
        now,
        note=body.note,
        reason=body.reason,
        extra={"reason_code": body.reason_code.value},
    )
    return await queries.read_job(session, case.job.id, now, ctx.calendar)


async def cancel_job(
    ctx: ActionContext,
    job_id: uuid.UUID,
    body: JobCancel,
) -> JobRead:
    session, principal, now, if_match = ctx.session, ctx.principal, ctx.now, ctx.if_match
    case = await engine.load_job_for_action(session, principal, job_id, if_match)
    to = engine.next_status(case.job, JobAction.cancel, case.actors)
    await engine.save_guarded(session, case.job, now, **engine.entering(case.job, to, now))
    await _unit_left(
        session, case, principal, JobAction.cancel, now, note=body.note, reason=body.reason
    )
    return await queries.read_job(session, case.job.id, now, ctx.calendar)


async def reopen_lead_job_for_rework(
    session: AsyncSession,
    report: Report,
    principal: Principal,
    now: datetime,
    *,
    calendar: WorkingCalendar,
    role: Role | None,
) -> Job | None:
    """Verification failed (返工): the lead job whose completion resolved the case goes back to
    accepted with a fresh completion time (the category's resolve limit from ``now``) and one
    more rework counted. None when the case was not resolved by a lead unit (handled in-house).

    For the caller's verify action (authorised by ``role``), in its transaction; it does not
    move the report."""
    resolved_by = await session.scalar(
        select(ReportEvent)
        .where(ReportEvent.report_id == report.id, ReportEvent.to_status == ReportStatus.resolved)
        .order_by(ReportEvent.seq.desc())
        .limit(1)
    )
    if resolved_by is None or resolved_by.type != ReportAction.lead_completed.value:
        return None
    job = await session.get_one(Job, (uuid.UUID(resolved_by.data["job_id"]), report.id))
    case = engine.JobCase(job=job, report=report, actors=on_behalf_of(role))
    to = engine.next_status(job, JobAction.rework, case.actors)
    category = await session.get_one(Category, report.category_code)
    complete_due = _resolve_limit_from(calendar, category, now)
    # completed_at is cleared so that an accepted job never looks finished; the completion
    # stays in the timeline.
    await engine.save_guarded(
        session,
        job,
        now,
        **engine.entering(job, to, now),
        completed_at=None,
        rework_count=Job.rework_count + 1,
        complete_due_at=complete_due,
    )
    await engine.record_job_event(
        session,
        case,
        principal,
        "rework",
        now,
        action=JobAction.rework,
        extra={"rework_count": job.rework_count},
    )
    return job


# Why a unit's open job was withdrawn when its case ended, by how the case ended.
ENDED_CASE_REASONS = {
    ReportStatus.closed: "The case was closed: nothing is left to do",
    ReportStatus.rejected: "The report was rejected",
    ReportStatus.duplicate: "The report was marked a duplicate of another case",
}


async def withdraw_open_jobs(
    session: AsyncSession,
    report: Report,
    principal: Principal,
    now: datetime,
    *,
    role: Role | None,
) -> list[Job]:
    """A case that ended (closed, rejected, marked a duplicate) leaves nothing for its units to
    answer or finish: each job still pending or accepted (an assisting unit still at work when
    the lead's result passed verification) is cancelled, its clocks stop, and the timeline and
    the unit (``job.cancel``) are told why. On behalf of the action that ended the case
    (authorised by ``role``), in its transaction. A reopened case keeps them cancelled: the
    community whistles again if units are needed."""
    reason = ENDED_CASE_REASONS[report.status]
    withdrawn = await _open_jobs(session, report)
    for job in withdrawn:
        case = engine.JobCase(job=job, report=report, actors=on_behalf_of(role))
        to = engine.next_status(job, JobAction.cancel, case.actors)
        await engine.save_guarded(session, job, now, **engine.entering(job, to, now))
        await engine.record_job_event(
            session,
            case,
            principal,
            JobAction.cancel.value,
            now,
            action=JobAction.cancel,
            reason=reason,
            is_internal=True,
            extra={"case_status": report.status.value, "needs_redispatch": False},
        )
    return withdrawn
