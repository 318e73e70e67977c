"""Request and response bodies of couriers' check-ins with communities."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.models.enums import CheckInStatus
from app.org.schemas import PersonRef, Ref


class CheckInRead(BaseModel):
    id: uuid.UUID
    status: CheckInStatus
    courier: PersonRef
    community: Ref
    branch: Ref | None = Field(description="The branch the courier delivers for")
    note: str | None = Field(None, examples=["负责东街社区片区投递"])
    requested_at: datetime
    decided_at: datetime | None = None
    decided_by: PersonRef | None = None
    decision_reason: str | None = Field(
        None, description="The staff's note on approval, or the reason for a rejection"
    )


class CheckInCreate(BaseModel):
    branch_id: uuid.UUID | None = Field(
        None,
        description="One of the caller's branches; left out: the branch of the caller's "
        "courier role (required if they work for several)",
    )
    note: str | None = Field(None, max_length=500, examples=["负责东街社区片区投递"])


class CheckInApprove(BaseModel):
    note: str | None = Field(None, max_length=500, examples=["欢迎加入移动哨兵"])


class CheckInReject(BaseModel):
    reason: str = Field(min_length=1, max_length=500, examples=["不在本社区投递范围"])
