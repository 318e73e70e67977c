"""The community's actions on a report, from triage to closure (the supervisors' escalation
and hold are in supervision.py, the whistle in whistle.py, the units' jobs in app/jobs). Each
action loads the report in the caller's scope, asks the state machine through the engine,
changes what the action changes, and leaves the commit to the request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.scope import report_scope
from app.cases import engine as case_engine
from app.cases.context import ActionContext
from app.cases.locks import lock_report
from app.cases.parts import Parts
from app.cases.transitions import ReportAction
from app.core.errors import InvalidTransition, ValidationFailed
from app.core.workcalendar import WorkingCalendar, due_at
from app.jobs.service import reopen_lead_job_for_rework, withdraw_open_jobs
from app.models import Category, Rating, Report, ReportEvent, RoleAssignment
from app.models.enums import ClosureType, HoursKind, PhotoKind, Role
from app.photos.pending import PhotosSent, photos_in_hand, require_photos
from app.photos.uploads import PhotoFile, PhotoServices, photo_row
from app.points.service import award
from app.workflow.schemas import (
    AcceptBody,
    MarkDuplicateBody,
    RateBody,
    RejectBody,
    ReopenBody,
    StartBody,
)


async def _load(
    ctx: ActionContext, report_id: uuid.UUID, *, lock: bool = True
) -> tuple[Report, Parts]:
    return await case_engine.load_for_action(
        ctx.session, ctx.principal, report_id, ctx.if_match, lock=lock
    )


def _limit_due(
    calendar: WorkingCalendar, category: Category, start: datetime, hours: float
) -> datetime:
    return due_at(calendar, start, hours, category.hours_kind is HoursKind.working)


async def _leaf_category(session: AsyncSession, code: str) -> Category:
    category = await session.get(Category, code)
    if category is None or not category.is_active or not category.is_leaf:
        raise ValidationFailed.at(["body", "category_code"], "no such category")
    return category


async def accept(ctx: ActionContext, report_id: uuid.UUID, body: AcceptBody) -> Report:
    report, actors = await _load(ctx, report_id)
    case_engine.ensure_allowed(report, ReportAction.accept, actors)
    category = await _leaf_category(ctx.session, body.category_code or report.category_code)
    changes = {}
    if category.code != report.category_code:
        changes["category_code"] = {"from": report.category_code, "to": category.code}
        report.category_code = category.code
    report.priority = body.priority or category.default_priority
    report.resolve_due_at = _limit_due(
        ctx.calendar, category, ctx.now, category.resolve_within_hours
    )
    await case_engine.transition(
        ctx.session,
        report,
        ReportAction.accept,
        actors=actors,
        principal=ctx.principal,
        now=ctx.now,
        calendar=ctx.calendar,
        note=body.note,
        data={"priority": report.priority.value, **changes},
    )
    await award(ctx.session, report, "accepted", ctx.now, ctx.settings)
    return report


async def _withdraw_open_jobs(ctx: ActionContext, report: Report, ended_by: ReportEvent) -> None:
    await withdraw_open_jobs(ctx.session, report, ctx.principal, ctx.now, role=ended_by.actor_role)


async def reject(ctx: ActionContext, report_id: uuid.UUID, body: RejectBody) -> Report:
    report, actors = await _load(ctx, report_id)
    event = await case_engine.transition(
        ctx.session,
        report,
        ReportAction.reject,
        actors=actors,
        principal=ctx.principal,
        now=ctx.now,
        note=body.note,
        reason=body.reason,
    )
    await _withdraw_open_jobs(ctx, report, event)
    return report


async def _root_of(session: AsyncSession, report: Report) -> Report:
    """Follow ``duplicate_of`` links to the report that is not itself a duplicate."""
    seen = {report.id}
    while report.duplicate_of_id is not None:
        if report.duplicate_of_id in seen:
            break
        seen.add(report.duplicate_of_id)
        parent = await session.get(Report, report.duplicate_of_id)
        if parent is None:
            break
        report = parent
    return report


async def mark_duplicate(
    ctx: ActionContext, report_id: uuid.UUID, body: MarkDuplicateBody
) -> Report:
    report, actors = await _load(ctx, report_id)
    case_engine.ensure_allowed(report, ReportAction.mark_duplicate, actors)
    # Only among the cases the caller may see: one elsewhere must read as absent, not as
    # "of another community".
    target = await ctx.session.scalar(
        select(Report).where(Report.id == body.duplicate_of, report_scope(ctx.principal))
    )
    if target is None:
        raise ValidationFailed.at(["body", "duplicate_of"], "no such report")
    root = await _root_of(ctx.session, target)
    if root.id == report.id:
        raise ValidationFailed.at(["body", "duplicate_of"], "a report cannot duplicate itself")
    same_place = (
        root.community_id == report.community_id
        if report.community_id is not None
        else root.region_id == report.region_id
    )
    if not same_place:
        raise ValidationFailed.at(
            ["body", "duplicate_of"], "the original must be a report of the same community"
        )
    report.duplicate_of_id = root.id
    event = await case_engine.transition(
        ctx.session,
        report,
        ReportAction.mark_duplicate,
        actors=actors,
        principal=ctx.principal,
        now=ctx.now,
        note=body.note,
        data={"duplicate_of": str(root.id), "duplicate_of_number": root.number},
    )
    await _withdraw_open_jobs(ctx, report, event)
    return report


async def start(ctx: ActionContext, report_id: uuid.UUID, body: StartBody) -> Report:
    report, actors = await _load(ctx, report_id)
    case_engine.ensure_allowed(report, ReportAction.start, actors)
    assignee = body.assignee_id or ctx.principal.user_id
    member = await ctx.session.scalar(
        select(RoleAssignment.id).where(
            RoleAssignment.user_id == assignee,
            RoleAssignment.community_id == report.community_id,
            RoleAssignment.role.in_([Role.community_staff, Role.grid_worker]),
        )
    )
    if member is None:
        raise ValidationFailed.at(
            ["body", "assignee_id"], "the assignee must be staff or a grid worker of the community"
        )
    report.assignee_id = assignee
    await case_engine.transition(
        ctx.session,
        report,
        ReportAction.start,
        actors=actors,
        principal=ctx.principal,
        now=ctx.now,
        note=body.note,
        data={"assignee_id": str(assignee)},
    )
    return report


async def _attach_photos(
    ctx: ActionContext,
    report: Report,
    event_id: uuid.UUID,
    files: Sequence[PhotoFile],
    kind: PhotoKind,
) -> None:
    for position, photo in enumerate(files):
        ctx.session.add(
            photo_row(
                photo,
                report_id=report.id,
                kind=kind,
                position=position,
                uploaded_by_id=ctx.principal.user_id,
                now=ctx.now,
                event_id=event_id,
            )
        )
    await ctx.session.flush()


def _photos_in_hand(
    ctx: ActionContext, sent: PhotosSent, photos: PhotoServices
) -> AbstractAsyncContextManager[list[PhotoFile]]:
    assert ctx.principal.user_id is not None
    return photos_in_hand(ctx.session, photos, ctx.principal.user_id, sent, ctx.now)


async def resolve(
    ctx: ActionContext,
    report_id: uuid.UUID,
    note: str | None,
    sent: PhotosSent,
    photos: PhotoServices,
) -> Report:
    """The community's own handler says it is done, with "after" photos."""
    report, actors = await _load(ctx, report_id, lock=False)
    case_engine.ensure_allowed(report, ReportAction.resolve, actors)
    if not sent.files and not sent.upload_ids:
        raise ValidationFailed.at(["body", "photos"], "send at least one photo of the result")
    require_photos(sent, ctx.settings, at_least_one=False)
    async with _photos_in_hand(ctx, sent, photos) as stored:
        # Only now: others may act on the case while the photos are converted.
        await lock_report(ctx.session, report.id)
        event = await case_engine.transition(
            ctx.session,
            report,
            ReportAction.resolve,
            actors=actors,
            principal=ctx.principal,
            now=ctx.now,
            calendar=ctx.calendar,
            note=note,
        )
        await _attach_photos(ctx, report, event.id, stored, PhotoKind.resolution)
    return report


