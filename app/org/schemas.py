"""Request and response bodies of the organisation endpoints.

In PATCH bodies a field left out keeps its value and ``null`` clears it; fields the row cannot
do without (a name, a kind, a region) refuse ``null`` instead of failing in the database."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models.enums import CheckInStatus, CommunityKind, RegionLevel, UnitKind

NAME_MAX = 100
PHONE_PATTERN = r"^\+?[0-9\-]{5,40}$"
# What the columns hold: the pattern alone let a "+" and 40 digits through, which PostgreSQL
# refused with a 500 (SQLite stored it).
PHONE_MAX_LENGTH = 40

BOUNDARY_EXAMPLE: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [
            [107.147, 40.839],
            [107.161, 40.839],
            [107.161, 40.850],
            [107.147, 40.850],
            [107.147, 40.839],
        ]
    ],
}
BOUNDARY_DESCRIPTION = (
    "A GeoJSON Polygon or MultiPolygon in WGS-84, positions as [longitude, latitude]; "
    "rings closed, no self-intersections"
)


def refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("cannot be null; leave the field out to keep its value")
    return value


class Ref(BaseModel):
    """A related row by id and name."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str = Field(examples=["东街社区"])


class PersonRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    display_name: str = Field(examples=["孙浩"])


class LatLng(BaseModel):
    lat: float = Field(ge=-90, le=90, description="Latitude, WGS-84", examples=[40.8445])
    lng: float = Field(ge=-180, le=180, description="Longitude, WGS-84", examples=[107.154])


# --- regions -----------------------------------------------------------------------------


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

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    code: str | None = Field(None, pattern=r"^[0-9A-Za-z]{1,20}$")

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, value: Any) -> Any:
        return refuse_null(value)


# --- communities and grids ---------------------------------------------------------------


class CommunityRead(BaseModel):
    id: uuid.UUID
    name: str = Field(examples=["东街社区"])
    kind: CommunityKind = Field(description="community (社区) or village (村/嘎查)")
    region: Ref = Field(description="The township or subdistrict it belongs to")
    address: str | None = Field(None, examples=["陕坝镇东街平房区12号"])
    phone: str | None = Field(None, examples=["0478-6617708"])
    center: LatLng | None = Field(
        description="A representative point inside it (WGS-84); null if neither a boundary "
        "nor a centre was given"
    )
    has_boundary: bool = Field(description="Whether a boundary polygon has been drawn")


class GridRead(BaseModel):
    id: uuid.UUID
    community_id: uuid.UUID
    name: str = Field(examples=["第一网格"])
    boundary: dict[str, Any] | None = Field(description=BOUNDARY_DESCRIPTION)


class PairedUnitRead(BaseModel):
    pairing_id: uuid.UUID
    unit: Ref
    category_codes: list[str] | None = Field(
        description="The categories this pairing covers; null means every category"
    )


class CommunityDetail(CommunityRead):
    boundary: dict[str, Any] | None = Field(
        description=BOUNDARY_DESCRIPTION, examples=[BOUNDARY_EXAMPLE]
    )
    grids: list[GridRead]
    paired_units: list[PairedUnitRead]


class CommunityCreate(BaseModel):
    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["东街社区"])
    region_id: uuid.UUID = Field(description="The township (苏木镇/街道) it belongs to")
    kind: CommunityKind = CommunityKind.community
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(
        None, pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH, examples=["0478-6617708"]
    )
    boundary: dict[str, Any] | None = Field(
        None, description=BOUNDARY_DESCRIPTION, examples=[BOUNDARY_EXAMPLE]
    )
    center: LatLng | None = Field(
        None,
        description="A representative point; computed from the boundary when left out. Give "
        "it for a community without a boundary so that reports near it still reach it.",
    )


class CommunityUpdate(BaseModel):
    """A new boundary recomputes the centre unless a centre is sent too."""

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    region_id: uuid.UUID | None = None
    kind: CommunityKind | None = None
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH)
    boundary: dict[str, Any] | None = Field(None, description=BOUNDARY_DESCRIPTION)
    center: LatLng | None = None

    @field_validator("name", "region_id", "kind")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return refuse_null(value)


