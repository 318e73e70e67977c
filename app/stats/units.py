"""一个单位一张表: one row per unit (docs/product.md, "One sheet per unit"), from the job rows
sent to it in the period on the cases the caller may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.scope import REGION_ROLES, STAFF_ROLES
from app.core.config import Settings
from app.core.sql import CASES_WITH_THEIR_ROWS, settings_for_the_block
from app.models import Category, Job, JobExtension, Report, Unit
from app.models.enums import (
    DeclineReason,
    ExtensionStatus,
    HoursKind,
    JobStatus,
    ReportStatus,
    Role,
    Satisfaction,
)
from app.stats.measures import optional_float, rate, satisfaction_rate, weighted_score
from app.stats.schemas import UnitRow, UnitSheet
from app.stats.selection import StatsQuery, case_filters, region_subtree, within
from app.stats.summary import period_of
from app.stats.timesql import (
    china_day,
    china_day_number,
    days_between,
    epoch_seconds,
    number,
    working_seconds_at,
)

JS = JobStatus


class _JobClock:
    """Hours between a job's moments in its category's kind of hours."""

    MOMENTS = ("created_at", "accepted_at", "completed_at", "complete_due_at")

    def __init__(self, query: StatsQuery) -> None:
        # The days the jobs' moments can fall on: from the period's first day to today; a
        # completion deadline may lie ahead.
        first, last = china_day(query.start), china_day(max(query.end, query.now)) + 1
        self.days = {
            # A completion deadline may lie ahead of today, within a year or so.
            name: days_between(
                f"job_{name}_day", first, last + 400 if name == "complete_due_at" else last
            )
            for name in self.MOMENTS
        }
        self.working = Category.hours_kind == HoursKind.working.value

    def join(self, statement: Select[Any]) -> Select[Any]:
        statement = statement.join(Category, Category.code == Report.category_code)
        for name, day in self.days.items():
            column = getattr(Job, name)
            statement = statement.outerjoin(
                day, and_(self.working, day.c.day_number == china_day_number(column))
            )
        return statement

    def hours(self, start: str, end: str) -> ColumnElement[Any]:
        start_column, end_column = getattr(Job, start), getattr(Job, end)
        working = working_seconds_at(end_column, self.days[end].c) - working_seconds_at(
            start_column, self.days[start].c
        )
        calendar = epoch_seconds(end_column) - epoch_seconds(start_column)
        return case((self.working, working), else_=calendar) / number(3600)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


def _extensions(query: StatsQuery) -> Any:
    """The requests for more time of the jobs sent in the period, counted per job (and those
    granted): only these jobs' requests are read."""
    sent = select(Job.id).where(*within(Job.created_at, query))
    return (
        select(
            JobExtension.job_id,
            func.count().label("asked"),
            func.count()
            .filter(JobExtension.status == ExtensionStatus.granted.value)
            .label("granted"),
        )
        .where(JobExtension.job_id.in_(sent))
        .group_by(JobExtension.job_id)
        .subquery("extensions")
    )


def _sent_jobs(query: StatsQuery) -> Any:
    """The jobs sent in the period on the cases the caller may see, each with what the sheet
    reads of it worked out once: its hours in its category's kind, its case's rating where it
    led, its extensions."""
    clock = _JobClock(query)
    extensions = _extensions(query)
    accepted = Job.accepted_at.is_not(None)
    completed = Job.status == JS.completed.value
    columns: list[Any] = [
        Job.unit_id,
        Job.status,
        Job.accepted_at,
        Job.accept_due_at,
        Job.declined_at,
        Job.decline_reason_code,
        Job.completed_at,
        Job.complete_due_at,
        Job.rework_count,
        (Report.status == ReportStatus.on_hold.value).label("case_on_hold"),
        case((Job.is_lead, Report.satisfaction), else_=null()).label("lead_rating"),
        case((accepted, clock.hours("created_at", "accepted_at")), else_=null()).label(
            "hours_to_accept"
        ),
        case((completed, clock.hours("accepted_at", "completed_at")), else_=null()).label(
            "hours_to_complete"
        ),
        case((completed, clock.hours("accepted_at", "complete_due_at")), else_=null()).label(
            "hours_allowed"
        ),
        func.coalesce(extensions.c.asked, 0).label("extensions_asked"),
        func.coalesce(extensions.c.granted, 0).label("extensions_granted"),
    ]
    statement = clock.join(
        select(*columns).select_from(Job).join(Report, Report.id == Job.report_id)
    ).outerjoin(extensions, extensions.c.job_id == Job.id)
    statement = statement.where(*case_filters(query), *within(Job.created_at, query))
    if query.unit_id is not None:
        statement = statement.where(Job.unit_id == query.unit_id)
    principal = query.principal
    if not principal.is_admin and not principal.has_any(*REGION_ROLES, *STAFF_ROLES):
        # Unit staff see their own unit's row, not those of the units beside them on a case.
        statement = statement.where(Job.unit_id.in_(principal.scope_ids(Role.unit_staff)))
    # OFFSET 0: worked out once per job, not again in each measure that reads them.
    return statement.offset(0).subquery("sent")


