"""Turning report rows into what each caller may see."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.auth.principal import Principal
from app.cases.clocks import NO_HISTORY, ClockHistory, load_histories, reading_time
from app.cases.visibility import CaseView, case_view
from app.core.lights import ClockRules, light
from app.core.phones import mask_phone
from app.core.schemas import Ref
from app.core.workcalendar import WorkingCalendar
from app.jobs.queries import present_where
from app.jobs.schemas import JobRead
from app.models import Category, Community, Grid, Job, Photo, Rating, Region, Report, User
from app.models.enums import OPEN_REPORT_STATUSES, HoursKind, JobStatus, ReportStatus
from app.photos.schemas import PhotoRead
from app.reports.schemas import (
    CategoryRef,
    Deadline,
    LatLng,
    PersonRef,
    RatingRead,
    ReportRead,
    Routing,
    SubmittedLocation,
)

PHOTO_URL = "/api/v1/photos/{id}"
# The statuses in which the resolve clock stopped in time or late (rework starts it again).
RESOLVE_MET = frozenset({ReportStatus.resolved, ReportStatus.closed})


def photo_read(photo: Photo, view: CaseView) -> PhotoRead:
    url = PHOTO_URL.format(id=photo.id)
    capture_data = view.sees_capture_data(photo)
    exif = (
        LatLng(lat=photo.exif_lat, lng=photo.exif_lng)
        if capture_data and photo.exif_lat is not None and photo.exif_lng is not None
        else None
    )
    return PhotoRead(
        id=photo.id,
        kind=photo.kind,
        url=url,
        thumbnail_url=f"{url}?size=thumbnail",
        width=photo.width,
        height=photo.height,
        thumbnail_width=photo.thumbnail_width,
        thumbnail_height=photo.thumbnail_height,
        flags=list(photo.flags or []),
        exif_location=exif,
        exif_taken_at=photo.exif_taken_at if capture_data else None,
    )


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
    jobs: Sequence[JobRead]
    rating: Rating | None
    calendar: WorkingCalendar
    history: ClockHistory


def deadlines(report: Report, ctx: ReportContext, now: datetime) -> list[Deadline]:
    """The accept clock runs from the filing; the resolve clock from the acceptance, or from the
    latest reopening (which set a fresh deadline). The resolve clock is met while the case is
    resolved or closed, and runs again when verification sends it back for rework."""
    category = ctx.category
    kind = category.hours_kind.value
    at = reading_time(report.status, report.on_hold_at, now)
    rules = ClockRules(working=category.hours_kind is HoursKind.working, calendar=ctx.calendar)
    out: list[Deadline] = []
    if report.accept_due_at is not None:
        met = report.accepted_at or report.rejected_at or report.duplicate_at
        out.append(
            Deadline(
                kind="accept",
                due_at=report.accept_due_at,
                limit_hours=category.accept_within_hours,
                hours_kind=kind,
                met_at=met,
                light=None if met else light(report.created_at, report.accept_due_at, at, rules),
            )
        )
    if report.resolve_due_at is not None:
        met = report.resolved_at if report.status in RESOLVE_MET else None
        started = report.reopened_at or report.accepted_at or report.created_at
        out.append(
            Deadline(
                kind="resolve",
                due_at=report.resolve_due_at,
                limit_hours=category.resolve_within_hours,
                hours_kind=kind,
                met_at=met,
                light=None
                if met or report.status not in OPEN_REPORT_STATUSES
                else light(started, report.resolve_due_at, at, rules, ctx.history.pauses),
            )
        )
    return out


def public_jobs(jobs: Sequence[JobRead]) -> list[JobRead]:
    """The units' work as the reporter and outsiders see it: who is on the case and by when.
    Declines and requests for more time, with their reasons, are internal, like their timeline
    entries."""
    hidden: dict[str, Any] = {"extensions": [], "decline_reason_code": None, "decline_reason": None}
    return [job.model_copy(update=hidden) for job in jobs if job.status != JobStatus.declined]


def _reporter(report: Report, reporter: User, principal: Principal) -> PersonRef:
    # The number in full only to the reporter: an administrator who needs it reads it in the
    # user directory, where each read in full is written to the audit log.
    sees_phone = principal.user_id == report.reporter_id
    return PersonRef(
        id=reporter.id,
        display_name=reporter.display_name,
        phone=reporter.phone if sees_phone else mask_phone(reporter.phone),
    )


def _rating(rating: Rating) -> RatingRead:
    return RatingRead(
        satisfaction=rating.satisfaction, comment=rating.comment, created_at=rating.created_at
    )


def to_read(report: Report, ctx: ReportContext, principal: Principal, now: datetime) -> ReportRead:
    view = case_view(principal, report, ctx.region.path, ctx.place_path)
    return ReportRead(
        id=report.id,
        number=report.number,
        status=report.status,
        version=report.version,
        category=CategoryRef(
            code=ctx.category.code, name=ctx.category.name, name_en=ctx.category.name_en
        ),
        priority=report.priority,
        source=report.source,
        description=report.description,
        address=report.address,
        occurred_at=report.occurred_at,
        location=LatLng(lat=report.lat, lng=report.lng),
        submitted_location=SubmittedLocation(
            lat=report.submitted_lat,
            lng=report.submitted_lng,
            coord_system=report.submitted_coord_system,
        ),
        community=Ref(id=ctx.community.id, name=ctx.community.name) if ctx.community else None,
        grid=Ref(id=ctx.grid.id, name=ctx.grid.name) if ctx.grid else None,
        region=Ref(id=ctx.region.id, name=ctx.region.name),
        routing=Routing(method=report.routing_method, distance_m=report.routing_distance_m),
        reporter=_reporter(report, ctx.reporter, principal) if view.people else None,
        photos=[photo_read(p, view) for p in ctx.photos],
        deadlines=deadlines(report, ctx, now),
        jobs=list(ctx.jobs) if view.internal else public_jobs(ctx.jobs),
        rating=_rating(ctx.rating) if ctx.rating else None,
        assignee_id=report.assignee_id,
        supervision_level=report.supervision_level,
        escalation_count=report.escalation_count,
        rework_count=report.rework_count,
        reopen_count=report.reopen_count,
        closure_type=report.closure_type,
        duplicate_of=report.duplicate_of_id,
        created_at=report.created_at,
        updated_at=report.updated_at,
        accepted_at=report.accepted_at,
        started_at=report.started_at,
        dispatched_at=report.dispatched_at,
        on_hold_at=report.on_hold_at,
        resolved_at=report.resolved_at,
        closed_at=report.closed_at,
        rejected_at=report.rejected_at,
        duplicate_at=report.duplicate_at,
    )


async def _rows_by(
    session: AsyncSession, column: InstrumentedAttribute[Any], keys: Collection[Any]
) -> dict[Any, Any]:
    if not keys:
        return {}
    rows = await session.scalars(select(column.class_).where(column.in_(list(keys))))
    return {getattr(row, column.key): row for row in rows}


async def load_contexts(
    session: AsyncSession,
    reports: Sequence[Report],
    now: datetime,
    calendar: WorkingCalendar,
    *,
    with_photos: bool = True,
) -> dict[uuid.UUID, ReportContext]:
    """Everything to present ``reports``: one query per related table, never one per report."""
    categories = await _rows_by(session, Category.code, {r.category_code for r in reports})
    communities = await _rows_by(
        session, Community.id, {r.community_id for r in reports if r.community_id}
    )
    region_ids = {r.region_id for r in reports} | {c.region_id for c in communities.values()}
    regions = await _rows_by(session, Region.id, region_ids)
    grids = await _rows_by(session, Grid.id, {r.grid_id for r in reports if r.grid_id})
    reporters = await _rows_by(session, User.id, {r.reporter_id for r in reports})
    photos: dict[uuid.UUID, list[Photo]] = {r.id: [] for r in reports}
    if with_photos and reports:
        rows = await session.scalars(
            select(Photo)
            .where(Photo.report_id.in_([r.id for r in reports]), Photo.event_id.is_(None))
            .order_by(Photo.report_id, Photo.position)
        )
        for photo in rows:
            photos[photo.report_id].append(photo)
    report_ids = [r.id for r in reports]
    jobs: dict[uuid.UUID, list[JobRead]] = {r.id: [] for r in reports}
    ratings: dict[Any, Any] = {}
    if report_ids:
        for job in await present_where(session, Job.report_id.in_(report_ids), now, calendar):
            jobs[job.report_id].append(job)
        ratings = await _rows_by(session, Rating.report_id, report_ids)
    histories = await load_histories(session, {r.id for r in reports if r.held_seconds})
    return {
        r.id: ReportContext(
            category=categories[r.category_code],
            region=regions[r.region_id],
            place_path=regions[communities[r.community_id].region_id].path
            if r.community_id
            else None,
            community=communities.get(r.community_id),
            grid=grids.get(r.grid_id),
            reporter=reporters[r.reporter_id],
            photos=photos[r.id],
            jobs=jobs[r.id],
            rating=ratings.get(r.id),
            calendar=calendar,
            history=histories.get(r.id, NO_HISTORY),
        )
        for r in reports
    }
