"""Bodies of the workflow actions on a report. Every action takes an optional `note`."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from app.models.enums import Priority, Satisfaction, SupervisionLevel

Note = Field(None, max_length=2000, description="Shown in the timeline")
MAX_UNITS_PER_WHISTLE = 20
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


class WhistleRequest(BaseModel):
    unit_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=MAX_UNITS_PER_WHISTLE,
        description="The units to call, each once. The first is the lead (主办) unless "
        "`lead_unit_id` names another, or an open lead job already exists (then every unit "
        "called assists, 协办).",
    )
    lead_unit_id: uuid.UUID | None = Field(
        None, description="The lead unit; one of `unit_ids`. Refused while a lead job is open."
    )
    complete_by: AwareDatetime | None = Field(
        None,
        description="When the units must be done (RFC 3339, in the future); by default each "
        "unit has the category's resolve limit from the moment it accepts its job",
    )
    note: str | None = Note

    @model_validator(mode="after")
    def _distinct_units_and_lead_among_them(self) -> WhistleRequest:
        if len(set(self.unit_ids)) != len(self.unit_ids):
            raise ValueError("unit_ids must not name a unit twice")
        if self.lead_unit_id is not None and self.lead_unit_id not in self.unit_ids:
            raise ValueError("lead_unit_id must be one of unit_ids")
        return self
