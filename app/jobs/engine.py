"""The machinery every job action shares: the job loaded in the caller's scope with the parts
they play, the job state machine (``JOB_TRANSITIONS``) asked before anything changes, the
change written under an explicit version guard, and the ``job_<action>`` timeline event with
its ``job.<action>`` outbox event.

Every job action locks the report row before it reads the job, and bumps the report's
version: the job list is part of the case, and the report row is the one lock all jobs of a
case share, taken first by every writer of the case (``app.cases.locks``), so two units
leaving at the same moment cannot both conclude that the other is still on the case, and a
unit acting while the case is closed never waits for the closing in a circle."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from app.auth.principal import Principal
from app.auth.scope import region_path
from app.cases import clock_timers
from app.cases import engine as case_engine
from app.cases.locks import note_locked
from app.cases.parts import Parts, acting_role, case_parts
from app.cases.timeline import append_event
from app.cases.transitions import (
    JOB_STATUS_TIMESTAMP,
    Actor,
    JobAction,
    TransitionRefused,
    check_actor,
    job_action_actors,
    job_rule,
    next_job_status,
)
from app.core import etags
from app.core.errors import Forbidden, InvalidTransition, NotFound
from app.core.metrics import TRANSITIONS, count_on_commit
from app.integrations import outbox
from app.jobs import queries
from app.models import Job, Report, ReportEvent
from app.models.enums import JobStatus, Role


@dataclass(frozen=True)
class JobCase:
    """A job loaded for an action, with its report and the parts the caller plays."""

    job: Job
    report: Report
    actors: Parts


async def _lock_case_of(
    session: AsyncSession, principal: Principal, job_id: uuid.UUID
) -> tuple[Job, Report]:
    """The job and its report, read after the report's row is locked (PostgreSQL; see
    ``app.cases.locks``): the case's lock first, as every writer of the case takes it, then
    the job as the last writer left it. 404 outside the caller's scope."""
    report = await session.scalar(
        select(Report)
        .join(Job, Job.report_id == Report.id)
        .where(Job.id == job_id, queries.job_scope(principal))
        .with_for_update(of=Report)
        .execution_options(populate_existing=True)
    )
    if report is None:
        raise NotFound("No such job")
    note_locked(session, report.id)
    # populate_existing: an action that did its slow work first read the job before the lock.
    return await session.get_one(Job, (job_id, report.id), populate_existing=True), report


async def load_job_for_action(
    session: AsyncSession,
    principal: Principal,
    job_id: uuid.UUID,
    if_match: str | None,
    *,
    lock: bool = True,
) -> JobCase:
    """The job (404 outside the caller's scope; 412 if ``If-Match`` is stale), its report and
    the caller's parts: the report's (community staff, supervisor, …) and the job unit's staff.
    Admins do not play the unit: what a unit did is counted on its sheet.

    The case is locked first and the job and report read under the lock, so an action that
    waited for another acts on what that one left (and a job the closing of its case
    cancelled is 409). ``lock=False`` reads them without the lock, for the checks of an action
    with slow work (photos) to do before it writes: it loads them again locked when that is
    done."""
    if principal.user_id is None:
        raise Forbidden("API keys are read-only")
    report: Report | None = None
    if lock:
        job, report = await _lock_case_of(session, principal, job_id)
    else:
        job = await queries.get_visible_job(session, principal, job_id)
    etags.require_match(if_match, job.id, job.version, what="job")
    if report is None:
        report = await session.get_one(Report, job.report_id)
    actors = case_parts(principal, report, await region_path(session, report))
    if job.unit_id in principal.scope_ids(Role.unit_staff):
        actors[Actor.unit_staff] = Role.unit_staff
    return JobCase(job=job, report=report, actors=actors)


def next_status(job: Job, action: JobAction, actors: Parts) -> JobStatus:
    """Where ``action`` takes the job: 409 if its status does not allow it, 403 if the
    caller's part does not."""
    try:
        check_actor(job_rule(job.status, action), actors, f"{action.value} this job")
        return next_job_status(job.status, action)
    except TransitionRefused as exc:
        raise case_engine.refuse(exc) from exc


def entering(job: Job, status: JobStatus, now: datetime) -> dict[str, Any]:
    """The columns to set when the job moves to ``status``. A timestamp is set the first time
    only: a job reopened for rework keeps the moment the unit first accepted."""
    values: dict[str, Any] = {"status": status}
    column = JOB_STATUS_TIMESTAMP[status]
    if status is not job.status and getattr(job, column) is None:
        values[column] = now
    return values


async def save_guarded(session: AsyncSession, job: Job, now: datetime, **values: Any) -> None:
    """Write ``values`` if nobody changed the job since it was read (its version); 409 if
    somebody did. The job object is reloaded with what was written."""
    result = cast(
        CursorResult[Any],
        await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.version == job.version)
            .values(**values, version=Job.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise InvalidTransition(
            "Someone else acted on this job at the same moment; reload it and decide again"
        )
    await session.refresh(job)
    clock_timers.wake_for_job(session, job)


async def touch_report(session: AsyncSession, report: Report, now: datetime) -> None:
    """Bump the report's version (its guard fails if the case changed since it was read)."""
    report.updated_at = now
    # Also when the clock reads the same as at the last change: the version must move.
    flag_modified(report, "updated_at")
    await session.flush()


async def record_job_event(
    session: AsyncSession,
    case: JobCase,
    principal: Principal,
    name: str,
    now: datetime,
    *,
    action: JobAction,
    note: str | None = None,
    reason: str | None = None,
    is_internal: bool = False,
    extra: dict[str, Any] | None = None,
) -> ReportEvent:
    """The ``job_<name>`` timeline event and the ``job.<name>`` outbox event, recorded with the
    role that authorised ``action``."""
    data = {"job_id": str(case.job.id), "unit_id": str(case.job.unit_id), **(extra or {})}
    event = await append_event(
        session,
        case.report,
        type=f"job_{name}",
        actor=principal,
        actor_role=acting_role(job_action_actors(action), case.actors),
        note=note,
        reason=reason,
        is_internal=is_internal,
        data=data,
        at=now,
    )
    await outbox.record(
        session,
        f"job.{name}",
        case.report,
        now=now,
        job=case.job,
        data=data,
        internal=is_internal,
    )
    count_on_commit(session, TRANSITIONS.labels("job", name))
    return event
