"""Turning report rows into what each caller may see."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.cases.clocks import (
    NO_HISTORY,
    RESOLVE_MET,
    ClockHistory,
    accept_light,
    accept_met,
    load_histories,
    reading_time,
    resolve_light,
)
from app.cases.visibility import CaseView, case_view
from app.core.lights import ClockRules
from app.core.phones import mask_phone
from app.core.pruning import of_cases, one_plan_for_any_values
from app.core.workcalendar import WorkingCalendar
from app.jobs.queries import present_where
from app.models import Category, Community, Grid, Job, Photo, Rating, Region, Report, User
from app.models.enums import (
    HoursKind,
    JobStatus,
    Satisfaction,
)
from app.photos.links import photo_url
from app.reports.schemas import (
    ReportRead,
)

# The statuses in which the resolve clock stopped in time or late (rework starts it again).


def photo_fields(photo: Photo, view: CaseView, now: datetime) -> dict[str, Any]:
    """A PhotoRead as plain values (see ``report_fields``), with signed links."""
    capture_data = view.sees_capture_data(photo)
    exif = (
        {"lat": photo.exif_lat, "lng": photo.exif_lng}
        if capture_data and photo.exif_lat is not None and photo.exif_lng is not None
        else None
    )
    return {
        "id": photo.id,
        "kind": photo.kind,
        "url": photo_url(photo.id, "display", now),
        "thumbnail_url": photo_url(photo.id, "thumbnail", now),
        "width": photo.width,
        "height": photo.height,
        "thumbnail_width": photo.thumbnail_width,
        "thumbnail_height": photo.thumbnail_height,
        "flags": list(photo.flags or []),
        "exif_location": exif,
        "exif_taken_at": photo.exif_taken_at if capture_data else None,
    }


@dataclass(frozen=True, slots=True)
class CategoryFacts:
    """What a case shows of its category, and how its clocks count."""

    code: str
    name: str
    name_en: str
    hours_kind: HoursKind
    accept_within_hours: float
    resolve_within_hours: float

    @classmethod
    def of(cls, category: Category) -> CategoryFacts:
        return cls(
            category.code,
            category.name,
            category.name_en,
            category.hours_kind,
            category.accept_within_hours,
            category.resolve_within_hours,
        )


@dataclass(frozen=True, slots=True)
class Named:
    """A community, grid or region as a case shows it; a region with its path."""

    id: uuid.UUID
    name: str
    path: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    id: uuid.UUID
    display_name: str
    phone: str | None


@dataclass(frozen=True, slots=True)
class RatingFacts:
    satisfaction: Satisfaction
    comment: str | None
    created_at: datetime


@dataclass(frozen=True)
class ReportContext:
    """What a report's representation needs besides the report: read as columns joined to the
    reports (not as rows of their own: a page of 50 reports is 50 rows, not 350 objects)."""

    category: CategoryFacts
    region: Named  # the region that owns the case, with its path
    place_path: str | None  # the path of its community's region (escalation leaves it behind)
    community: Named | None
    grid: Named | None
    reporter: Person
    photos: Sequence[Photo]
    jobs: Sequence[dict[str, Any]]  # JobRead's fields (app/jobs/queries.py, job_fields)
    rating: RatingFacts | None
    calendar: WorkingCalendar
    history: ClockHistory


def deadlines(report: Report, ctx: ReportContext, now: datetime) -> list[dict[str, Any]]:
    """The case's clocks (app/core/lights.py): each with its deadline, limit, the moment it
    stopped, and its light while it runs."""
    category = ctx.category
    kind = category.hours_kind.value
    at = reading_time(report.status, report.on_hold_at, now)
    rules = ClockRules(working=category.hours_kind is HoursKind.working, calendar=ctx.calendar)
    out: list[dict[str, Any]] = []  # Deadline
    if report.accept_due_at is not None:
        out.append(
            {
                "kind": "accept",
                "due_at": report.accept_due_at,
                "limit_hours": float(category.accept_within_hours),
                "hours_kind": kind,
                "met_at": accept_met(report),
                "light": accept_light(report, rules, at),
            }
        )
    if report.resolve_due_at is not None:
        out.append(
            {
                "kind": "resolve",
                "due_at": report.resolve_due_at,
                "limit_hours": float(category.resolve_within_hours),
                "hours_kind": kind,
                "met_at": report.resolved_at if report.status in RESOLVE_MET else None,
                "light": resolve_light(report, rules, at, ctx.history.pauses),
            }
        )
    return out


def public_jobs(jobs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The units' work as the reporter and outsiders see it: who is on the case and by when.
    Declines and requests for more time, with their reasons, are internal, like their timeline
    entries."""
    hidden: dict[str, Any] = {"extensions": [], "decline_reason_code": None, "decline_reason": None}
    return [{**job, **hidden} for job in jobs if job["status"] != JobStatus.declined]


