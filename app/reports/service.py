"""Reading reports: lists with filters, one case, its timeline, nearby reports, comments."""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Required, TypedDict, Unpack

from sqlalchemy import (
    ColumnElement,
    Integer,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import Forbidden, NotFound
from app.core.geo import haversine_m
from app.core.pagination import PageParams, SortKey, paginate
from app.core.workcalendar import WorkingCalendar
from app.models import Job, Photo, Region, Report, ReportEvent, User
from app.models.enums import OPEN_REPORT_STATUSES, ReportStatus, Role
from app.reports import presenter
from app.reports.locks import lock_report
from app.reports.schemas import (
    LatLng,
    NearbyReport,
    PersonRef,
    PossibleDuplicate,
    ReportRead,
    TimelineEvent,
)
from app.reports.visibility import (
    STAFF_PARTS,
    case_view,
    place_path,
    region_path,
    report_scope,
)
from app.workflow.parts import acting_role, case_parts
from app.workflow.transitions import Actor

METRES_PER_DEGREE_LAT = 111_320.0
# Who may comment on a case: its staff (internal notes too) and its reporter.
COMMENTING_PARTS = STAFF_PARTS | {Actor.reporter}


@dataclass(frozen=True)
class ReportFilters:
    statuses: Sequence[ReportStatus] = ()
    category: str | None = None
    community_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    mine: bool = False
    overdue: bool = False
    created_from: datetime | None = None
    created_to: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None  # min_lng, min_lat, max_lng, max_lat
    near: tuple[float, float, float] | None = None  # lat, lng, radius_m
    q: str | None = None
    oldest_first: bool = False


def _box(lat: float, lng: float, radius_m: float) -> ColumnElement[bool]:
    """A bounding box around a circle: cheap on the (category, lat, lng) index; the exact
    distance is checked after."""
    dlat = radius_m / METRES_PER_DEGREE_LAT
    dlng = radius_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01))
    return and_(
        Report.lat.between(lat - dlat, lat + dlat), Report.lng.between(lng - dlng, lng + dlng)
    )


def _distance_squared(lat: float, lng: float) -> ColumnElement[float]:
    """The squared equirectangular distance in m² from the point: plain arithmetic that any
    database can do, off by < 0.1 % under 10 km."""
    lng_scale = METRES_PER_DEGREE_LAT * math.cos(math.radians(lat))
    dy = (Report.lat - lat) * METRES_PER_DEGREE_LAT
    dx = (Report.lng - lng) * lng_scale
    return dy * dy + dx * dx


def within(lat: float, lng: float, radius_m: float) -> ColumnElement[bool]:
    """Within ``radius_m`` of the point: the box for the index, then the equirectangular
    distance."""
    return and_(_box(lat, lng, radius_m), _distance_squared(lat, lng) <= radius_m * radius_m)


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Report.status == ReportStatus.submitted, Report.accept_due_at < now),
        and_(
            Report.status.in_(
                [ReportStatus.accepted, ReportStatus.in_progress, ReportStatus.dispatched]
            ),
            Report.resolve_due_at < now,
        ),
    )


