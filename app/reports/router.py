from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, status
from fastapi.responses import JSONResponse

from app.auth.deps import CurrentPrincipal, UserPrincipal
from app.core.deps import CalendarDep, ClockDep, SessionDep
from app.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
    error_responses,
)
from app.core.etags import version_tag
from app.core.geo import CoordSystem, to_wgs84
from app.core.idempotency import IdempotencyKeyReused
from app.core.pagination import Page, PageParams, page_params
from app.core.params import ReportId
from app.core.responses import PresentedJSON, page_response
from app.models import Category
from app.reports import intake, queries, timeline
from app.reports.deps import (
    SUBMIT_REPORT_BODY,
    IntakeServicesDep,
    ReportFiltersDep,
    ReportSubmissionDep,
)
from app.reports.schemas import (
    CommentCreate,
    NearbyReport,
    ReportCreated,
    ReportRead,
    TimelineEvent,
)

router = APIRouter(tags=["reports"])

MAX_NEARBY_RADIUS_M = 2000


@router.post(
    "/reports",
    response_model=ReportCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Submit a report (随手拍) with 1–9 photos, sent along or uploaded first",
    description=(
        "Multipart with the photos in `photos`, or JSON naming photos uploaded first, one per "
        "request, with `POST /uploads` (`photo_ids`: what a mini-program's `wx.uploadFile` "
        "can do). Either way the same checks, routing, numbering and answer. Send "
        "`Idempotency-Key` so that a retry after a timeout returns the first response instead "
        "of filing the report twice. The report is routed to the community whose boundary "
        "contains the point (or the nearest one within the routing distance, or the region's "
        "queue) and answered with `possible_duplicates`."
    ),
    responses=error_responses(
        Unauthorized,
        Forbidden,
        ValidationFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        IdempotencyKeyReused,
        Conflict,
    ),
    openapi_extra=SUBMIT_REPORT_BODY,
)
async def submit_report(
    principal: UserPrincipal,
    session: SessionDep,
    services: IntakeServicesDep,
    clock: ClockDep,
    submission: ReportSubmissionDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    result = await intake.submit_report(
        session, principal, submission, services, idempotency_key, clock.now()
    )
    headers = {
        "ETag": version_tag(result.report_id, result.version),
        "Location": f"/api/v1/reports/{result.report_id}",
    }
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(result.body, status_code=result.status_code, headers=headers)


@router.get(
    "/reports",
    response_model=Page[ReportRead],
    summary="Reports the caller may see, newest first, with filters",
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def list_reports(
    principal: CurrentPrincipal,
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    filters: ReportFiltersDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> PresentedJSON:
    items, cursor = await queries.list_reports(
        session, principal, filters, page, clock.now(), calendar
    )
    return page_response(items, cursor)


@router.get(
    "/reports/nearby",
    response_model=list[NearbyReport],
    summary="Open reports near a point (“already reported?”): public fields only",
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def nearby_reports(
    _: CurrentPrincipal,
    session: SessionDep,
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    lng: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    category: Annotated[str | None, Query(max_length=64)] = None,
    radius_m: Annotated[
        float | None,
        Query(gt=0, le=MAX_NEARBY_RADIUS_M, description="Default: the category's duplicate radius"),
    ] = None,
    coord_system: CoordSystem = CoordSystem.wgs84,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[NearbyReport]:
    wgs_lat, wgs_lng = to_wgs84(lat, lng, coord_system)
    if radius_m is None:
        row = await session.get(Category, category) if category else None
        if category and row is None:
            raise ValidationFailed.at(["query", "category"], "no such category")
        radius_m = row.duplicate_radius_m if row else 100.0
    found = await queries.open_reports_near(
        session, lat=wgs_lat, lng=wgs_lng, radius_m=radius_m, category=category, limit=limit
    )
    return queries.nearby(found)


@router.get(
    "/reports/{report_id}",
    response_model=ReportRead,
    summary="The whole case",
    responses=error_responses(Unauthorized, NotFound),
)
async def read_report(
    report_id: ReportId,
    principal: CurrentPrincipal,
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
) -> PresentedJSON:
    report = await queries.read_report(session, principal, report_id, clock.now(), calendar)
    return PresentedJSON(report, headers={"ETag": version_tag(report["id"], report["version"])})


@router.get(
    "/reports/{report_id}/timeline",
    response_model=list[TimelineEvent],
    summary="The case's events, oldest first (the reporter sees the public part)",
    responses=error_responses(Unauthorized, NotFound),
)
async def report_timeline(
    report_id: ReportId, principal: CurrentPrincipal, session: SessionDep, clock: ClockDep
) -> PresentedJSON:
    return PresentedJSON(await timeline.timeline(session, principal, report_id, clock.now()))


@router.post(
    "/reports/{report_id}/comments",
    response_model=TimelineEvent,
    status_code=status.HTTP_201_CREATED,
    summary="A note on the case: internal (staff only) or visible to the reporter",
    responses=error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed),
)
async def comment_on_report(
    report_id: ReportId,
    body: CommentCreate,
    principal: UserPrincipal,
    session: SessionDep,
    clock: ClockDep,
) -> TimelineEvent:
    return await timeline.add_comment(
        session, principal, report_id, body.body, body.internal, clock.now()
    )