def reporter_fields(report: Report, reporter: Person, principal: Principal) -> dict[str, Any]:
    # The number in full only to the reporter: an administrator who needs it reads it in the
    # user directory, where each read in full is written to the audit log.
    sees_phone = principal.user_id == report.reporter_id
    return {
        "id": reporter.id,
        "display_name": reporter.display_name,
        "phone": reporter.phone if sees_phone else mask_phone(reporter.phone),
    }


def _ref(row: Named | None) -> dict[str, Any] | None:
    return None if row is None else {"id": row.id, "name": row.name}


def report_fields(
    report: Report, ctx: ReportContext, principal: Principal, now: datetime
) -> dict[str, Any]:
    """The case as ``principal`` sees it: ReportRead's fields in its order, as plain values
    (UUIDs, datetimes, enums, dicts, lists). Lists and the case itself are written to JSON from
    these as they are (app/core/responses.py); ``to_read`` makes the model of the same."""
    view = case_view(principal, report, ctx.region.path, ctx.place_path)
    category = ctx.category
    rating = ctx.rating
    return {
        "id": report.id,
        "number": report.number,
        "status": report.status,
        "version": report.version,
        "category": {"code": category.code, "name": category.name, "name_en": category.name_en},
        "priority": report.priority,
        "source": report.source,
        "description": report.description,
        "address": report.address,
        "occurred_at": report.occurred_at,
        "location": {"lat": report.lat, "lng": report.lng},
        "submitted_location": {
            "lat": report.submitted_lat,
            "lng": report.submitted_lng,
            "coord_system": report.submitted_coord_system,
        },
        "community": _ref(ctx.community),
        "grid": _ref(ctx.grid),
        "region": _ref(ctx.region),
        "routing": {"method": report.routing_method, "distance_m": report.routing_distance_m},
        "reporter": reporter_fields(report, ctx.reporter, principal) if view.people else None,
        "photos": [photo_fields(p, view, now) for p in ctx.photos],
        "deadlines": deadlines(report, ctx, now),
        "jobs": list(ctx.jobs) if view.internal else public_jobs(ctx.jobs),
        "rating": None
        if rating is None
        else {
            "satisfaction": rating.satisfaction,
            "comment": rating.comment,
            "created_at": rating.created_at,
        },
        "assignee_id": report.assignee_id,
        "supervision_level": report.supervision_level,
        "escalation_count": report.escalation_count,
        "rework_count": report.rework_count,
        "reopen_count": report.reopen_count,
        "handled_on_the_spot": report.handled_on_the_spot,
        "closure_type": report.closure_type,
        "duplicate_of": report.duplicate_of_id,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "accepted_at": report.accepted_at,
        "started_at": report.started_at,
        "dispatched_at": report.dispatched_at,
        "on_hold_at": report.on_hold_at,
        "resolved_at": report.resolved_at,
        "closed_at": report.closed_at,
        "rejected_at": report.rejected_at,
        "duplicate_at": report.duplicate_at,
    }


def to_read(report: Report, ctx: ReportContext, principal: Principal, now: datetime) -> ReportRead:
    return ReportRead.model_validate(report_fields(report, ctx, principal, now))


@functools.cache
def case_with_paths() -> Select[*tuple[Any, ...]]:
    """Reports with the paths their view depends on (app/cases/visibility.py): the owning
    region's (``region_path``) and the region of their community's (``place_path``, None
    without a community). Built once; callers add columns and their condition."""
    place = aliased(Region)
    return (
        select(Report, Region.path.label("region_path"), place.path.label("place_path"))
        .join(Region, Region.id == Report.region_id)
        .outerjoin(Community, Community.id == Report.community_id)
        .outerjoin(place, place.id == Community.region_id)
    )


