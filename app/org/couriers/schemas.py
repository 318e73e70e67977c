"""Request and response bodies of the courier company and branch endpoints."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.org.schemas import NAME_MAX, Ref, refuse_null


class CourierCompanyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str = Field(examples=["顺丰速运"])
    short_name: str | None = Field(None, examples=["顺丰"])


class CourierCompanyCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "顺丰速运", "short_name": "顺丰"}]}
    )

    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["顺丰速运"])
    short_name: str | None = Field(None, max_length=40, examples=["顺丰"])


class CourierCompanyUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"short_name": "顺丰"}]})

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    short_name: str | None = Field(None, max_length=40)

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, value: Any) -> Any:
        return refuse_null(value)


class CourierBranchRead(BaseModel):
    id: uuid.UUID
    name: str = Field(examples=["顺丰速运杭锦后旗营业部"])
    company: Ref
    region: Ref | None = Field(description="Where the branch (网点) is")
    address: str | None = None


class CourierBranchCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "company_id": "7f3a9c2e-6b1d-4e8f-a5c0-2d9e4b7f1a63",
                    "name": "杭锦后旗陕坝营业部",
                    "region_id": "9b2f6c1e-4a57-4d2b-8f0e-3c6a1d7e5b42",
                    "address": "陕坝镇北街 18 号",
                }
            ]
        }
    )

    company_id: uuid.UUID
    name: str = Field(min_length=1, max_length=NAME_MAX, description="Unique within the company")
    region_id: uuid.UUID | None = None
    address: str | None = Field(None, max_length=200)


class CourierBranchUpdate(BaseModel):
    """A branch stays with its company; to move couriers to another company, create a branch
    there."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"address": "陕坝镇北街 20 号"}]})

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    region_id: uuid.UUID | None = None
    address: str | None = Field(None, max_length=200)

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, value: Any) -> Any:
        return refuse_null(value)
