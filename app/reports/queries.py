"""Reading reports: lists with filters, one case as its caller sees it, open reports nearby."""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import REGION_ROLES, report_scope, report_scope_branches
from app.core.errors import NotFound
from app.core.geo import haversine_m
from app.core.pagination import PageParams, SortKey
from app.core.pruning import (
    KeyFollowsTime,
    NewestMonthsFirst,
    of_cases,
    one_plan_for_any_values,
    prunes,
    within_period,
)
from app.core.union_pages import paginate_union
from app.core.workcalendar import WorkingCalendar
from app.models import Job, Region, Report
from app.models.base import status_among
from app.models.enums import ReportStatus, Role
from app.models.reports import OPEN_STATUS_VALUES
from app.reports import presenter
from app.reports.schemas import (
    LatLng,
    NearbyReport,
    PossibleDuplicate,
    ReportRead,
)

METRES_PER_DEGREE_LAT = 111_320.0


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


# A case's id is the moment it was filed (app/models/partitioning.py).
FILED_AT_ID = KeyFollowsTime(Report.id)


def filter_conditions(
    principal: Principal, filters: ReportFilters, now: datetime
) -> list[ColumnElement[bool]]:
    """The list's filters, the caller's scope aside."""
    conditions: list[ColumnElement[bool]] = []
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
        # The words as they are: a % or _ in them is no wildcard, a backslash no escape.
        words = filters.q.strip()
        conditions.append(
            or_(
                Report.description.icontains(words, autoescape=True),
                Report.number.icontains(words, autoescape=True),
                Report.address.icontains(words, autoescape=True),
            )
        )
    return conditions


def _plan_for_values(principal: Principal, filters: ReportFilters) -> bool:
    """Whether a page's statement needs a plan made for its values (app/core/pagination.py):
    not for an unfiltered list of a community's staff, a reporter or an admin, where each
    branch is an equality on its own index, read newest first whatever the values; yes for
    any filter, and for the region and unit branches, which are subqueries."""
    plain = ReportFilters(oldest_first=filters.oldest_first)
    # ``has_any`` is true for an administrator, whose scope is every case: one plan fits.
    region_or_unit = not principal.is_admin and principal.has_any(*REGION_ROLES, Role.unit_staff)
    return filters != plain or region_or_unit


async def list_reports(
    session: AsyncSession,
    principal: Principal,
    filters: ReportFilters,
    params: PageParams,
    now: datetime,
    calendar: WorkingCalendar,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the reports the caller may see, as ReportRead's fields: the page's keys first,
    one bounded index scan per branch of the caller's scope, then the rows and what they
    show."""
    conditions = filter_conditions(principal, filters, now)
    if prunes(session):  # the months of the period alone (app/core/pruning.py)
        conditions += within_period(FILED_AT_ID, filters.created_from, filters.created_to)
    keys = [
        SortKey(Report.created_at, not filters.oldest_first, partition_key=FILED_AT_ID),
        SortKey(Report.id, descending=not filters.oldest_first),
    ]
    branches = [
        select(Report.created_at, Report.id).where(branch, *conditions)
        for branch in report_scope_branches(principal)
    ]
    # Newest first, the page is looked for in its newest months first (app/core/pruning.py).
    window = (
        None
        if filters.oldest_first
        else NewestMonthsFirst(
            FILED_AT_ID, Report.created_at, now, filters.created_from, filters.created_to
        )
    )
    # The page's keys too use the one plan for any values, unless a filter wants its own plan
    # (see ``_plan_for_values``): planned at each run, a first page over every month's
    # partitions costs more to plan than to read.
    async with one_plan_for_any_values(session):
        page, cursor = await paginate_union(
            session,
            branches,
            keys,
            params,
            plan_for_values=_plan_for_values(principal, filters),
            window=window,
        )
        if not page:
            return [], cursor
        loaded = await presenter.load_where(
            session, of_cases(session, Report.id, [row.id for row in page]), now, calendar
        )
    by_id = {report.id: (report, context) for report, context in loaded}
    shown = [by_id[row.id] for row in page]
    return [presenter.report_fields(r, ctx, principal, now) for r, ctx in shown], cursor


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
) -> dict[str, Any]:
    """The case if the caller may see it (404 otherwise, its existence not revealed), read with
    what it shows in the same statements as a list's page: ReportRead's fields."""
    loaded = await presenter.load_where(
        session, and_(Report.id == report_id, report_scope(principal)), now, calendar
    )
    if not loaded:
        raise NotFound("No such report")
    ((report, context),) = loaded
    return presenter.report_fields(report, context, principal, now)


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
        # Written as the partial indexes of open reports have it (app/models/reports.py).
        status_among(Report.status, OPEN_STATUS_VALUES),
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
