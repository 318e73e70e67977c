"""Applying a transition to a report: the one path every status change takes.

It checks the state machine and the actor, stamps the status's timestamp, writes the timeline
event and the outbox event; the version column guards against two people acting at once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import region_path, report_scope
from app.cases import day_counts
from app.cases.locks import lock_report
from app.cases.measured import hours_to_record, record_hours
from app.cases.parts import Parts, acting_role, case_parts
from app.cases.timeline import append_event
from app.cases.transitions import (
    REPORT_STATUS_TIMESTAMP,
    ReportAction,
    TransitionRefused,
    check_actor,
    next_report_status,
    report_rule,
)
from app.core import etags
from app.core.errors import Forbidden, InvalidTransition, NotFound
from app.core.metrics import TRANSITIONS, count_on_commit
from app.core.workcalendar import WorkingCalendar
from app.integrations import outbox
from app.models import Job, Report, ReportEvent
from app.models.enums import ReportStatus

# Timestamps kept from the first time the status was entered: the acceptance is what response
# statistics measure, and a reopened case does not move it.
FIRST_ENTRY_ONLY = frozenset({ReportStatus.accepted})


async def load_for_action(
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    if_match: str | None,
    *,
    lock: bool = True,
) -> tuple[Report, Parts]:
    """The report (404 outside the caller's scope; 412 if ``If-Match`` is stale) and the parts
    the caller plays in it, each with the role that gives it.

    The report row is then locked before anything of the case is written (see
    ``app.cases.locks``), unless ``lock`` is false: for an action that first does slow work
    (photos), which locks the case itself when that is done. The report is kept as it was
    read, so an action that had to wait for another that changed the case meanwhile is refused
    by the version (409) rather than taken on what the caller did not see."""
    if principal.user_id is None:
        raise Forbidden("API keys are read-only")
    report = await session.scalar(
        select(Report).where(Report.id == report_id, report_scope(principal))
    )
    if report is None:
        raise NotFound("No such report")
    etags.require_match(if_match, report.id, report.version, what="report")
    if lock:
        await lock_report(session, report.id)
    return report, case_parts(principal, report, await region_path(session, report))


def refuse(exc: TransitionRefused) -> Exception:
    if exc.by_status:
        return InvalidTransition(str(exc))
    return Forbidden(str(exc))


def ensure_allowed(report: Report, action: ReportAction, actors: Parts) -> None:
    """409 if the status does not allow the action, 403 if the caller's part does not."""
    try:
        rule = report_rule(report.status, action)
        check_actor(rule, actors, f"{action.value} this report")
    except TransitionRefused as exc:
        raise refuse(exc) from exc


def enter(report: Report, status: ReportStatus, now: datetime) -> None:
    column = REPORT_STATUS_TIMESTAMP[status]
    if status not in FIRST_ENTRY_ONLY or getattr(report, column) is None:
        setattr(report, column, now)
    report.status = status
    report.updated_at = now


def cleared_on_the_spot(report: Report) -> bool:
    """随手清: filed as handled by its reporter and not (yet) made an ordinary case."""
    return report.handled_on_the_spot and report.accepted_at is None


async def whistled(session: AsyncSession, report: Report) -> bool:
    """Whether the lead unit's completion resolved the case (rework then goes back to the
    units), rather than the community's own handling: a case whose units all declined may
    have been handled in-house after, and must come back to the community."""
    resolved_by = await session.scalar(
        select(ReportEvent.type)
        .where(ReportEvent.report_id == report.id, ReportEvent.to_status == ReportStatus.resolved)
        .order_by(ReportEvent.seq.desc())
        .limit(1)
    )
    return resolved_by == ReportAction.lead_completed.value


async def _move(
    session: AsyncSession,
    report: Report,
    after: ReportStatus,
    now: datetime,
    calendar: WorkingCalendar | None,
    action: ReportAction,
) -> None:
    """Put the case in ``after`` (not yet written), with what the move makes known: the events
    counted per day, the hours it took."""
    accepted_before, closed_before = report.accepted_at is not None, report.closed_at
    if after is report.status:
        # Staying in a status (a rating, a transfer, an escalation) is not entering it: its
        # timestamp keeps the moment it was entered.
        report.updated_at = now
    else:
        enter(report, after, now)
    await day_counts.count_transition(
        session, report, accepted_before=accepted_before, closed_before=closed_before
    )
    if hours_to_record(report):
        if calendar is None:
            raise ValueError(f"{action.value} records the case's hours: pass the calendar")
        await record_hours(session, report, calendar)


async def transition(
    session: AsyncSession,
    report: Report,
    action: ReportAction,
    *,
    actors: Parts,
    principal: Principal | None,
    now: datetime,
    note: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    is_internal: bool = False,
    job: Job | None = None,
    calendar: WorkingCalendar | None = None,
) -> ReportEvent:
    """Move ``report`` by ``action``; record it in the timeline (with the role that authorised
    it among the parts the caller plays) and the outbox. ``calendar`` is needed by the moves
    that make the case's hours known (its first acceptance, a resolution)."""
    ensure_allowed(report, action, actors)
    before = report.status
    role = acting_role(report_rule(before, action).actors, actors)
    try:
        after = next_report_status(
            before,
            action,
            previous=report.status_before_hold,
            whistled=await whistled(session, report),
            on_the_spot=cleared_on_the_spot(report),
        )
    except TransitionRefused as exc:
        raise refuse(exc) from exc
    await _move(session, report, after, now, calendar, action)
    await session.flush()  # bumps the version; a concurrent change fails here
    event = await append_event(
        session,
        report,
        type=action.value,
        actor=principal,
        actor_role=role if principal is not None else None,
        from_status=before,
        to_status=after,
        note=note,
        reason=reason,
        is_internal=is_internal,
        data=data,
        at=now,
    )
    await outbox.record(
        session,
        f"report.{action.value}",
        report,
        now=now,
        job=job,
        data=data,
        internal=is_internal,
    )
    count_on_commit(session, TRANSITIONS.labels("report", action.value))
    return event