def _filtered(principal: Principal, filters: ReportFilters, now: datetime) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [report_scope(principal)]
    if filters.statuses:
        conditions.append(Report.status.in_(list(filters.statuses)))
    if filters.category:
        conditions.append(Report.category_code == filters.category)
    if filters.community_id:
        conditions.append(Report.community_id == filters.community_id)
    if filters.region_id:
        subtree = select(Region.id).where(
            Region.path.startswith(
                select(Region.path).where(Region.id == filters.region_id).scalar_subquery()
            )
        )
        conditions.append(Report.region_id.in_(subtree))
    if filters.unit_id:
        conditions.append(
            Report.id.in_(select(Job.report_id).where(Job.unit_id == filters.unit_id))
        )
    if filters.mine:
        conditions.append(Report.reporter_id == principal.user_id)
    if filters.overdue:
        conditions.append(overdue_condition(now))
    if filters.created_from:
        conditions.append(Report.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(Report.created_at < filters.created_to)
    if filters.bbox:
        min_lng, min_lat, max_lng, max_lat = filters.bbox
        conditions.append(Report.lat.between(min_lat, max_lat))
        conditions.append(Report.lng.between(min_lng, max_lng))
    if filters.near:
        conditions.append(within(*filters.near))
    if filters.q:
        like = f"%{filters.q.strip()}%"
        conditions.append(
            or_(
                Report.description.ilike(like),
                Report.number.ilike(like),
                Report.address.ilike(like),
            )
        )
    return and_(*conditions)


async def list_reports(
    session: AsyncSession,
    principal: Principal,
    filters: ReportFilters,
    params: PageParams,
    now: datetime,
    calendar: WorkingCalendar,
) -> tuple[list[ReportRead], str | None]:
    stmt = select(Report).where(_filtered(principal, filters, now))
    keys = [
        SortKey(Report.created_at, descending=not filters.oldest_first),
        SortKey(Report.id, descending=not filters.oldest_first),
    ]
    rows, cursor = await paginate(session, stmt, keys, params)
    contexts = await presenter.load_contexts(session, rows, now, calendar)
    return [presenter.to_read(r, contexts[r.id], principal, now) for r in rows], cursor


async def get_visible_report(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID
) -> Report:
    """The report if the caller may see it; 404 otherwise (its existence is not revealed)."""
    report = await session.scalar(
        select(Report).where(Report.id == report_id, report_scope(principal))
    )
    if report is None:
        raise NotFound("No such report")
    return report


async def read_report(
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    now: datetime,
    calendar: WorkingCalendar,
) -> ReportRead:
    report = await get_visible_report(session, principal, report_id)
    return await present(session, principal, report, now, calendar)


async def present(
    session: AsyncSession,
    principal: Principal,
    report: Report,
    now: datetime,
    calendar: WorkingCalendar,
) -> ReportRead:
    contexts = await presenter.load_contexts(session, [report], now, calendar)
    return presenter.to_read(report, contexts[report.id], principal, now)


@dataclass(frozen=True, slots=True)
class OpenReportNear:
    """What is shown of an open report near a point: enough to recognise it, nothing more."""

    id: uuid.UUID
    number: str
    status: ReportStatus
    category_code: str
    lat: float
    lng: float
    created_at: datetime
    distance_m: float


_OPEN_NEAR_COLUMNS = (
    Report.id,
    Report.number,
    Report.status,
    Report.category_code,
    Report.lat,
    Report.lng,
    Report.created_at,
)


@functools.cache
def _open_near_statement(
    by_category: bool, excluding: bool
) -> Select[uuid.UUID, str, ReportStatus, str, float, float, datetime]:
    """Open reports in a box around a point, nearest first; built once per shape, with bind
    parameters (see ``_near_parameters``): every submission runs it, and building a statement
    of this size costs more CPU than running it."""
    dy = (Report.lat - bindparam("lat")) * METRES_PER_DEGREE_LAT
    dx = (Report.lng - bindparam("lng")) * bindparam("lng_scale")
    distance_squared = dy * dy + dx * dx
    stmt = select(*_OPEN_NEAR_COLUMNS).where(
        Report.status.in_(list(OPEN_REPORT_STATUSES)),
        Report.lat.between(bindparam("min_lat"), bindparam("max_lat")),
        Report.lng.between(bindparam("min_lng"), bindparam("max_lng")),
        distance_squared <= bindparam("radius_squared"),
    )
    if by_category:
        stmt = stmt.where(Report.category_code == bindparam("category"))
    if excluding:
        stmt = stmt.where(Report.id != bindparam("exclude"))
    return stmt.order_by(distance_squared, Report.created_at, Report.id).limit(
        bindparam("limit", type_=Integer)
    )


def _near_parameters(lat: float, lng: float, radius_m: float) -> dict[str, float]:
    dlat = radius_m / METRES_PER_DEGREE_LAT
    dlng = radius_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01))
    return {
        "lat": lat,
        "lng": lng,
        "lng_scale": METRES_PER_DEGREE_LAT * math.cos(math.radians(lat)),
        "min_lat": lat - dlat,
        "max_lat": lat + dlat,
        "min_lng": lng - dlng,
        "max_lng": lng + dlng,
        "radius_squared": radius_m * radius_m,
    }


