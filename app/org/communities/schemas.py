"""Request and response bodies of the community, grid, locate and import endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import geojson_pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models.enums import CommunityKind
from app.org.schemas import NAME_MAX, PHONE_MAX_LENGTH, PHONE_PATTERN, LatLng, Ref, refuse_null

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

# The models check the shape (the type, rings of four positions or more, closed, positions of
# two or three numbers), so that clients read it in the OpenAPI document and a mistake's 422
# points into the geometry; shapely then checks what a schema cannot say (coordinates in range,
# no self-intersection), see app/org/communities/boundaries.py. A ``bbox`` is accepted, not kept.
Boundary = Annotated[
    geojson_pydantic.Polygon | geojson_pydantic.MultiPolygon, Field(discriminator="type")
]


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


class OutlineProperties(BaseModel):
    id: uuid.UUID
    name: str
    region_id: uuid.UUID


class CommunityOutline(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: uuid.UUID
    geometry: Boundary
    properties: OutlineProperties


class CommunityOutlines(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[CommunityOutline]


class GridRead(BaseModel):
    id: uuid.UUID
    community_id: uuid.UUID
    name: str = Field(examples=["第一网格"])
    boundary: Boundary | None = Field(description=BOUNDARY_DESCRIPTION)


class PairedUnitRead(BaseModel):
    pairing_id: uuid.UUID
    unit: Ref
    category_codes: list[str] | None = Field(
        description="The categories this pairing covers; null means every category"
    )


class CommunityDetail(CommunityRead):
    boundary: Boundary | None = Field(description=BOUNDARY_DESCRIPTION, examples=[BOUNDARY_EXAMPLE])
    grids: list[GridRead]
    paired_units: list[PairedUnitRead]


class CommunityCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "东街社区",
                    "region_id": "9b2f6c1e-4a57-4d2b-8f0e-3c6a1d7e5b42",
                    "kind": "community",
                    "address": "陕坝镇东街 1 号",
                    "phone": "0478-6617708",
                    "boundary": BOUNDARY_EXAMPLE,
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["东街社区"])
    region_id: uuid.UUID = Field(description="The township (苏木镇/街道) it belongs to")
    kind: CommunityKind = CommunityKind.community
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(
        None, pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH, examples=["0478-6617708"]
    )
    boundary: Boundary | None = Field(
        None, description=BOUNDARY_DESCRIPTION, examples=[BOUNDARY_EXAMPLE]
    )
    center: LatLng | None = Field(
        None,
        description="A representative point; computed from the boundary when left out. Give "
        "it for a community without a boundary so that reports near it still reach it.",
    )


class CommunityUpdate(BaseModel):
    """A new boundary recomputes the centre unless a centre is sent too."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"phone": "0478-6617709", "center": {"lat": 40.8445, "lng": 107.154}}]
        }
    )

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    region_id: uuid.UUID | None = None
    kind: CommunityKind | None = None
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH)
    boundary: Boundary | None = Field(None, description=BOUNDARY_DESCRIPTION)
    center: LatLng | None = None

    @field_validator("name", "region_id", "kind")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return refuse_null(value)


class GridCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "第三网格",
                    "boundary": {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [107.148, 40.840],
                                [107.154, 40.840],
                                [107.154, 40.845],
                                [107.148, 40.845],
                                [107.148, 40.840],
                            ]
                        ],
                    },
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["第三网格"])
    boundary: Boundary | None = Field(
        None,
        description=BOUNDARY_DESCRIPTION + "; must lie within the community's boundary",
    )


class GridUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "第三网格（北片）"}]})

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    boundary: Boundary | None = Field(None, description=BOUNDARY_DESCRIPTION)

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"name": "东街社区", "region_code": "150826100"},
                            "geometry": BOUNDARY_EXAMPLE,
                        }
                    ],
                }
            ]
        }
    )

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
