from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from app.core.bodies import form_or_json, form_or_json_body
from app.core.deps import CalendarDep
from app.core.errors import ValidationFailed
from app.core.params import Moment
from app.models.enums import ReportStatus
from app.org.deps import LocatorCacheDep
from app.photos.deps import PhotoServicesDep
from app.photos.pending import sent_photos
from app.photos.uploads import read_uploads
from app.reports.intake import IntakeServices
from app.reports.queries import ReportFilters
from app.reports.schemas import SubmitReportForm, SubmitReportJSON
from app.reports.submission import ReportSubmission

MAX_NEAR_RADIUS_M = 50_000


async def intake_services(
    photos: PhotoServicesDep, locator: LocatorCacheDep, calendar: CalendarDep
) -> IntakeServices:
    return IntakeServices(photos=photos, locator=locator, calendar=calendar)


IntakeServicesDep = Annotated[IntakeServices, Depends(intake_services)]

# The body of POST /reports: a phone's multipart form with the photos, or a mini-program's
# JSON naming photos it uploaded first.
SUBMIT_REPORT_BODY: dict[str, Any] = form_or_json_body(SubmitReportForm, SubmitReportJSON)


async def report_submission(request: Request) -> ReportSubmission:
    """The report as submitted: multipart with its photos, or JSON with ``photo_ids``."""
    body = await form_or_json(request, SubmitReportForm, SubmitReportJSON)
    assert isinstance(body, SubmitReportForm | SubmitReportJSON)
    sent = await sent_photos(body)
    return ReportSubmission(
        category_code=body.category_code,
        description=body.description,
        lat=body.lat,
        lng=body.lng,
        coord_system=body.coord_system,
        address=body.address,
        occurred_at=body.occurred_at,
        grid_id=body.grid_id,
        source=body.source,
        photos=sent.files,
        photo_ids=sent.upload_ids,
        handled_on_the_spot=body.handled_on_the_spot,
        after_photos=await read_uploads(getattr(body, "after_photos", None) or []),
        after_photo_ids=getattr(body, "after_photo_ids", None) or [],
    )


ReportSubmissionDep = Annotated[ReportSubmission, Depends(report_submission)]


def floats(raw: str, count: int, name: str) -> list[float]:
    try:
        values = [float(part) for part in raw.split(",")]
    except ValueError:
        values = []
    if len(values) != count or any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise ValidationFailed.at(["query", name], f"expected {count} comma-separated numbers")
    return values


async def report_filters(
    status: Annotated[list[ReportStatus] | None, Query(description="Repeatable")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    community_id: uuid.UUID | None = None,
    region_id: Annotated[uuid.UUID | None, Query(description="The region and its subtree")] = None,
    unit_id: Annotated[uuid.UUID | None, Query(description="Cases with a job for the unit")] = None,
    mine: Annotated[bool, Query(description="Only reports I submitted")] = False,
    overdue: Annotated[bool, Query(description="Only reports past a running deadline")] = False,
    created_from: Annotated[Moment, Query(description="From this time on (RFC 3339)")] = None,
    created_to: Annotated[Moment, Query(description="Before this time (RFC 3339)")] = None,
    bbox: Annotated[str | None, Query(description="minLng,minLat,maxLng,maxLat (WGS-84)")] = None,
    near: Annotated[str | None, Query(description="lat,lng,radius_m (WGS-84)")] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Text in description, number or address")
    ] = None,
    sort: Annotated[
        str, Query(pattern="^-?created_at$", description="created_at or -created_at (newest first)")
    ] = "-created_at",
) -> ReportFilters:
    box = None
    if bbox is not None:
        min_lng, min_lat, max_lng, max_lat = floats(bbox, 4, "bbox")
        if min_lng > max_lng or min_lat > max_lat:
            raise ValidationFailed.at(["query", "bbox"], "the minimum is greater than the maximum")
        box = (min_lng, min_lat, max_lng, max_lat)
    circle = None
    if near is not None:
        lat, lng, radius = floats(near, 3, "near")
        if not (-90 <= lat <= 90 and -180 <= lng <= 180 and 0 < radius <= MAX_NEAR_RADIUS_M):
            raise ValidationFailed.at(
                ["query", "near"], f"lat, lng in range and 0 < radius_m ≤ {MAX_NEAR_RADIUS_M}"
            )
        circle = (lat, lng, radius)
    for name, value in (("created_from", created_from), ("created_to", created_to)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed.at(["query", name], "give a time zone (RFC 3339)")
    return ReportFilters(
        statuses=tuple(status or ()),
        category=category,
        community_id=community_id,
        region_id=region_id,
        unit_id=unit_id,
        mine=mine,
        overdue=overdue,
        created_from=created_from,
        created_to=created_to,
        bbox=box,
        near=circle,
        q=q,
        oldest_first=sort == "created_at",
    )


ReportFiltersDep = Annotated[ReportFilters, Depends(report_filters)]
