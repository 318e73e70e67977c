"""A photo as the API shows it: its display and thumbnail URLs, its size, and what its EXIF
says where the caller may see that."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.core.schemas import LatLng
from app.models.enums import PhotoKind


class PhotoRead(BaseModel):
    id: uuid.UUID
    kind: PhotoKind
    url: str
    thumbnail_url: str
    width: int
    height: int
    thumbnail_width: int
    thumbnail_height: int
    flags: list[str] = Field(
        description="Doubts about the photo: exif_far_from_report, taken_long_before_submission"
    )
    exif_location: LatLng | None = Field(
        None,
        description="The GPS position in the photo's EXIF. Null when the photo had none, and "
        "for everyone but the case's community staff and grid workers, admins and whoever "
        "took the photo (the reporter, for the report's photos)",
    )
    exif_taken_at: datetime | None = Field(
        None,
        description="When the photo was taken, from its EXIF. Null when the photo did not say, "
        "and for the same callers as `exif_location`",
    )
