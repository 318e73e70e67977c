"""The supervisors' powers over a case (督办): escalation to the region above with a
supervision level, and the hold (挂账) that stops every clock until the case resumes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from app.cases import engine as case_engine
from app.cases.context import ActionContext
from app.cases.transitions import Actor, ReportAction
from app.core.errors import Forbidden, InvalidTransition
from app.core.workcalendar import WorkingCalendar
from app.models import Category, Job, Region, Report
from app.models.enums import OPEN_JOB_STATUSES, HoursKind, SupervisionLevel
from app.workflow.overdue import level_rank
from app.workflow.schemas import EscalateBody, HoldBody, ResumeBody


async def escalate(ctx: ActionContext, report_id: uuid.UUID, body: EscalateBody) -> Report:
    """上报/督办: ownership moves to the supervisors of the region above; the supervision level
    says how urgent (a yellow or red card is a supervisor's to give)."""
    report, actors = await case_engine.load_for_action(
        ctx.session, ctx.principal, report_id, ctx.if_match
    )
    case_engine.ensure_allowed(report, ReportAction.escalate, actors)
    level = body.level or SupervisionLevel.normal
    if level is not SupervisionLevel.normal and Actor.supervisor not in actors:
        raise Forbidden("only supervisors give yellow or red cards")
    region = await ctx.session.get_one(Region, report.region_id)
    if region.parent_id is None:
        raise InvalidTransition("the report is already owned by the top region")
    before = report.region_id
    report.region_id = region.parent_id
    if level_rank(level) > level_rank(report.supervision_level):
        report.supervision_level = level
    report.escalation_count += 1
    report.escalated_at = ctx.now
    await case_engine.transition(
        ctx.session,
        report,
        ReportAction.escalate,
        actors=actors,
        principal=ctx.principal,
        now=ctx.now,
        note=body.note,
        reason=body.reason,
        data={
            "from_region_id": str(before),
            "to_region_id": str(region.parent_id),
            "supervision_level": (report.supervision_level or level).value,
        },
    )
    return report


async def hold(ctx: ActionContext, report_id: uuid.UUID, body: HoldBody) -> Report:
    """挂账: long-term or seasonal work, approved by a supervisor; every clock stops."""
    report, actors = await case_engine.load_for_action(
        ctx.session, ctx.principal, report_id, ctx.if_match
    )
    case_engine.ensure_allowed(report, ReportAction.hold, actors)
    report.status_before_hold = report.status
    await case_engine.transition(
        ctx.session,
        report,
        ReportAction.hold,
        actors=actors,
        principal=ctx.principal,
        now=ctx.now,
        note=body.note,
        reason=body.reason,
    )
    return report


def _shift(
    calendar: WorkingCalendar, due: datetime | None, start: datetime, end: datetime, working: bool
) -> datetime | None:
    """``due`` moved later by the time between ``start`` and ``end`` (in working hours when the
    limit counts working hours)."""
    if due is None:
        return None
    if working:
        return calendar.add_working_hours(due, calendar.working_hours_between(start, end))
    return due + (end - start)


async def resume(ctx: ActionContext, report_id: uuid.UUID, body: ResumeBody) -> Report:
    report, actors = await case_engine.load_for_action(
        ctx.session, ctx.principal, report_id, ctx.if_match
    )
    case_engine.ensure_allowed(report, ReportAction.resume, actors)
    held_from = report.on_hold_at
    assert held_from is not None
    category = await ctx.session.get_one(Category, report.category_code)
    working = category.hours_kind is HoursKind.working
    report.held_seconds += (ctx.now - held_from).total_seconds()
    report.held_working_seconds += ctx.calendar.working_hours_between(held_from, ctx.now) * 3600
    report.resolve_due_at = _shift(ctx.calendar, report.resolve_due_at, held_from, ctx.now, working)
    jobs = await ctx.session.scalars(
        select(Job).where(Job.report_id == report.id, Job.status.in_(list(OPEN_JOB_STATUSES)))
    )
    for job in jobs:
        job.accept_due_at = _shift(ctx.calendar, job.accept_due_at, held_from, ctx.now, working)
        # A unit that accepted during the hold started its completion clock then: it stood
        # still from that moment only.
        complete_stopped = max(held_from, job.accepted_at) if job.accepted_at else held_from
        job.complete_due_at = _shift(
            ctx.calendar, job.complete_due_at, complete_stopped, ctx.now, working
        )
        job.version += 1
    await case_engine.transition(
        ctx.session,
        report,
        ReportAction.resume,
        actors=actors,
        principal=ctx.principal,
        now=ctx.now,
        note=body.note,
        data={"held_hours": round((ctx.now - held_from).total_seconds() / 3600, 2)},
    )
    report.status_before_hold = None
    return report