async def open_reports_near(
    session: AsyncSession,
    *,
    lat: float,
    lng: float,
    radius_m: float,
    category: str | None,
    limit: int,
    exclude: uuid.UUID | None = None,
) -> list[OpenReportNear]:
    """Open reports within ``radius_m`` of the point, nearest first."""
    # Nearest first in the database, so that a few rows are loaded however many open reports
    # crowd a hot spot (loading them all cost ~10 ms a call at 200). The exact distance is
    # checked here; twice the limit absorbs the rows whose two distances disagree at the edge.
    # At equal distances the older report comes first.
    stmt = _open_near_statement(category is not None, exclude is not None)
    params: dict[str, Any] = {**_near_parameters(lat, lng, radius_m), "limit": 2 * limit}
    if category is not None:
        params["category"] = category
    if exclude is not None:
        params["exclude"] = exclude
    found = [
        OpenReportNear(*row, distance_m=haversine_m(lat, lng, row.lat, row.lng))
        for row in await session.execute(stmt, params)
    ]
    found = [r for r in found if r.distance_m <= radius_m]
    found.sort(key=lambda r: (r.distance_m, r.created_at))
    return found[:limit]


def possible_duplicates(found: Sequence[OpenReportNear]) -> list[PossibleDuplicate]:
    return [
        PossibleDuplicate(
            id=r.id,
            number=r.number,
            status=r.status,
            category_code=r.category_code,
            distance_m=round(r.distance_m, 1),
            created_at=r.created_at,
        )
        for r in found
    ]


def nearby(found: Sequence[OpenReportNear]) -> list[NearbyReport]:
    return [
        NearbyReport(
            id=r.id,
            number=r.number,
            status=r.status,
            category_code=r.category_code,
            # Rounded to about 10 m: enough to find the spot, not to pin a doorway.
            location=LatLng(lat=round(r.lat, 4), lng=round(r.lng, 4)),
            distance_m=round(r.distance_m),
            created_at=r.created_at,
        )
        for r in found
    ]


class TimelineFields(TypedDict, total=False):
    """What a timeline entry says, besides its report and number."""

    type: Required[str]
    actor: Required[Principal | None]
    # The role that authorised what the actor did (see app/workflow/parts.py); none is
    # recorded unless the caller names it.
    actor_role: Role | None
    at: Required[datetime]
    from_status: ReportStatus | None
    to_status: ReportStatus | None
    note: str | None
    reason: str | None
    is_internal: bool
    data: dict[str, object] | None


def _next_seq(report_id: uuid.UUID) -> ScalarSelect[int]:
    return (
        select(func.coalesce(func.max(ReportEvent.seq), 0) + 1)
        .where(ReportEvent.report_id == report_id)
        .scalar_subquery()
    )


async def append_event(
    session: AsyncSession, report: Report, **fields: Unpack[TimelineFields]
) -> ReportEvent:
    """The next entry of the report's timeline, written now.

    Entries written at the same moment by different requests (two comments, a comment and a
    unit's action) each get their own number: the number is taken by the INSERT itself, while
    it holds the database's write lock on SQLite, and after taking the report row's lock on
    PostgreSQL, where each writer waits for the one before to commit and then sees its entry."""
    await lock_report(session, report.id)
    event = timeline_entry(report, seq=0, **fields)
    values: dict[str, Any] = {
        attribute.key: getattr(event, attribute.key)
        for attribute in sa_inspect(ReportEvent).column_attrs
    }
    values["seq"] = _next_seq(report.id)
    seq = await session.scalar(insert(ReportEvent).values(values).returning(ReportEvent.seq))
    assert seq is not None
    event.seq = seq
    return event


