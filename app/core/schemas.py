"""Small schemas shared by every domain."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class Ref(BaseModel):
    """A reference to a named thing: a community, a unit, a region."""

    id: uuid.UUID
    name: str
