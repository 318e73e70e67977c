"""Bodies of the workflow actions on a report. Every action takes an optional `note`."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from app.models.enums import Priority, Satisfaction, SupervisionLevel
from app.photos.schemas import FormPhotos, PhotoIds

Note = Field(None, max_length=2000, description="Shown in the timeline")
MAX_UNITS_PER_WHISTLE = 20
Reason = Field(min_length=1, max_length=2000, description="Required: why")


class ActionBase(BaseModel):
    note: str | None = Note


class AcceptBody(ActionBase):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "属实，立案", "priority": "high"}]}
    )

    priority: Priority | None = Field(None, description="Default: the category's")
    category_code: str | None = Field(None, description="Re-categorise while accepting")


class RejectBody(ActionBase):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "照片与描述不符，无法核实"}]}
    )

    reason: str = Reason


class MarkDuplicateBody(ActionBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "duplicate_of": "3e8d1f7a-5c2b-4d9e-a6f0-8b4c2e1d7a35",
                    "note": "同一地点昨日已上报",
                }
            ]
        }
    )

    duplicate_of: uuid.UUID = Field(description="The report this one repeats")


class TransferBody(ActionBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "community_id": "f873ebaf-0c6d-4b8e-9a53-2e1d7c4b6a90",
                    "reason": "位置属于东街社区",
                }
            ]
        }
    )

    community_id: uuid.UUID = Field(description="The community that should own it")
    reason: str = Reason


class StartBody(ActionBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"assignee_id": "1c6575d3-8e2a-4f7b-9d4c-6a0b3e5f7c18", "note": "网格员自行处置"}
            ]
        }
    )

    assignee_id: uuid.UUID | None = Field(
        None, description="A staff member or grid worker of the community; default: the caller"
    )


class ReopenBody(ActionBase):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "居民反映问题仍在"}]})

    reason: str = Reason


class EscalateBody(ActionBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "涉及多个部门，社区无法协调", "level": "normal"}]
        }
    )

    reason: str = Reason
    level: SupervisionLevel | None = Field(
        None, description="Supervision level (督办); yellow and red cards are for supervisors"
    )


class HoldBody(ActionBase):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "等待开春后施工"}]})

    reason: str = Reason


class ResumeBody(ActionBase):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "天气转暖，恢复施工"}]})

    pass


class RateBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"satisfaction": "satisfied", "comment": "处理很快，谢谢"}]}
    )

    satisfaction: Satisfaction
    comment: str | None = Field(None, max_length=2000)


class WhistleRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "unit_ids": [
                        "5d1e8a3c-7b4f-4e2a-9c6d-0f8b2a1e3c57",
                        "a4c7e2b9-1d3f-4a6e-8b5c-7e9d0f2a4b61",
                    ],
                    "lead_unit_id": "5d1e8a3c-7b4f-4e2a-9c6d-0f8b2a1e3c57",
                    "complete_by": "2027-03-05T18:00:00+08:00",
                    "note": "请主办单位三日内清理",
                }
            ]
        }
    )

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


class ResolveReportForm(BaseModel):
    """Multipart: a note and at least one photo of the result (or `photo_ids`)."""

    note: str | None = Note
    photos: FormPhotos
    photo_ids: PhotoIds


class ResolveReportJSON(BaseModel):
    """A note and the ids of photos of the result uploaded first."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"note": "已清理完毕", "photo_ids": ["5f0c2a4e-8b1d-4c3e-9a7f-2d6b1e0c9f31"]}
            ]
        },
    )

    note: str | None = Note
    photo_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)


class VerifyReportForm(BaseModel):
    """Multipart: passed or not, a note, photos of the check if any (or `photo_ids`)."""

    passed: bool
    note: str | None = Note
    photos: FormPhotos
    photo_ids: PhotoIds


class VerifyReportJSON(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "passed": True,
                    "note": "现场核查已整改",
                    "photo_ids": ["5f0c2a4e-8b1d-4c3e-9a7f-2d6b1e0c9f31"],
                }
            ]
        },
    )

    passed: bool
    note: str | None = Note
    photo_ids: PhotoIds
