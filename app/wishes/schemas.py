from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import Ref
from app.models.enums import WishStatus
from app.photos.pictures import PictureLinks
from app.wishes.transitions import WishAction

Reason = Field(min_length=1, max_length=500, description="Required: why")


class WishCreate(BaseModel):
    """A wish for a community. A resident posts their own (the contact defaults to their
    account's phone); the community's staff may post one for a resident without an account
    (then `resident_name` and `phone` are required)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "community_id": "f873ebaf-2e64-5842-b987-6b1a848d29b9",
                    "title": "帮忙更换楼道灯泡",
                    "description": "独居老人，够不着",
                    "needed_by": "2026-12-20",
                    "address": "东街社区 3 号楼 2 单元 401",
                    "phone": "13804781234",
                }
            ]
        },
    )

    community_id: uuid.UUID
    title: str = Field(min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    needed_by: date | None = Field(None, description="By when (a date, China time)")
    address: str | None = Field(
        None, max_length=200, description="Where: shown to the claimant only"
    )
    phone: str | None = Field(
        None, min_length=5, max_length=20, description="Shown to the claimant only"
    )
    resident_name: str | None = Field(None, min_length=1, max_length=100)
    photo_id: uuid.UUID | None = Field(None, description="A photo uploaded first")


class WishDecline(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "不属于微心愿范围，请拨打 12345"}]},
    )

    reason: str = Reason


class WishNote(BaseModel):
    """An optional note (why it was withdrawn, given up, reopened)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "这周临时出差"}]}
    )

    reason: str | None = Field(None, max_length=500)


class WishReopen(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "灯泡还是不亮"}]}
    )

    reason: str = Reason


class WishFulfil(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"photo_id": "e20f4d9a-c9a9-44b5-8865-4ac9415c99a0", "note": "已更换灯泡"}]
        },
    )

    photo_id: uuid.UUID = Field(description="A photo of the wish fulfilled, uploaded first")
    note: str | None = Field(None, max_length=1000)


class WishThank(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "谢谢小伙子！"}]}
    )

    note: str = Field(min_length=1, max_length=500, examples=["谢谢小伙子！"])


class WishContact(BaseModel):
    """How to reach the resident: for the resident and the volunteer who claimed the wish."""

    name: str | None
    phone: str | None
    address: str | None


class PersonName(BaseModel):
    id: uuid.UUID
    display_name: str


class WishRead(BaseModel):
    id: uuid.UUID
    title: str
    description: str | None
    needed_by: date | None
    status: WishStatus
    community: Ref
    contact: WishContact | None = Field(
        description="Only for the resident and, once claimed, for the claimant; else null"
    )
    picture: PictureLinks | None
    claimant: PersonName | None
    decline_reason: str | None
    fulfilment_note: str | None
    fulfilment_picture: PictureLinks | None
    thanks_note: str | None
    reopen_reason: str | None = Field(description="Why the resident said it was not done")
    withdraw_reason: str | None
    created_at: datetime
    reviewed_at: datetime | None
    claimed_at: datetime | None
    fulfilled_at: datetime | None
    confirmed_at: datetime | None
    withdrawn_at: datetime | None
    staff_may_confirm_at: datetime | None = Field(
        None, description="When the community's staff may confirm for a silent resident"
    )
    actions: list[WishAction] = Field(description="What the caller may do now")
