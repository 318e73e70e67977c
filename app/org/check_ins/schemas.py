"""Request and response bodies of couriers' check-ins with communities."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.enums import CheckInStatus
from app.org.schemas import Ref, UserRef


class CheckInRead(BaseModel):
    id: uuid.UUID
    status: CheckInStatus
    courier: UserRef
    community: Ref
    branch: Ref | None = Field(description="The branch the courier delivers for")
    note: str | None = Field(None, examples=["负责东街社区片区投递"])
    requested_at: datetime
    decided_at: datetime | None = None
    decided_by: UserRef | None = None
    decision_reason: str | None = Field(
        None, description="The staff's note on approval, or the reason for a rejection"
    )


class CheckInCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "branch_id": "c2e5a8f1-3d7b-4c9e-b1a6-5f0d8e2c4a79",
                    "note": "负责东街社区片区投递",
                }
            ]
        }
    )

    branch_id: uuid.UUID | None = Field(
        None,
        description="One of the caller's branches; left out: the branch of the caller's "
        "courier role (required if they work for several)",
    )
    note: str | None = Field(None, max_length=500, examples=["负责东街社区片区投递"])


class CheckInApprove(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "欢迎加入移动哨兵"}]})

    note: str | None = Field(None, max_length=500, examples=["欢迎加入移动哨兵"])


class CheckInReject(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "不在本社区投递范围"}]})

    reason: str = Field(min_length=1, max_length=500, examples=["不在本社区投递范围"])