# long: one labelled column per measure of the sheet
def _job_measures(query: StatsQuery, job: Any) -> list[Any]:
    now = literal(query.now, Job.created_at.type)
    is_open = and_(job.status.in_((JS.pending.value, JS.accepted.value)), ~job.case_on_hold)
    running_due = case(
        (job.status == JS.pending.value, job.accept_due_at), else_=job.complete_due_at
    )
    completed = job.status == JS.completed.value
    accepted = job.accepted_at.is_not(None)
    completion_due = and_(
        accepted,
        or_(completed, and_(job.status == JS.accepted.value, job.complete_due_at <= now)),
    )
    return [
        func.count().label("received"),
        _count(accepted).label("accepted"),
        _count(job.accepted_at <= job.accept_due_at).label("accepted_on_time"),
        _count(job.status == JS.declined.value).label("declined"),
        *(
            _count(job.decline_reason_code == reason.value).label(f"declined_{reason.value}")
            for reason in DeclineReason
        ),
        func.coalesce(func.sum(job.extensions_asked), 0).label("extensions_asked"),
        func.coalesce(func.sum(job.extensions_granted), 0).label("extensions_granted"),
        _count(completed).label("completed"),
        _count(and_(completed, job.completed_at <= job.complete_due_at)).label("completed_on_time"),
        _count(and_(completed, job.completed_at > job.complete_due_at)).label("completed_late"),
        _count(and_(is_open, or_(running_due.is_(None), running_due >= now))).label(
            "pending_on_time"
        ),
        _count(and_(is_open, running_due < now)).label("overdue_now"),
        _count(job.rework_count > 0).label("reworked"),
        _count(
            and_(
                job.accept_due_at.is_not(None),
                or_(job.accept_due_at <= now, accepted, job.declined_at.is_not(None)),
            )
        ).label("response_due"),
        _count(completion_due).label("completion_due"),
        func.avg(job.hours_to_accept).label("mean_hours_to_accept"),
        func.avg(job.hours_to_complete).label("mean_hours_to_complete"),
        func.avg(
            case((job.hours_allowed > 0, job.hours_to_complete / job.hours_allowed), else_=null())
        ).label("mean_share_of_time_used"),
        func.count(job.lead_rating).label("ratings"),
        *(
            _count(job.lead_rating == level.value).label(level.value)
            for level in (Satisfaction.satisfied, Satisfaction.basically_satisfied)
        ),
    ]


def _sheet_statement(query: StatsQuery) -> Select[Any]:
    job = _sent_jobs(query).c
    return select(job.unit_id, *_job_measures(query, job)).group_by(job.unit_id)


def _listed_without_work(query: StatsQuery) -> ColumnElement[bool] | None:
    """The units shown with zeros when they were sent nothing: those of the region asked
    for, or of the caller's regions (everything for an administrator)."""
    principal = query.principal
    if not principal.is_admin and not principal.has_any(*REGION_ROLES, *STAFF_ROLES):
        # Unit staff: their own unit's row, whatever the filters name.
        own = principal.scope_ids(Role.unit_staff)
        return Unit.id.in_(own) if query.unit_id is None else Unit.id.in_(own & {query.unit_id})
    if query.unit_id is not None:
        return Unit.id == query.unit_id
    if query.region_id is not None:
        return Unit.region_id.in_(region_subtree(region_id=query.region_id))
    if query.community_id is not None or query.categories is not None:
        return None
    if principal.is_admin:
        return literal(True)
    if paths := principal.region_paths(*REGION_ROLES):
        return Unit.region_id.in_(region_subtree(paths=paths))
    return None


async def unit_sheet(session: AsyncSession, query: StatsQuery, settings: Settings) -> UnitSheet:
    worked = _sheet_statement(query).subquery("worked")
    listed: ColumnElement[bool] = worked.c.unit_id.is_not(None)
    if (idle := _listed_without_work(query)) is not None:
        listed = or_(listed, idle)
    statement = (
        select(Unit.id.label("id"), Unit.name, Unit.kind, Unit.region_id, worked)
        .select_from(Unit)
        .outerjoin(worked, worked.c.unit_id == Unit.id)
        .where(listed)
        .order_by(func.coalesce(worked.c.received, 0).desc(), Unit.name)
    )
    async with settings_for_the_block(session, CASES_WITH_THEIR_ROWS):
        rows = (await session.execute(statement)).mappings().all()
    return UnitSheet(period=period_of(query), items=[_row(row, settings) for row in rows])


def _row(row: Any, settings: Settings) -> UnitRow:
    counts = {key: row[key] or 0 for key in _COUNT_KEYS}
    response = rate(counts["accepted_on_time"], counts["response_due"])
    completion = rate(counts["completed"], counts["completion_due"])
    satisfaction = satisfaction_rate(counts, settings)
    return UnitRow(
        unit_id=row["id"],
        name=row["name"],
        kind=row["kind"],
        region_id=row["region_id"],
        **{key: counts[key] for key in _SHEET_COUNTS},
        ratings=counts["ratings"],
        declined_by_reason={reason: counts[f"declined_{reason.value}"] for reason in DeclineReason},
        decline_rate=rate(counts["declined"], counts["received"]),
        response_rate=response,
        completion_rate=completion,
        on_time_completion_rate=rate(counts["completed_on_time"], counts["completion_due"]),
        mean_hours_to_accept=optional_float(row["mean_hours_to_accept"]),
        mean_hours_to_complete=optional_float(row["mean_hours_to_complete"]),
        mean_share_of_time_used=optional_float(row["mean_share_of_time_used"]),
        satisfaction_rate=satisfaction,
        score=weighted_score(
            {"response": response, "resolution": completion, "satisfaction": satisfaction},
            settings,
        ),
    )


_RATING_KEYS = ("ratings", "satisfied", "basically_satisfied")
_SHEET_COUNTS = (
    "received",
    "accepted",
    "accepted_on_time",
    "declined",
    "extensions_asked",
    "extensions_granted",
    "completed",
    "completed_on_time",
    "completed_late",
    "pending_on_time",
    "overdue_now",
    "reworked",
    "response_due",
    "completion_due",
)
_COUNT_KEYS = (
    *_SHEET_COUNTS,
    *(f"declined_{reason.value}" for reason in DeclineReason),
    *_RATING_KEYS,
)
