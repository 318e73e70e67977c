"""A photo as the API shows it: its display and thumbnail URLs, its size, and what its EXIF
says where the caller may see that."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import UploadFile
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


class UploadExif(BaseModel):
    lat: float | None = Field(description="WGS-84, from the photo's EXIF or as the phone sent it")
    lng: float | None
    taken_at: datetime | None


class UploadRead(BaseModel):
    """A photo uploaded ahead of its report: claim it with its id in ``photo_ids``."""

    id: uuid.UUID = Field(description="Send it in `photo_ids`; the photo keeps this id")
    thumbnail_url: str = Field(
        description="A signed link to the thumbnail: opens in an <img> without a bearer token"
    )
    display_url: str = Field(description="A signed link to the display size")
    content_type: str = Field(examples=["image/jpeg"])
    width: int
    height: int
    size_bytes: int = Field(description="The size of the file as it was sent")
    exif: UploadExif = Field(
        description="Where and when it was taken, if the photo (or the phone) said: offer "
        "“use the photo's location”"
    )
    expires_at: datetime = Field(description="Unclaimed by then, it is removed")


# A form's photos, or the ids of photos uploaded first (POST /uploads): the fields of every
# body that brings photos (a report, a unit's progress and completion, a resolution, a check).
FormPhotos = Annotated[
    list[UploadFile],
    Field(default_factory=list, description="Images: JPEG, PNG, WebP, HEIC; at most 9"),
]
PhotoIds = Annotated[
    list[uuid.UUID],
    Field(
        default_factory=list,
        max_length=100,
        description="Or the ids of photos uploaded first (POST /uploads), not both; at most 9",
    ),
]
