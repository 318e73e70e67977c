"""Bodies of the personal-information endpoints: the data export, account cancellation, the
audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import Ref
from app.models.enums import (
    CheckInStatus,
    PhotoKind,
    RedemptionStatus,
    ReportSource,
    ReportStatus,
    Role,
    Satisfaction,
    ScopeType,
    WishStatus,
)
from app.points.schemas import PointsRule, ReportNumberRef
from app.reports.schemas import LatLng, SubmittedLocation

# --- the data export -----------------------------------------------------------------------


class ExportProfile(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    phone: str | None = Field(description="In full: it is your own")
    is_active: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


class ExportRole(BaseModel):
    role: Role
    scope_type: ScopeType | None
    scope_id: uuid.UUID | None
    scope_name: str | None
    granted_at: datetime


class ExportSession(BaseModel):
    """One sign-in and the refresh tokens renewed from it."""

    id: uuid.UUID
    signed_in_at: datetime
    client_address: str | None
    user_agent: str | None
    last_renewed_at: datetime | None = Field(description="When its tokens were last issued")
    revoked_at: datetime | None
    revoke_reason: str | None


class ExportApiKey(BaseModel):
    """A dashboard key you created (never its secret, which is not kept)."""

    id: uuid.UUID
    name: str
    prefix: str
    region: Ref
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ExportCheckIn(BaseModel):
    id: uuid.UUID
    community: Ref
    branch: Ref | None
    status: CheckInStatus
    note: str | None
    requested_at: datetime
    decided_at: datetime | None
    decision_reason: str | None


class ExportPhoto(BaseModel):
    id: uuid.UUID
    kind: PhotoKind
    url: str = Field(description="Fetch it with your token while you have an account")
    width: int
    height: int
    original_filename: str | None
    exif_location: LatLng | None = Field(description="The GPS position in the photo's EXIF")
    exif_taken_at: datetime | None
    created_at: datetime


class ExportReport(BaseModel):
    id: uuid.UUID
    number: str
    status: ReportStatus
    category_code: str
    source: ReportSource
    description: str
    address: str | None
    occurred_at: datetime | None
    location: LatLng
    submitted_location: SubmittedLocation
    community: Ref | None
    created_at: datetime
    closed_at: datetime | None
    photos: list[ExportPhoto]


class ExportComment(BaseModel):
    id: uuid.UUID
    report: ReportNumberRef
    body: str | None
    created_at: datetime


class ExportRating(BaseModel):
    report: ReportNumberRef
    satisfaction: Satisfaction
    comment: str | None
    created_at: datetime


class ExportPointsEntry(BaseModel):
    rule: PointsRule
    points: int
    points_before_cap: int
    report: ReportNumberRef | None
    created_at: datetime


class ExportPoints(BaseModel):
    balance: int
    entries: list[ExportPointsEntry] = Field(description="Oldest first")


class ExportWebhook(BaseModel):
    """A webhook you registered (never its signing secret)."""

    id: uuid.UUID
    url: str
    events: list[str]
    unit: Ref | None
    active: bool
    created_at: datetime


class ExportAccess(BaseModel):
    """A recorded access to your personal data."""

    action: str = Field(examples=["personal_data.export"])
    occurred_at: datetime
    by_self: bool = Field(description="False when an administrator did it")


class ExportWish(BaseModel):
    """A micro-wish you posted (with the contact you gave) or claimed as a volunteer."""

    id: uuid.UUID
    part: Literal["resident", "volunteer"]
    community: str
    title: str
    description: str | None
    status: WishStatus
    contact_name: str | None = Field(description="Only in the wishes you posted")
    contact_phone: str | None
    address: str | None
    fulfilment_note: str | None
    thanks_note: str | None
    created_at: datetime


class ExportRedemption(BaseModel):
    """A reward you bought in a points store."""

    id: uuid.UUID
    reward: str
    points: int
    code: str
    status: RedemptionStatus
    created_at: datetime
    handed_over_at: datetime | None
    cancelled_at: datetime | None


class PersonalDataExport(BaseModel):
    """A copy of the personal data the service holds about the caller (个人信息副本)."""

    format: Literal["suishoupai.personal-data.v1"] = "suishoupai.personal-data.v1"
    generated_at: datetime
    profile: ExportProfile
    roles: list[ExportRole]
    sessions: list[ExportSession] = Field(description="Sign-ins, newest first")
    api_keys: list[ExportApiKey]
    check_ins: list[ExportCheckIn]
    reports: list[ExportReport] = Field(description="Reports you filed, newest first")
    comments: list[ExportComment] = Field(description="Your public comments on cases")
    ratings: list[ExportRating]
    points: ExportPoints
    wishes: list[ExportWish] = Field(description="Micro-wishes you posted or claimed")
    redemptions: list[ExportRedemption] = Field(description="What you bought with points")
    webhooks: list[ExportWebhook]
    accesses: list[ExportAccess] = Field(
        description="Exports, cancellations and administrators' reads of your data, newest first"
    )


# --- account cancellation ------------------------------------------------------------------


class SelfCancellation(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"password": "my-current-password", "reason": "不再使用"}]}
    )

    password: str = Field(
        min_length=1, max_length=1024, description="Your current password, to confirm it is you"
    )
    reason: str | None = Field(None, max_length=500, description="Why you leave (optional)")


class AdminCancellation(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "本人书面申请注销 (ticket 2026-118)"}]}
    )

    reason: str = Field(
        min_length=1,
        max_length=500,
        examples=["本人书面申请注销 (ticket 2026-118)"],
        description="Why the account is cancelled: the person's request, a court order, …",
    )


class CancellationRead(BaseModel):
    """What the cancellation did. Sent again for an account already cancelled, with zero
    counts: nothing more was left to do."""

    user_id: uuid.UUID
    cancelled_at: datetime
    already_cancelled: bool = Field(description="True when an earlier request cancelled it")
    roles_removed: int
    sessions_revoked: int
    api_keys_revoked: int
    check_ins_ended: int
    webhooks_disabled: int
    points_forfeited: int = Field(description="The balance the closing entry took away")
    reports_kept: int = Field(description="Cases filed by the account, kept with no name")


# --- a case's integration contact -----------------------------------------------------------


class IntegrationContactRead(BaseModel):
    """How a case filed through Open311 came in, and the person it was filed for."""

    integration: str = Field(examples=["12345 市民热线"], description="The filing key's name")
    media_url: str | None = Field(description="The link to its media it was filed with")
    first_name: str | None
    last_name: str | None
    email: str | None = Field(examples=["z*******@example.com"], description="Masked")
    phone: str | None = Field(examples=["1********34"], description="Masked")
    device_id: str | None
    account_id: str | None = Field(description="The caller's account in the integration")
    filed_at: datetime
    erased_at: datetime | None = Field(
        description="When the contact fields were erased, the case being long over"
    )


# --- the audit log -------------------------------------------------------------------------


class AuditPerson(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str


class AuditEntryRead(BaseModel):
    id: uuid.UUID
    occurred_at: datetime
    action: str = Field(
        examples=["user.read_unmasked"],
        description="personal_data.export, account.cancel, user.read_unmasked or "
        "contact.read_unmasked",
    )
    actor: AuditPerson | None = Field(description="Who did it")
    subject: AuditPerson | None = Field(description="Whose data")
    client_address: str | None
    request_id: str | None
    detail: dict[str, Any] = Field(description="A few facts about the access, never the data")
