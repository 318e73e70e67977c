"""Bodies every organisation sub-package shares: references to related rows, a point, the
limits of names and phone numbers.

In PATCH bodies a field left out keeps its value and ``null`` clears it; fields the row cannot
do without (a name, a kind, a region) refuse ``null`` (with ``refuse_null``) instead of failing
in the database.

``Ref`` and ``LatLng`` are the ones of app.core.schemas, named here for the sub-packages; a
person is a ``UserRef`` (the reports' ``PersonRef`` also carries a phone)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import LatLng as LatLng
from app.core.schemas import Ref as Ref

NAME_MAX = 100
PHONE_PATTERN = r"^\+?[0-9\-]{5,40}$"
# What the columns hold: the pattern alone let a "+" and 40 digits through, which PostgreSQL
# refused with a 500 (SQLite stored it).
PHONE_MAX_LENGTH = 40


def refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("cannot be null; leave the field out to keep its value")
    return value


class UserRef(BaseModel):
    """A person by id and display name."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    display_name: str = Field(examples=["孙浩"])
