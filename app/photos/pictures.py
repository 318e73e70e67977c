"""Pictures: photos of things other than reports (a reward on a shop's shelf, a resident's wish
and its fulfilment). Sent first to ``POST /api/v1/uploads`` like any photo, then claimed by id;
the upload's row becomes a picture row under the same id, its files staying where they are."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Picture
from app.photos.links import photo_url
from app.photos.pending import claim_uploads

PictureKind = Literal["reward", "wish", "wish_fulfilment"]


class PictureLinks(BaseModel):
    """Where to read a picture: signed links, valid for ``SSP_PHOTO_LINK_MINUTES``."""

    id: uuid.UUID
    thumbnail_url: str = Field(examples=["/api/v1/photos/…?size=thumbnail&expires=…"])
    display_url: str


def picture_links(picture_id: uuid.UUID | None, now: datetime) -> PictureLinks | None:
    if picture_id is None:
        return None
    return PictureLinks(
        id=picture_id,
        thumbnail_url=photo_url(picture_id, "thumbnail", now),
        display_url=photo_url(picture_id, "display", now),
    )


async def claim_picture(
    session: AsyncSession,
    uploader_id: uuid.UUID,
    upload_id: uuid.UUID,
    kind: PictureKind,
    now: datetime,
    loc: str = "photo_id",
) -> Picture:
    """Take the caller's upload as a picture of ``kind`` (422 naming ``loc`` when it is not
    the caller's, used or expired; nothing taken)."""
    (stored,) = await claim_uploads(session, uploader_id, [upload_id], now, loc)
    picture = Picture(
        id=stored.photo_id,
        kind=kind,
        uploader_id=uploader_id,
        created_at=now,
        **{name: getattr(stored, name) for name in stored.stored_fields()},
    )
    session.add(picture)
    await session.flush()
    return picture
