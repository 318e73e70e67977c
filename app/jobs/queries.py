"""Reading jobs: which jobs a caller may see, a unit's inbox, and a job as the API shows it."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.auth.scope import REGION_ROLES, STAFF_ROLES
from app.cases.clocks import NO_HISTORY, ClockHistory, load_histories, reading_time
from app.cases.transitions import JOB_CLOCKS_RUN_IN
from app.core.errors import NotFound
from app.core.lights import ClockRules, light
from app.core.pagination import PageParams, SortKey
from app.core.pruning import KeyFollowsTime, of_cases, one_plan_for_any_values
from app.core.sql import member_of
from app.core.union_pages import paginate_union
from app.core.workcalendar import WorkingCalendar
from app.jobs.schemas import JobRead
from app.models import Category, Job, JobExtension, Region, Report, Unit
from app.models.base import status_among
from app.models.enums import (
    OPEN_JOB_STATUSES,
    OPEN_REPORT_STATUSES,
    HoursKind,
    JobStatus,
    ReportStatus,
    Role,
)

# Jobs whose clocks no longer run although they never finished.
WITHDRAWN_JOB_STATUSES = frozenset({JobStatus.declined, JobStatus.cancelled})


@dataclass(frozen=True)
class JobFilters:
    statuses: Sequence[JobStatus] = ()
    overdue: bool = False
    unit_id: uuid.UUID | None = None
    report_id: uuid.UUID | None = None


def job_scope(principal: Principal) -> ColumnElement[bool]:
    """Admins see every job; unit staff their units' jobs; community staff and grid workers the
    jobs of their communities' reports; supervisors and viewers those of their regions'
    subtrees. For queries that join ``Report``."""
    if principal.is_admin:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if units := principal.scope_ids(Role.unit_staff):
        conditions.append(Job.unit_id.in_(units))
    if communities := principal.scope_ids(*STAFF_ROLES):
        conditions.append(Report.community_id.in_(communities))
    if paths := principal.region_paths(*REGION_ROLES):
        subtree = select(Region.id).where(or_(*(Region.path.startswith(p) for p in paths)))
        conditions.append(Report.region_id.in_(subtree))
    return or_(*conditions) if conditions else false()


def clocks_running() -> ColumnElement[bool]:
    """A job's clocks run while its case is open and not on hold: a case that closed, was
    rejected or marked a duplicate leaves nothing for a unit to answer or finish (its open jobs
    are cancelled then; older data may still hold some). For queries that join ``Report``."""
    return Report.status.in_(list(JOB_CLOCKS_RUN_IN))


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """A running clock past its deadline: a pending job not answered in time, an accepted one
    not done in time (the completion clock starts when the unit accepts)."""
    return and_(
        clocks_running(),
        or_(
            and_(Job.status == JobStatus.pending, Job.accept_due_at < now),
            and_(Job.status == JobStatus.accepted, Job.complete_due_at < now),
        ),
    )


@functools.cache
def needs_redispatch_condition() -> ColumnElement[bool]:
    """The report is dispatched but no lead job is open: the community has to name a new lead.
    Built once: an expression is never changed by the statements that use it, and building
    this one cost more than a millisecond a request."""
    lead = aliased(Job)
    open_lead = (
        select(lead.id)
        .where(
            lead.report_id == Report.id,
            lead.is_lead.is_(True),
            status_among(lead.status, [status.value for status in OPEN_JOB_STATUSES]),
        )
        .exists()
    )
    return and_(Report.status == ReportStatus.dispatched, ~open_lead)


@dataclass(frozen=True)
class JobClocks:
    """What the lights of one job need besides the job: its case's status, how the case counts
    hours, and the holds and reworks that stopped or restarted its clocks."""

    report_status: ReportStatus
    on_hold_at: datetime | None
    rules: ClockRules
    history: ClockHistory


def deadlines(job: Job, clocks: JobClocks, now: datetime) -> list[dict[str, Any]]:
    """The accept clock runs from the dispatch; the completion clock from the unit's
    acceptance (or its latest rework), so it is shown once the unit accepted, or from the start
    when the whistle named the completion time."""
    # On hold the lights stand still (read when the hold began); a finished case has none.
    stopped = (
        job.status in WITHDRAWN_JOB_STATUSES or clocks.report_status not in OPEN_REPORT_STATUSES
    )
    at = reading_time(clocks.report_status, clocks.on_hold_at, now)
    pauses = clocks.history.pauses
    out: list[dict[str, Any]] = []  # JobDeadline
    if job.accept_due_at is not None:
        # Declining answers the call too: the unit responded within (or after) the limit.
        answered = job.accepted_at or job.declined_at
        out.append(
            {
                "kind": "accept",
                "due_at": job.accept_due_at,
                "met_at": answered,
                "light": None
                if answered or stopped
                else light(job.created_at, job.accept_due_at, at, clocks.rules, pauses),
            }
        )
    if job.complete_due_at is not None:
        started = clocks.history.reworked_at.get(job.id, job.accepted_at)
        out.append(
            {
                "kind": "complete",
                "due_at": job.complete_due_at,
                "met_at": job.completed_at,
                "light": None
                if job.completed_at or stopped or started is None
                else light(started, job.complete_due_at, at, clocks.rules, pauses),
            }
        )
    return out


def _extension_fields(extension: JobExtension) -> dict[str, Any]:
    """An ExtensionRead, as plain values (see ``job_fields``)."""
    return {
        "id": extension.id,
        "requested_until": extension.requested_until,
        "previous_due_at": extension.previous_due_at,
        "reason": extension.reason,
        "status": extension.status,
        "requested_at": extension.requested_at,
        "decided_at": extension.decided_at,
        "decision_note": extension.decision_note,
    }


@functools.cache
def _presented_jobs() -> Select[
    Job, str, str, ReportStatus, datetime | None, float, HoursKind, bool, bool
]:
    """Jobs with what their answer shows of their unit, report and category, in the order of
    their cases and whistles (lead first); built once, the caller adds its condition."""
    return (
        select(
            Job,
            Unit.name.label("unit_name"),
            Report.number.label("report_number"),
            Report.status.label("report_status"),
            Report.on_hold_at,
            Report.held_seconds,
            Category.hours_kind,
            needs_redispatch_condition().label("needs_redispatch"),
            # Most jobs never ask for more time: their requests are read only where there are.
            exists()
            .where(JobExtension.job_id == Job.id, JobExtension.report_id == Job.report_id)
            .correlate(Job)
            .label("asked_for_time"),
        )
        .join(Unit, Unit.id == Job.unit_id)
        .join(Report, Report.id == Job.report_id)
        .join(Category, Category.code == Report.category_code)
        .order_by(Job.report_id, Job.created_at, Job.is_lead.desc(), Unit.name)
    )


async def present_where(
    session: AsyncSession,
    condition: ColumnElement[bool],
    now: datetime,
    calendar: WorkingCalendar,
) -> list[dict[str, Any]]:
    """The jobs matching ``condition`` as the API shows them (JobRead's fields, see
    ``job_fields``), in the order of their cases and whistles (lead first): one query for the
    jobs with their units and reports, one for the extensions, however many jobs match, and
    one for the holds and reworks of the few cases that had any."""
    async with one_plan_for_any_values(session):
        rows = (await session.execute(_presented_jobs().where(condition))).all()
        asked = [row.Job for row in rows if row.asked_for_time]
        extensions = await _extensions_of(session, asked)
        histories = await load_histories(
            session,
            {row.Job.report_id for row in rows if row.held_seconds or row.Job.rework_count},
        )
    rules = {
        kind: ClockRules(working=kind is HoursKind.working, calendar=calendar) for kind in HoursKind
    }
    return [
        job_fields(
            row,
            extensions.get(row.Job.id, []),
            JobClocks(
                report_status=row.report_status,
                on_hold_at=row.on_hold_at,
                rules=rules[row.hours_kind],
                history=histories.get(row.Job.report_id, NO_HISTORY),
            ),
            now,
        )
        for row in rows
    ]


# A job with what its answer shows of its unit, report and category (see ``present_where``).
_JobRow = Row[Job, str, str, ReportStatus, datetime | None, float, HoursKind, bool, bool]


async def _extensions_of(
    session: AsyncSession, asked: list[Job]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The requests for more time of the jobs that asked for some, oldest first, in one query
    (none when no job asked)."""
    extensions: dict[uuid.UUID, list[dict[str, Any]]] = {job.id: [] for job in asked}
    if asked:
        for extension in await session.scalars(
            select(JobExtension)
            .where(
                member_of(session, JobExtension.job_id, list(extensions)),
                of_cases(session, JobExtension.report_id, {job.report_id for job in asked}),
            )
            .order_by(JobExtension.requested_at, JobExtension.id)
        ):
            extensions[extension.job_id].append(_extension_fields(extension))
    return extensions


