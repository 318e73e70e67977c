"""Request and response bodies of the units' jobs (派单)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from app.core.lights import Light
from app.core.schemas import Ref
from app.models.enums import DeclineReason, ExtensionStatus, JobStatus, ReportStatus
from app.photos.schemas import FormPhotos, PhotoIds

TEXT_MAX = 2000

# Required free text: surrounding blanks are dropped, so "   " counts as missing.
RequiredText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)
]
Note = Annotated[
    str | None, Field(max_length=TEXT_MAX, description="A note for the case's timeline")
]


class JobNoteBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "已收到，明早到现场"}]})

    note: Note = None


class JobDecline(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason_code": "wrong_area", "reason": "该路段归交通运输局管理"}]
        }
    )

    reason_code: DeclineReason = Field(
        description="wrong_area 属地不符, unclear_ownership 权属不清, "
        "overlapping_duties 职能交叉, other"
    )
    reason: RequiredText = Field(description="Why, in words the community can act on")
    note: Note = None


class ExtensionCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "until": "2027-03-12T18:00:00+08:00",
                    "reason": "配件需从呼和浩特调货",
                }
            ]
        }
    )

    until: AwareDatetime = Field(
        description="The completion time asked for: in the future and after the current one"
    )
    reason: RequiredText
    note: Note = None


class JobCancel(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "主办单位已处置完毕"}]})

    reason: RequiredText
    note: Note = None


class JobDeadline(BaseModel):
    """A job's clock. The accept clock runs from the dispatch; the completion clock from the
    unit's acceptance (and again from a rework), so it is listed once the unit accepted, or
    from the dispatch when the whistle named the completion time."""

    kind: Literal["accept", "complete"]
    due_at: datetime
    met_at: datetime | None = Field(
        None, description="When the clock stopped by the unit answering (accept) or finishing"
    )
    light: Light | None = Field(
        None,
        description="green, yellow (≥ 80 % of the time from the clock's start to its deadline "
        "used, counted in working hours for a working-hour limit) or red (overdue); null while "
        "the clock is not running: stopped, withdrawn, or the completion clock of a job not "
        "accepted yet",
    )


class ExtensionRead(BaseModel):
    id: uuid.UUID
    requested_until: datetime
    previous_due_at: datetime | None
    reason: str
    status: ExtensionStatus
    requested_at: datetime
    decided_at: datetime | None
    decision_note: str | None


class JobRead(BaseModel):
    id: uuid.UUID
    report_id: uuid.UUID
    report_number: str = Field(examples=["SSP-150826-20261129-000042"])
    report_status: ReportStatus
    needs_redispatch: bool = Field(
        description="The case is dispatched but has no open lead job (the lead declined or "
        "was cancelled): the community must whistle again naming a new lead"
    )
    unit: Ref
    is_lead: bool = Field(description="The lead unit (主办); the others assist (协办)")
    status: JobStatus
    version: int = Field(description="Changes with every update; also sent as the ETag")
    complete_by_explicit: bool = Field(
        description="The whistle named the completion time instead of the category's limit"
    )
    deadlines: list[JobDeadline]
    decline_reason_code: DeclineReason | None
    decline_reason: str | None
    rework_count: int
    extension_count: int = Field(description="Extensions granted")
    extensions: list[ExtensionRead] = Field(description="Requests for more time, oldest first")
    created_at: datetime = Field(description="When the whistle dispatched the job")
    accepted_at: datetime | None
    completed_at: datetime | None
    declined_at: datetime | None
    cancelled_at: datetime | None
    updated_at: datetime


RequiredNote = Field(min_length=1, max_length=TEXT_MAX, description="What was done")
_PHOTO_ID_EXAMPLE = "5f0c2a4e-8b1d-4c3e-9a7f-2d6b1e0c9f31"


class ReportJobProgressForm(BaseModel):
    """Multipart: a note and photos if there are any (or `photo_ids`)."""

    note: str = RequiredNote
    photos: FormPhotos
    photo_ids: PhotoIds


class ReportJobProgressJSON(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "已到现场，正在更换灯具", "photo_ids": []}]},
    )

    note: str = RequiredNote
    photo_ids: PhotoIds


class CompleteJobForm(BaseModel):
    """Multipart: a note and at least one "after" photo (or `photo_ids`)."""

    note: str = RequiredNote
    photos: FormPhotos
    photo_ids: PhotoIds


class CompleteJobJSON(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"note": "路灯已修复，夜间亮灯正常", "photo_ids": [_PHOTO_ID_EXAMPLE]}]
        },
    )

    note: str = RequiredNote
    photo_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)
