"""Photos uploaded ahead of the report, job completion or check that will carry them: one photo
per request, as a mini-program's ``wx.uploadFile`` sends it. An upload is processed and stored
like any photo; a report claims it by id, and its row then becomes that report's photo row under
the same id (the files stay where they are). Unclaimed uploads expire and are removed with their
files by the worker."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UUIDPrimaryKey, utcnow
from app.models.reports import StoredFileColumns


class Upload(StoredFileColumns, UUIDPrimaryKey, Base):
    __tablename__ = "uploads"
    __table_args__ = (
        # A caller's uploads waiting (their count is capped), and the expiry sweep.
        Index("ix_uploads_uploader_expires", "uploader_id", "expires_at"),
        Index("ix_uploads_expires", "expires_at"),
    )

    uploader_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # (Its EXIF position and time are the file's, or, for a photo the phone made smaller and
    # so without EXIF, as the phone read them from the original.)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Picture(StoredFileColumns, UUIDPrimaryKey, Base):
    """A photo that belongs to something other than a report: a reward's picture, a wish's
    photo or its fulfilment photo. Made from an upload (``POST /api/v1/uploads``), under the
    same id; read at ``/api/v1/photos/{id}`` by a signed link handed out with what it shows."""

    __tablename__ = "pictures"

    sha256: Mapped[str] = mapped_column(String(64))
    # "reward", "wish", "wish_fulfilment": what it shows, for the reader and the cleaner.
    kind: Mapped[str] = mapped_column(String(20))
    uploader_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