def job_fields(
    row: _JobRow, extensions: list[dict[str, Any]], clocks: JobClocks, now: datetime
) -> dict[str, Any]:
    """A job as the API shows it: JobRead's fields in its order, as plain values that are
    serialised as they are (app/core/responses.py) — a page of jobs is not validated field by
    field on its way out. ``JobRead.model_validate`` of it is the same answer as a model."""
    job: Job = row.Job
    return {
        "id": job.id,
        "report_id": job.report_id,
        "report_number": row.report_number,
        "report_status": row.report_status,
        "needs_redispatch": bool(row.needs_redispatch),
        "unit": {"id": job.unit_id, "name": row.unit_name},
        "is_lead": job.is_lead,
        "status": job.status,
        "version": job.version,
        "complete_by_explicit": job.complete_by_explicit,
        "deadlines": deadlines(job, clocks, now),
        "decline_reason_code": job.decline_reason_code,
        "decline_reason": job.decline_reason,
        "rework_count": job.rework_count,
        "extension_count": job.extension_count,
        "extensions": extensions,
        "created_at": job.created_at,
        "accepted_at": job.accepted_at,
        "completed_at": job.completed_at,
        "declined_at": job.declined_at,
        "cancelled_at": job.cancelled_at,
        "updated_at": job.updated_at,
    }


