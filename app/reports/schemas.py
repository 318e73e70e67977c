from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field

from app.core.geo import CoordSystem
from app.core.lights import Light
from app.core.schemas import LatLng as LatLng
from app.core.schemas import Ref
from app.jobs.schemas import JobRead
from app.models.enums import (
    ClosureType,
    Priority,
    ReportSource,
    ReportStatus,
    Role,
    RoutingMethod,
    Satisfaction,
    SupervisionLevel,
)
from app.photos.schemas import FormPhotos, PhotoIds, PhotoRead


class CategoryRef(BaseModel):
    code: str
    name: str
    name_en: str


class SubmittedLocation(BaseModel):
    lat: float
    lng: float
    coord_system: str = Field(description="As the phone sent it: wgs84, gcj02 or bd09")


class Routing(BaseModel):
    method: RoutingMethod = Field(
        description="grid: a grid worker named a grid of their own community, which decides; "
        "boundary: inside the community; nearest: outside every boundary, nearest community; "
        "region_queue: no community, waiting for the region's supervisors"
    )
    distance_m: float | None = Field(None, description="From the point to the community")


class Deadline(BaseModel):
    kind: str = Field(examples=["accept"], description="accept or resolve")
    due_at: datetime
    limit_hours: float
    hours_kind: str = Field(description="calendar or working hours")
    met_at: datetime | None = Field(None, description="When the clock stopped in time or late")
    light: Light | None = Field(None, description="Null once the clock has stopped")


class PersonRef(BaseModel):
    id: uuid.UUID
    display_name: str
    phone: str | None = Field(None, description="Masked except to the person and admins")


class PossibleDuplicate(BaseModel):
    id: uuid.UUID
    number: str
    status: ReportStatus
    category_code: str
    distance_m: float
    created_at: datetime


class RatingRead(BaseModel):
    satisfaction: Satisfaction
    comment: str | None
    created_at: datetime


class ReportRead(BaseModel):
    id: uuid.UUID
    number: str = Field(examples=["SSP-150826-20261129-000042"])
    status: ReportStatus
    version: int = Field(description="Changes with every update; also sent as the ETag")
    category: CategoryRef
    priority: Priority
    source: ReportSource
    description: str
    address: str | None
    occurred_at: datetime | None
    location: LatLng
    submitted_location: SubmittedLocation
    community: Ref | None
    grid: Ref | None
    region: Ref
    routing: Routing
    reporter: PersonRef | None = Field(
        None, description="Absent for dashboard viewers (de-personalised)"
    )
    photos: list[PhotoRead]
    deadlines: list[Deadline]
    jobs: list[JobRead] = Field(
        default_factory=list, description="The units called by the whistle (派单), lead first"
    )
    rating: RatingRead | None = None
    assignee_id: uuid.UUID | None = Field(None, description="Who handles it in-house (自办)")
    supervision_level: SupervisionLevel | None = Field(
        None, description="督办 level once escalated or overdue: normal, yellow or red card"
    )
    escalation_count: int = 0
    rework_count: int = Field(0, description="Verifications that failed (返工)")
    reopen_count: int = 0
    handled_on_the_spot: bool = Field(
        False, description="随手清: filed as already cleared by its reporter"
    )
    closure_type: ClosureType | None = None
    duplicate_of: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None = None
    started_at: datetime | None = None
    dispatched_at: datetime | None = None
    on_hold_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    rejected_at: datetime | None = None
    duplicate_at: datetime | None = None


class ReportCreated(ReportRead):
    possible_duplicates: list[PossibleDuplicate] = Field(
        description="Open reports of the same category close by, nearest first"
    )


class NearbyReport(BaseModel):
    """What anyone may see of an open report near them: no people, no photos, no text."""

    id: uuid.UUID
    number: str
    status: ReportStatus
    category_code: str
    location: LatLng
    distance_m: float
    created_at: datetime


class TimelineEvent(BaseModel):
    id: uuid.UUID
    seq: int
    type: str = Field(examples=["submitted", "comment"])
    created_at: datetime
    actor: PersonRef | None = Field(None, description="Hidden from the reporter for staff")
    actor_role: Role | None
    from_status: ReportStatus | None
    to_status: ReportStatus | None
    note: str | None
    reason: str | None
    is_internal: bool
    photos: list[PhotoRead] = Field(default_factory=list)


class CommentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"body": "已电话联系车主挪车", "internal": False}]}
    )

    body: str = Field(min_length=1, max_length=2000)
    internal: bool = Field(
        False, description="Staff only: hide the note from the reporter (reporters cannot set it)"
    )


class SubmitReportJSON(BaseModel):
    """The JSON a mini-program sends to file a report whose photos it uploaded first, one per
    request (``POST /api/v1/uploads``): their ids instead of the files."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "category_code": "chaotic_parking",
                    "description": "巷口乱停车，消防车进不去",
                    "lat": 40.84409,
                    "lng": 107.15671,
                    "coord_system": "gcj02",
                    "photo_ids": ["5f0c2a4e-8b1d-4c3e-9a7f-2d6b1e0c9f31"],
                }
            ]
        },
    )

    category_code: str = Field(max_length=64, examples=["chaotic_parking"])
    description: str = Field(min_length=1, max_length=2000)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lng: float = Field(ge=-180, le=180, allow_inf_nan=False)
    photo_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=100,
        description="1 to 9 ids of the caller's uploads, unused and unexpired",
    )
    coord_system: CoordSystem = Field(
        CoordSystem.wgs84,
        description="A mini-program's `wx.getLocation({type: 'gcj02'})` gives GCJ-02: say so",
    )
    address: str | None = Field(None, max_length=300)
    occurred_at: datetime | None = None
    grid_id: uuid.UUID | None = None
    source: ReportSource | None = None
    handled_on_the_spot: bool = Field(
        False, description="随手清: already cleared by the reporter; `after_photo_ids` show it"
    )
    after_photo_ids: PhotoIds


class SubmitReportForm(BaseModel):
    """The multipart form a phone sends to file a report (the route reads it with ``Form()``).
    Text fields as a form carries them: one left out or empty is missing."""

    category_code: str = Field(max_length=64, examples=["chaotic_parking"])
    description: str = Field(min_length=1, max_length=2000, examples=["巷口乱停车，消防车进不去"])
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, examples=[40.8467])
    lng: float = Field(ge=-180, le=180, allow_inf_nan=False, examples=[107.1405])
    photos: list[UploadFile] = Field(description="1 to 9 images: JPEG, PNG, WebP, HEIC")
    coord_system: CoordSystem = CoordSystem.wgs84
    address: str | None = Field(None, max_length=300)
    occurred_at: datetime | None = None
    grid_id: uuid.UUID | None = Field(
        None,
        description="A grid of the community the point is routed to (422 otherwise). "
        "A grid worker may name any grid of their own community, which then decides "
        "where the report goes.",
    )
    source: ReportSource | None = None
    handled_on_the_spot: bool = Field(
        False,
        description="随手清: the reporter already cleared the hazard; 1 to 9 `after_photos` "
        "show it. The case is filed as resolved and waits for the community's check.",
    )
    after_photos: FormPhotos
