"""Request and response bodies of the unit and pairing endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

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
    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["旗住建局"])
    kind: UnitKind
    region_id: uuid.UUID
    phone: str | None = Field(None, pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH)
    description: str | None = Field(None, max_length=2000)


class UnitUpdate(BaseModel):
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
    unit_id: uuid.UUID
    category_codes: list[str] | None = Field(
        None,
        min_length=1,
        description=CATEGORY_CODES_DESCRIPTION,
        examples=[["street_light_failure"]],
    )


class PairingUpdate(BaseModel):
    category_codes: list[str] | None = Field(min_length=1, description=CATEGORY_CODES_DESCRIPTION)