def timeline_entry(report: Report, *, seq: int, **fields: Unpack[TimelineFields]) -> ReportEvent:
    """A timeline row numbered ``seq`` (1 for a report just filed), not yet added."""
    actor = fields["actor"]
    return ReportEvent(
        id=uuid.uuid4(),
        report_id=report.id,
        seq=seq,
        type=fields["type"],
        actor_id=actor.user_id if actor else None,
        actor_role=fields.get("actor_role"),
        from_status=fields.get("from_status"),
        to_status=fields.get("to_status"),
        note=fields.get("note"),
        reason=fields.get("reason"),
        is_internal=fields.get("is_internal", False),
        data=fields.get("data") or {},
        created_at=fields["at"],
    )


async def timeline(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID
) -> list[TimelineEvent]:
    report = await get_visible_report(session, principal, report_id)
    view = case_view(
        principal, report, await region_path(session, report), await place_path(session, report)
    )
    stmt = select(ReportEvent).where(ReportEvent.report_id == report.id)
    if not view.internal:
        stmt = stmt.where(ReportEvent.is_internal.is_(False))
    events = list((await session.scalars(stmt.order_by(ReportEvent.seq))).all())
    actor_ids = {e.actor_id for e in events if e.actor_id}
    actors = (
        {u.id: u for u in await session.scalars(select(User).where(User.id.in_(actor_ids)))}
        if actor_ids
        else {}
    )
    photos: dict[uuid.UUID, list[Photo]] = {}
    for photo in await session.scalars(
        select(Photo).where(Photo.report_id == report.id).order_by(Photo.position)
    ):
        if photo.event_id is not None:
            photos.setdefault(photo.event_id, []).append(photo)
    out = []
    for e in events:
        actor = actors.get(e.actor_id) if e.actor_id else None
        # The reporter sees what happened, not which member of staff did it.
        show_actor = actor is not None and (view.internal or e.actor_id == principal.user_id)
        out.append(
            TimelineEvent(
                id=e.id,
                seq=e.seq,
                type=e.type,
                created_at=e.created_at,
                actor=PersonRef(id=actor.id, display_name=actor.display_name)
                if show_actor and actor
                else None,
                actor_role=e.actor_role,
                from_status=e.from_status,
                to_status=e.to_status,
                note=e.note,
                reason=e.reason,
                is_internal=e.is_internal,
                photos=[presenter.photo_read(p, view) for p in photos.get(e.id, [])],
            )
        )
    return out


async def add_comment(
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    body: str,
    internal: bool,
    now: datetime,
) -> TimelineEvent:
    report = await get_visible_report(session, principal, report_id)
    if principal.user_id is None:
        raise Forbidden("API keys are read-only")
    parts = case_parts(principal, report, await region_path(session, report))
    is_staff = not STAFF_PARTS.isdisjoint(parts)
    if internal and not is_staff:
        raise Forbidden("Only staff can write internal notes")
    if not is_staff and Actor.reporter not in parts:
        raise Forbidden("Only the reporter and the case's staff can comment")
    event = await append_event(
        session,
        report,
        type="comment",
        actor=principal,
        actor_role=acting_role(STAFF_PARTS if internal else COMMENTING_PARTS, parts),
        note=body,
        is_internal=internal,
        at=now,
    )
    user = await session.get_one(User, principal.user_id)
    return TimelineEvent(
        id=event.id,
        seq=event.seq,
        type=event.type,
        created_at=event.created_at,
        actor=PersonRef(id=user.id, display_name=user.display_name),
        actor_role=event.actor_role,
        from_status=None,
        to_status=None,
        note=event.note,
        reason=None,
        is_internal=event.is_internal,
    )