def _check_facts(report: Report, passed: bool, on_the_spot: bool) -> dict[str, object]:
    if on_the_spot:
        return {"handled_on_the_spot": True, "passed": passed}
    if passed and report.closure_type:
        return {"closure_type": report.closure_type.value}
    return {"rework_count": report.rework_count}


async def _after_check(
    ctx: ActionContext, report: Report, event: ReportEvent, passed: bool, on_the_spot: bool
) -> None:
    """Closed: the units at work stop, the reporter earns (随手清 its own points). Not done:
    随手清 earns as an accepted case; any other case goes back to whoever handled it."""
    if passed:
        await _withdraw_open_jobs(ctx, report, event)
        await award(
            ctx.session,
            report,
            "self_resolved" if on_the_spot else "closed_bonus",
            ctx.now,
            ctx.settings,
        )
    elif on_the_spot:
        await award(ctx.session, report, "accepted", ctx.now, ctx.settings)
    else:
        await reopen_lead_job_for_rework(
            ctx.session,
            report,
            ctx.principal,
            ctx.now,
            calendar=ctx.calendar,
            role=event.actor_role,
        )


def _closure_type(report: Report) -> ClosureType:
    late = report.resolve_due_at is not None and (
        report.resolved_at is None or report.resolved_at > report.resolve_due_at
    )
    return ClosureType.overdue if late else ClosureType.normal


