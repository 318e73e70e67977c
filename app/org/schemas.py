"""Bodies every organisation sub-package shares: references to related rows, a point, the
limits of names and phone numbers.

In PATCH bodies a field left out keeps its value and ``null`` clears it; fields the row cannot
do without (a name, a kind, a region) refuse ``null`` (with ``refuse_null``) instead of failing
in the database.

``Ref``, ``PersonRef`` and ``LatLng`` stay in this module: app.reports has models of the same
names, so the OpenAPI document names these after their module (``app__org__schemas__Ref``)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

NAME_MAX = 100
PHONE_PATTERN = r"^\+?[0-9\-]{5,40}$"
# What the columns hold: the pattern alone let a "+" and 40 digits through, which PostgreSQL
# refused with a 500 (SQLite stored it).
PHONE_MAX_LENGTH = 40


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
