"""Request and response bodies of the region endpoints."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models.enums import RegionLevel
from app.org.schemas import NAME_MAX, Ref, refuse_null


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str = Field(examples=["杭锦后旗"])
    code: str | None = Field(
        None, description="Administrative division code (行政区划代码)", examples=["150826"]
    )
    level: RegionLevel = Field(description="city (盟市) → county (旗县区) → township (苏木镇/街道)")
    parent_id: uuid.UUID | None = Field(description="null for a root of the tree")


class RegionDetail(RegionRead):
    ancestors: list[Ref] = Field(description="From the root of the tree down to the parent")
    children: list[RegionRead]


class RegionCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "二道桥镇",
                    "code": "150826102",
                    "parent_id": "9b2f6c1e-4a57-4d2b-8f0e-3c6a1d7e5b42",
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["二道桥镇"])
    code: str | None = Field(
        None,
        pattern=r"^[0-9A-Za-z]{1,20}$",
        examples=["150826102"],
        description="Administrative division code; unique",
    )
    parent_id: uuid.UUID | None = Field(
        None, description="The parent region; leave out to add a root (a whole city or banner)"
    )
    level: RegionLevel | None = Field(
        None,
        description="Required for a root. Under a parent it follows from the parent's level "
        "(a city's child is a county, a county's child a township) and, if given, must match.",
    )


class RegionUpdate(BaseModel):
    """Rename or recode a region. Its place in the tree is fixed: create a new region and
    move its communities and units instead."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "二道桥镇", "code": "150826102"}]}
    )

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    code: str | None = Field(None, pattern=r"^[0-9A-Za-z]{1,20}$")

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, value: Any) -> Any:
        return refuse_null(value)