@functools.cache
def _context_statement() -> Select[*tuple[Any, ...]]:
    """Reports with what their answer shows as columns of the same rows: category, owning
    region, reporter, and community, grid and rating where there are any. Built once
    (building it cost more than a millisecond a request); callers add their condition."""
    return (
        case_with_paths()
        .add_columns(
            Category.name.label("category_name"),
            Category.name_en.label("category_name_en"),
            Category.hours_kind,
            Category.accept_within_hours,
            Category.resolve_within_hours,
            Region.name.label("region_name"),
            Community.name.label("community_name"),
            Grid.name.label("grid_name"),
            User.display_name.label("reporter_name"),
            User.phone.label("reporter_phone"),
            Rating.satisfaction,
            Rating.comment.label("rating_comment"),
            Rating.created_at.label("rated_at"),
        )
        .join(Category, Category.code == Report.category_code)
        .join(User, User.id == Report.reporter_id)
        .outerjoin(Grid, Grid.id == Report.grid_id)
        .outerjoin(Rating, Rating.report_id == Report.id)
    )


def _context(
    row: Any,
    photos: Sequence[Photo],
    jobs: Sequence[dict[str, Any]],
    calendar: WorkingCalendar,
    history: ClockHistory,
) -> ReportContext:
    report: Report = row.Report
    return ReportContext(
        category=CategoryFacts(
            report.category_code,
            row.category_name,
            row.category_name_en,
            row.hours_kind,
            row.accept_within_hours,
            row.resolve_within_hours,
        ),
        region=Named(report.region_id, row.region_name, row.region_path),
        place_path=row.place_path,
        community=None
        if report.community_id is None
        else Named(report.community_id, row.community_name),
        grid=None if report.grid_id is None else Named(report.grid_id, row.grid_name),
        reporter=Person(report.reporter_id, row.reporter_name, row.reporter_phone),
        photos=photos,
        jobs=jobs,
        rating=None
        if row.satisfaction is None
        else RatingFacts(row.satisfaction, row.rating_comment, row.rated_at),
        calendar=calendar,
        history=history,
    )


async def load_contexts(
    session: AsyncSession,
    reports: Sequence[Report],
    now: datetime,
    calendar: WorkingCalendar,
    *,
    with_photos: bool = True,
) -> dict[uuid.UUID, ReportContext]:
    """Everything to present ``reports``."""
    loaded = await load_where(
        session,
        of_cases(session, Report.id, [r.id for r in reports]),
        now,
        calendar,
        with_photos=with_photos,
    )
    return {report.id: context for report, context in loaded}


async def load_where(
    session: AsyncSession,
    condition: ColumnElement[bool],
    now: datetime,
    calendar: WorkingCalendar,
    *,
    with_photos: bool = True,
) -> list[tuple[Report, ReportContext]]:
    """The reports matching ``condition`` (in no particular order) with everything to present
    them, in a fixed number of statements however many there are: the reports with their
    related rows, their photos, their jobs (and the jobs' extensions, if any), and the holds
    and reworks of the few cases that had any."""
    async with one_plan_for_any_values(session):
        rows = (await session.execute(_context_statement().where(condition))).all()
        report_ids = [row.Report.id for row in rows]
        photos: dict[uuid.UUID, list[Photo]] = {report_id: [] for report_id in report_ids}
        jobs: dict[uuid.UUID, list[dict[str, Any]]] = {report_id: [] for report_id in report_ids}
        if report_ids and with_photos:
            for photo in await session.scalars(
                select(Photo)
                .where(of_cases(session, Photo.report_id, report_ids), Photo.event_id.is_(None))
                .order_by(Photo.report_id, Photo.position)
            ):
                photos[photo.report_id].append(photo)
        if report_ids:
            in_case = of_cases(session, Job.report_id, report_ids)
            for job in await present_where(session, in_case, now, calendar):
                jobs[job["report_id"]].append(job)
        histories = await load_histories(
            session, {r.Report.id for r in rows if r.Report.held_seconds}
        )
    return [
        (
            row.Report,
            _context(
                row,
                photos[row.Report.id],
                jobs[row.Report.id],
                calendar,
                histories.get(row.Report.id, NO_HISTORY),
            ),
        )
        for row in rows
    ]
