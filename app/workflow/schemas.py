"""Bodies of the workflow actions on a report. Every action takes an optional `note`."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from app.models.enums import Priority, Satisfaction, SupervisionLevel

Note = Field(None, max_length=2000, description="Shown in the timeline")
Reason = Field(min_length=1, max_length=2000, description="Required: why")


class ActionBase(BaseModel):
    note: str | None = Note


class AcceptBody(ActionBase):
    priority: Priority | None = Field(None, description="Default: the category's")
    category_code: str | None = Field(None, description="Re-categorise while accepting")


class RejectBody(ActionBase):
    reason: str = Reason


class MarkDuplicateBody(ActionBase):
    duplicate_of: uuid.UUID = Field(description="The report this one repeats")


class TransferBody(ActionBase):
    community_id: uuid.UUID = Field(description="The community that should own it")
    reason: str = Reason


class StartBody(ActionBase):
    assignee_id: uuid.UUID | None = Field(
        None, description="A staff member or grid worker of the community; default: the caller"
    )


class ReopenBody(ActionBase):
    reason: str = Reason


class EscalateBody(ActionBase):
    reason: str = Reason
    level: SupervisionLevel | None = Field(
        None, description="Supervision level (督办); yellow and red cards are for supervisors"
    )


class HoldBody(ActionBase):
    reason: str = Reason


class ResumeBody(ActionBase):
    pass


class RateBody(BaseModel):
    satisfaction: Satisfaction
    comment: str | None = Field(None, max_length=2000)
