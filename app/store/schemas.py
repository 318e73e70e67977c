from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from app.core.schemas import Ref
from app.models.enums import RedemptionStatus
from app.photos.pictures import PictureLinks

Name = Field(min_length=1, max_length=100, examples=["洗衣液 2kg"])
Description = Field(None, max_length=2000)
Price = Field(gt=0, le=1_000_000, description="The price in points", examples=[120])
MonthlyLimit = Field(
    None, gt=0, le=10_000, description="How many one person may buy in a month (China time)"
)


class RewardCreate(BaseModel):
    """An item for a shelf: the shelf of a community (`community_id`) or of a courier company
    (`company_id`), exactly one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "洗衣液 2kg",
                    "points_price": 120,
                    "stock": 20,
                    "monthly_limit": 1,
                    "community_id": "f873ebaf-2e64-5842-b987-6b1a848d29b9",
                }
            ]
        },
    )

    name: str = Name
    description: str | None = Description
    points_price: int = Price
    stock: int = Field(ge=0, le=1_000_000, description="Items on hand", examples=[20])
    monthly_limit: int | None = MonthlyLimit
    available_from: AwareDatetime | None = Field(None, description="On the shelf from (RFC 3339)")
    available_until: AwareDatetime | None = Field(None, description="On the shelf until")
    community_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    photo_id: uuid.UUID | None = Field(
        None, description="A picture uploaded first (`POST /api/v1/uploads`)"
    )

    @model_validator(mode="after")
    def _one_shop(self) -> RewardCreate:
        if (self.community_id is None) == (self.company_id is None):
            raise ValueError("give exactly one of community_id and company_id")
        if (
            self.available_from is not None
            and self.available_until is not None
            and self.available_until <= self.available_from
        ):
            raise ValueError("available_until must be after available_from")
        return self


class RewardUpdate(BaseModel):
    """Fields to change; absent fields stay. `stock_change` adds to (or takes from) the stock
    in one step, so that purchases made meanwhile are not overwritten."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"stock_change": 10, "points_price": 100}]}
    )

    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Description
    points_price: int | None = Field(None, gt=0, le=1_000_000)
    stock_change: int | None = Field(
        None, ge=-1_000_000, le=1_000_000, description="e.g. 10 (restocked) or -2 (damaged)"
    )
    monthly_limit: int | None = MonthlyLimit
    available_from: AwareDatetime | None = None
    available_until: AwareDatetime | None = None
    is_active: bool | None = Field(None, description="False takes it off the shelf")
    photo_id: uuid.UUID | None = None


class RewardRead(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    points_price: int
    stock: int
    monthly_limit: int | None
    available_from: datetime | None
    available_until: datetime | None
    is_active: bool
    on_shelf: bool = Field(description="Active, in its window and in stock: it can be bought")
    community: Ref | None
    company: Ref | None
    picture: PictureLinks | None
    bought_this_month: int | None = Field(
        None, description="How many the caller bought this month (not cancelled)"
    )
    created_at: datetime
    updated_at: datetime


class RedemptionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reward_id": "95a80b20-ac01-4bb4-9810-7dc21d46098b"}]},
    )

    reward_id: uuid.UUID


class HandOver(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"code": "K7Q4MX2P"}]}
    )

    code: str = Field(min_length=4, max_length=12, description="The code the buyer shows")


class RedemptionCancel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "不需要了"}]}
    )

    reason: str | None = Field(None, max_length=500)


class BuyerRef(BaseModel):
    id: uuid.UUID
    display_name: str


class RedemptionRead(BaseModel):
    id: uuid.UUID
    code: str | None = Field(
        description="The code to show at the shop: for the buyer only (null for the shop)",
        examples=["K7Q4MX2P"],
    )
    status: RedemptionStatus
    points: int = Field(description="What it cost")
    reward: Ref
    community: Ref | None
    company: Ref | None
    buyer: BuyerRef
    created_at: datetime
    handed_over_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    balance: int | None = Field(
        None, description="The buyer's balance after this change (in the buyer's answers)"
    )
