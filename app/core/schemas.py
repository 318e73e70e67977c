"""Small schemas shared by every domain. Each has one name in the OpenAPI document: a domain
that needs another shape under the same idea names it differently (``UserRef`` for a person
without a phone, beside the reports' ``PersonRef``)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class Ref(BaseModel):
    """A reference to a named thing: a community, a grid, a unit, a region."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str = Field(examples=["东街社区"])


class LatLng(BaseModel):
    """A point, WGS-84."""

    lat: float = Field(ge=-90, le=90, description="Latitude, WGS-84", examples=[40.8445])
    lng: float = Field(ge=-180, le=180, description="Longitude, WGS-84", examples=[107.154])
