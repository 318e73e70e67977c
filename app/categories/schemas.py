from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.models.enums import CategoryKind, HoursKind, Priority

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
# What the INTEGER column holds: beyond it PostgreSQL refused the write (a 500), while SQLite
# stored it.
SortOrder = Annotated[int, Field(ge=-(2**31), le=2**31 - 1, description="Lower first")]


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(examples=["street_light_failure"])
    parent_code: str | None
    name: str = Field(examples=["路灯故障"])
    name_en: str = Field(examples=["Street light failure"])
    kind: CategoryKind
    standard_code: str | None
    default_priority: Priority
    accept_within_hours: float
    resolve_within_hours: float
    hours_kind: HoursKind = Field(description="Whether the limits count calendar or working hours")
    duplicate_radius_m: float
    is_leaf: bool
    is_active: bool
    sort_order: int


class CategoryCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "broken_bench",
                    "parent_code": "component_public_facilities",
                    "name": "公共座椅损坏",
                    "name_en": "Broken public bench",
                    "kind": "component",
                    "default_priority": "normal",
                    "accept_within_hours": 24,
                    "resolve_within_hours": 72,
                    "hours_kind": "working",
                    "duplicate_radius_m": 50,
                }
            ]
        }
    )

    code: str = Field(pattern=CODE_PATTERN)
    parent_code: str | None = None
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    kind: CategoryKind
    standard_code: str | None = Field(None, max_length=20)
    default_priority: Priority = Priority.normal
    accept_within_hours: float = Field(gt=0, le=24 * 365)
    resolve_within_hours: float = Field(gt=0, le=24 * 365)
    hours_kind: HoursKind = HoursKind.calendar
    duplicate_radius_m: float = Field(100.0, gt=0, le=5000)
    is_leaf: bool = True
    sort_order: SortOrder = 0


class CategoryUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"resolve_within_hours": 48, "hours_kind": "working"}]}
    )

    name: str | None = Field(None, min_length=1, max_length=100)
    name_en: str | None = Field(None, min_length=1, max_length=100)
    default_priority: Priority | None = None
    accept_within_hours: float | None = Field(None, gt=0, le=24 * 365)
    resolve_within_hours: float | None = Field(None, gt=0, le=24 * 365)
    hours_kind: HoursKind | None = None
    duplicate_radius_m: float | None = Field(None, gt=0, le=5000)
    is_active: bool | None = None
    sort_order: SortOrder | None = None