async def verify(
    ctx: ActionContext,
    report_id: uuid.UUID,
    passed: bool,
    note: str | None,
    sent: PhotosSent,
    photos: PhotoServices,
) -> Report:
    """On-the-spot check (核查): passed closes the case; failed sends it back for rework (返工),
    to the community's own handler or to the lead unit's reopened job."""
    report, actors = await _load(ctx, report_id, lock=False)
    action = ReportAction.verify_pass if passed else ReportAction.verify_fail
    case_engine.ensure_allowed(report, action, actors)
    require_photos(sent, ctx.settings, at_least_one=False)
    async with _photos_in_hand(ctx, sent, photos) as stored:
        # Only now: others may act on the case while the photos are converted.
        await lock_report(ctx.session, report.id)
        on_the_spot = case_engine.cleared_on_the_spot(report)
        if passed:
            report.closure_type = ClosureType.normal if on_the_spot else _closure_type(report)
        elif on_the_spot:
            # Not done after all: an ordinary case from now on, accepted by this check.
            category = await ctx.session.get_one(Category, report.category_code)
            report.resolve_due_at = _limit_due(
                ctx.calendar, category, ctx.now, category.resolve_within_hours
            )
        else:
            report.rework_count += 1
        event = await case_engine.transition(
            ctx.session,
            report,
            action,
            actors=actors,
            principal=ctx.principal,
            now=ctx.now,
            calendar=ctx.calendar,
            note=note,
            data=_check_facts(report, passed, on_the_spot),
        )
        await _attach_photos(ctx, report, event.id, stored, PhotoKind.verification)
        await _after_check(ctx, report, event, passed, on_the_spot)
    return report


async def reopen(ctx: ActionContext, report_id: uuid.UUID, body: ReopenBody) -> Report:
    report, actors = await _load(ctx, report_id)
    case_engine.ensure_allowed(report, ReportAction.reopen, actors)
    window = timedelta(days=ctx.settings.reopen_window_days)
    if report.closed_at is not None and ctx.now - report.closed_at > window:
        raise InvalidTransition(
            f"a case can be reopened within {ctx.settings.reopen_window_days} days of closing"
        )
    report.reopen_count += 1
    report.reopened_at = ctx.now
    report.closure_type = None
    category = await ctx.session.get_one(Category, report.category_code)
    report.resolve_due_at = _limit_due(
        ctx.calendar, category, ctx.now, category.resolve_within_hours
    )
    await case_engine.transition(
        ctx.session,
        report,
        ReportAction.reopen,
        actors=actors,
        principal=ctx.principal,
        now=ctx.now,
        note=body.note,
        reason=body.reason,
        data={"reopen_count": report.reopen_count},
    )
    return report


async def rate(ctx: ActionContext, report_id: uuid.UUID, body: RateBody) -> Report:
    report, actors = await _load(ctx, report_id)
    case_engine.ensure_allowed(report, ReportAction.rate, actors)
    if await ctx.session.get(Rating, report.id) is not None:
        raise ValidationFailed.at(["body", "satisfaction"], "the case has been rated already")
    ctx.session.add(
        Rating(
            report_id=report.id,
            satisfaction=body.satisfaction,
            comment=body.comment,
            rated_by_id=ctx.principal.user_id,
            created_at=ctx.now,
        )
    )
    report.satisfaction = body.satisfaction
    report.updated_at = ctx.now
    await case_engine.transition(
        ctx.session,
        report,
        ReportAction.rate,
        actors=actors,
        principal=ctx.principal,
        now=ctx.now,
        note=body.comment,
        data={"satisfaction": body.satisfaction.value},
    )
    return report