async def read_job(
    session: AsyncSession, job_id: uuid.UUID, now: datetime, calendar: WorkingCalendar
) -> JobRead:
    (job,) = await present_where(session, Job.id == job_id, now, calendar)
    return JobRead.model_validate(job)


async def get_visible_job(session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> Job:
    """The job if the caller may see it; 404 otherwise (its existence is not revealed)."""
    job = await session.scalar(
        select(Job)
        .join(Report, Report.id == Job.report_id)
        .where(Job.id == job_id, job_scope(principal))
    )
    if job is None:
        raise NotFound("No such job")
    return job


async def read_visible_job(
    session: AsyncSession,
    principal: Principal,
    job_id: uuid.UUID,
    now: datetime,
    calendar: WorkingCalendar,
) -> JobRead:
    job = await get_visible_job(session, principal, job_id)
    return await read_job(session, job.id, now, calendar)


async def list_jobs(
    session: AsyncSession,
    principal: Principal,
    filters: JobFilters,
    params: PageParams,
    now: datetime,
    calendar: WorkingCalendar,
) -> tuple[list[dict[str, Any]], str | None]:
    conditions = [job_scope(principal)]
    if filters.statuses:
        conditions.append(Job.status.in_(list(filters.statuses)))
    if filters.overdue:
        conditions.append(overdue_condition(now))
    if filters.unit_id:
        conditions.append(Job.unit_id == filters.unit_id)
    if filters.report_id:
        conditions.append(Job.report_id == filters.report_id)
    # The page's keys, and each job's case (the partition key, to read the jobs by): the jobs
    # themselves are read once, by ``present_where``.
    keys_only = (
        select(Job.created_at, Job.id, Job.report_id)
        .join(Report, Report.id == Job.report_id)
        .where(*conditions)
    )
    keys = [
        # A job is made after its case was filed: the case's id bounds the months to read.
        SortKey(
            Job.created_at, descending=True, partition_key=KeyFollowsTime(Job.report_id, False)
        ),
        SortKey(Job.id, descending=True),
    ]
    # An unfiltered unit inbox reads its own index newest first whatever the unit; filters,
    # and the scopes that join the cases, are planned for their values.
    plain = filters == JobFilters() and principal.roles <= {Role.unit_staff}
    async with one_plan_for_any_values(session):  # as for a page of cases
        page, cursor = await paginate_union(
            session, [keys_only], keys, params, plan_for_values=not plain
        )
        if not page:
            return [], cursor
        # The cases' range beside the ids: PostgreSQL leaves out the months none of them was
        # filed in, where the ids alone had it probe every month's key index.
        on_page = and_(
            member_of(session, Job.id, [row.id for row in page]),
            of_cases(session, Job.report_id, {row.report_id for row in page}),
        )
        presented = await present_where(session, on_page, now, calendar)
    by_id = {read["id"]: read for read in presented}
    return [by_id[row.id] for row in page], cursor