class GridCreate(BaseModel):
    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["第三网格"])
    boundary: dict[str, Any] | None = Field(
        None,
        description=BOUNDARY_DESCRIPTION + "; must lie within the community's boundary",
    )


class GridUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    boundary: dict[str, Any] | None = Field(None, description=BOUNDARY_DESCRIPTION)

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, value: Any) -> Any:
        return refuse_null(value)


class LocateRead(BaseModel):
    """Which community (and grid) a point belongs to, by the rule reports are routed with."""

    community: Ref | None = Field(description="null when no community is near enough")
    grid: Ref | None = Field(
        description="The grid of that community covering (or nearest to) the point"
    )
    method: Literal["boundary", "nearest"] | None = Field(
        description="boundary: inside the community's boundary; nearest: outside every "
        "boundary, but within the routing distance of this community; null: no community"
    )
    distance_m: float | None = Field(
        description="Metres from the point to the community (0 inside its boundary)"
    )
    location: LatLng = Field(description="The point converted to WGS-84")


class CommunityImport(BaseModel):
    """A GeoJSON FeatureCollection with one Feature per community. Each Feature has a Polygon
    or MultiPolygon `geometry` and `properties`: `name` (required); one of `region_id`,
    `region_code`, `region_name` (the first one present is used; the region must be a
    township); optional `kind` (community or village), `address`, `phone`."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]] = Field(
        examples=[
            [
                {
                    "type": "Feature",
                    "properties": {"name": "东街社区", "region_code": "150826100"},
                    "geometry": BOUNDARY_EXAMPLE,
                }
            ]
        ]
    )


class ImportResult(BaseModel):
    created: int = Field(description="Communities that did not exist")
    updated: int = Field(
        description="Communities that existed (same name in the same region): their boundary "
        "and the properties given were replaced"
    )
    communities: list[Ref] = Field(description="Every community of the file, in file order")


# --- units and pairings ------------------------------------------------------------------


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


# --- courier companies, branches, check-ins ----------------------------------------------


class CourierCompanyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str = Field(examples=["顺丰速运"])
    short_name: str | None = Field(None, examples=["顺丰"])


class CourierCompanyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["顺丰速运"])
    short_name: str | None = Field(None, max_length=40, examples=["顺丰"])


class CourierCompanyUpdate(BaseModel):
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
    company_id: uuid.UUID
    name: str = Field(min_length=1, max_length=NAME_MAX, description="Unique within the company")
    region_id: uuid.UUID | None = None
    address: str | None = Field(None, max_length=200)


class CourierBranchUpdate(BaseModel):
    """A branch stays with its company; to move couriers to another company, create a branch
    there."""

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    region_id: uuid.UUID | None = None
    address: str | None = Field(None, max_length=200)

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, value: Any) -> Any:
        return refuse_null(value)


class CheckInRead(BaseModel):
    id: uuid.UUID
    status: CheckInStatus
    courier: PersonRef
    community: Ref
    branch: Ref | None = Field(description="The branch the courier delivers for")
    note: str | None = Field(None, examples=["负责东街社区片区投递"])
    requested_at: datetime
    decided_at: datetime | None = None
    decided_by: PersonRef | None = None
    decision_reason: str | None = Field(
        None, description="The staff's note on approval, or the reason for a rejection"
    )


class CheckInCreate(BaseModel):
    branch_id: uuid.UUID | None = Field(
        None,
        description="One of the caller's branches; left out: the branch of the caller's "
        "courier role (required if they work for several)",
    )
    note: str | None = Field(None, max_length=500, examples=["负责东街社区片区投递"])


class CheckInApprove(BaseModel):
    note: str | None = Field(None, max_length=500, examples=["欢迎加入移动哨兵"])


class CheckInReject(BaseModel):
    reason: str = Field(min_length=1, max_length=500, examples=["不在本社区投递范围"])
