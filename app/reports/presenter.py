"""Turning report rows into what each caller may see."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.cases.clocks import NO_HISTORY, ClockHistory, load_histories, reading_time
from app.cases.visibility import CaseView, case_view
from app.core.lights import ClockRules, light
from app.core.phones import mask_phone
from app.core.sql import member_of
from app.core.workcalendar import WorkingCalendar
from app.jobs.queries import present_where
from app.models import Category, Community, Grid, Job, Photo, Rating, Region, Report, User
from app.models.enums import OPEN_REPORT_STATUSES, HoursKind, JobStatus, ReportStatus
from app.photos.schemas import PhotoRead
from app.reports.schemas import (
    ReportRead,
)

PHOTO_URL = "/api/v1/photos/{id}"
# The statuses in which the resolve clock stopped in time or late (rework starts it again).
RESOLVE_MET = frozenset({ReportStatus.resolved, ReportStatus.closed})


def photo_fields(photo: Photo, view: CaseView) -> dict[str, Any]:
    """A PhotoRead as plain values (see ``report_fields``)."""
    url = PHOTO_URL.format(id=photo.id)
    capture_data = view.sees_capture_data(photo)
    exif = (
        {"lat": photo.exif_lat, "lng": photo.exif_lng}
        if capture_data and photo.exif_lat is not None and photo.exif_lng is not None
        else None
    )
    return {
        "id": photo.id,
        "kind": photo.kind,
        "url": url,
        "thumbnail_url": f"{url}?size=thumbnail",
        "width": photo.width,
        "height": photo.height,
        "thumbnail_width": photo.thumbnail_width,
        "thumbnail_height": photo.thumbnail_height,
        "flags": list(photo.flags or []),
        "exif_location": exif,
        "exif_taken_at": photo.exif_taken_at if capture_data else None,
    }


def photo_read(photo: Photo, view: CaseView) -> PhotoRead:
    return PhotoRead.model_validate(photo_fields(photo, view))


@dataclass(frozen=True)
class ReportContext:
    """The rows a report's representation needs, loaded in one round trip per kind."""

    category: Category
    region: Region  # the region that owns the case
    place_path: str | None  # the path of its community's region (escalation leaves it behind)
    community: Community | None
    grid: Grid | None
    reporter: User
    photos: Sequence[Photo]
    jobs: Sequence[dict[str, Any]]  # JobRead's fields (app/jobs/queries.py, job_fields)
    rating: Rating | None
    calendar: WorkingCalendar
    history: ClockHistory


def deadlines(report: Report, ctx: ReportContext, now: datetime) -> list[dict[str, Any]]:
    """The accept clock runs from the filing; the resolve clock from the acceptance, or from the
    latest reopening (which set a fresh deadline). The resolve clock is met while the case is
    resolved or closed, and runs again when verification sends it back for rework."""
    category = ctx.category
    kind = category.hours_kind.value
    at = reading_time(report.status, report.on_hold_at, now)
    rules = ClockRules(working=category.hours_kind is HoursKind.working, calendar=ctx.calendar)
    out: list[dict[str, Any]] = []  # Deadline
    if report.accept_due_at is not None:
        met = report.accepted_at or report.rejected_at or report.duplicate_at
        out.append(
            {
                "kind": "accept",
                "due_at": report.accept_due_at,
                "limit_hours": float(category.accept_within_hours),
                "hours_kind": kind,
                "met_at": met,
                "light": None if met else light(report.created_at, report.accept_due_at, at, rules),
            }
        )
    if report.resolve_due_at is not None:
        met = report.resolved_at if report.status in RESOLVE_MET else None
        started = report.reopened_at or report.accepted_at or report.created_at
        out.append(
            {
                "kind": "resolve",
                "due_at": report.resolve_due_at,
                "limit_hours": float(category.resolve_within_hours),
                "hours_kind": kind,
                "met_at": met,
                "light": None
                if met or report.status not in OPEN_REPORT_STATUSES
                else light(started, report.resolve_due_at, at, rules, ctx.history.pauses),
            }
        )
    return out


def public_jobs(jobs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The units' work as the reporter and outsiders see it: who is on the case and by when.
    Declines and requests for more time, with their reasons, are internal, like their timeline
    entries."""
    hidden: dict[str, Any] = {"extensions": [], "decline_reason_code": None, "decline_reason": None}
    return [{**job, **hidden} for job in jobs if job["status"] != JobStatus.declined]


def _reporter(report: Report, reporter: User, principal: Principal) -> dict[str, Any]:
    # The number in full only to the reporter: an administrator who needs it reads it in the
    # user directory, where each read in full is written to the audit log.
    sees_phone = principal.user_id == report.reporter_id
    return {
        "id": reporter.id,
        "display_name": reporter.display_name,
        "phone": reporter.phone if sees_phone else mask_phone(reporter.phone),
    }


def _ref(row: Community | Grid | Region | None) -> dict[str, Any] | None:
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
        "reporter": _reporter(report, ctx.reporter, principal) if view.people else None,
        "photos": [photo_fields(p, view) for p in ctx.photos],
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


def _context_statement(
    condition: ColumnElement[bool],
) -> Select[Report, Category, Region, str, Community | None, Grid | None, User, Rating | None]:
    """The reports matching ``condition`` with the rows their answer shows, in one statement:
    category, owning region, reporter, and community, the region of its place, grid and
    rating where there are any."""
    place = aliased(Region)
    return (
        select(Report, Category, Region, place.path, Community, Grid, User, Rating)
        .join(Category, Category.code == Report.category_code)
        .join(Region, Region.id == Report.region_id)
        .join(User, User.id == Report.reporter_id)
        .outerjoin(Community, Community.id == Report.community_id)
        .outerjoin(place, place.id == Community.region_id)
        .outerjoin(Grid, Grid.id == Report.grid_id)
        .outerjoin(Rating, Rating.report_id == Report.id)
        .where(condition)
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
        member_of(session, Report.id, [r.id for r in reports]),
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
    rows = (await session.execute(_context_statement(condition))).all()
    report_ids = [row.Report.id for row in rows]
    photos: dict[uuid.UUID, list[Photo]] = {report_id: [] for report_id in report_ids}
    jobs: dict[uuid.UUID, list[dict[str, Any]]] = {report_id: [] for report_id in report_ids}
    if report_ids and with_photos:
        for photo in await session.scalars(
            select(Photo)
            .where(member_of(session, Photo.report_id, report_ids), Photo.event_id.is_(None))
            .order_by(Photo.report_id, Photo.position)
        ):
            photos[photo.report_id].append(photo)
    if report_ids:
        in_case = member_of(session, Job.report_id, report_ids)
        for job in await present_where(session, in_case, now, calendar):
            jobs[job["report_id"]].append(job)
    histories = await load_histories(session, {r.Report.id for r in rows if r.Report.held_seconds})
    return [
        (
            row.Report,
            ReportContext(
                category=row.Category,
                region=row.Region,
                place_path=row.path,
                community=row.Community,
                grid=row.Grid,
                reporter=row.User,
                photos=photos[row.Report.id],
                jobs=jobs[row.Report.id],
                rating=row.Rating,
                calendar=calendar,
                history=histories.get(row.Report.id, NO_HISTORY),
            ),
        )
        for row in rows
    ]
