"""Request and response bodies of the unit and pairing endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models.enums import UnitKind
from app.org.schemas import NAME_MAX, PHONE_MAX_LENGTH, PHONE_PATTERN, Ref, refuse_null


class UnitRead(BaseModel):
    id: uuid.UUID
    name: str = Field(examples=["旗农牧和科技局"])
    kind: UnitKind = Field(
        description="department (政府部门), enterprise (企业) or public_body (事业单位/群团组织)"
    )
    region: Ref = Field(description="The region whose government it belongs to")
    phone: str | None = None
    description: str | None = Field(None, examples=["农牧业、农村人居环境与科技推广"])


class PairedCommunityRead(BaseModel):
    pairing_id: uuid.UUID
    community: Ref
    category_codes: list[str] | None = Field(
        description="The categories this pairing covers; null means every category"
    )


class UnitDetail(UnitRead):
    communities: list[PairedCommunityRead] = Field(description="The communities it is paired with")


class UnitCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "旗住建局",
                    "kind": "department",
                    "region_id": "9b2f6c1e-4a57-4d2b-8f0e-3c6a1d7e5b42",
                    "phone": "0478-6612345",
                    "description": "房屋、市政设施",
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["旗住建局"])
    kind: UnitKind
    region_id: uuid.UUID
    phone: str | None = Field(None, pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH)
    description: str | None = Field(None, max_length=2000)


class UnitUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"phone": "0478-6612346", "description": "房屋、市政设施、燃气"}]
        }
    )

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    kind: UnitKind | None = None
    region_id: uuid.UUID | None = None
    phone: str | None = Field(None, pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH)
    description: str | None = Field(None, max_length=2000)

    @field_validator("name", "kind", "region_id")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return refuse_null(value)


CATEGORY_CODES_DESCRIPTION = (
    "Limit the pairing to these category codes (see GET /categories); null or left out: "
    "every category"
)


class PairingRead(BaseModel):
    id: uuid.UUID
    community: Ref
    unit: Ref
    category_codes: list[str] | None = Field(description=CATEGORY_CODES_DESCRIPTION)
    created_at: datetime


class PairingCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "unit_id": "5d1e8a3c-7b4f-4e2a-9c6d-0f8b2a1e3c57",
                    "category_codes": ["street_light_failure"],
                }
            ]
        }
    )

    unit_id: uuid.UUID
    category_codes: list[str] | None = Field(
        None,
        min_length=1,
        description=CATEGORY_CODES_DESCRIPTION,
        examples=[["street_light_failure"]],
    )


class PairingUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"category_codes": ["street_light_failure", "road_damage"]}]
        }
    )

    category_codes: list[str] | None = Field(min_length=1, description=CATEGORY_CODES_DESCRIPTION)
