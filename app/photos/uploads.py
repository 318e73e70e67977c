"""Photos sent with a request (a report, a resolution, a job's completion): checked and turned
into display and thumbnail images in the pool, uploaded to storage, and turned into rows.

The uploads happen before the database transaction that references them; a caller whose
transaction then fails calls ``remove_objects`` (and `gc-photos` collects what a crash left)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime

from fastapi import UploadFile
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import on_rollback
from app.core.errors import FieldError
from app.core.metrics import PHOTOS_REFUSED
from app.core.storage import PhotoStorage, photo_key
from app.core.workcalendar import CHINA_TZ
from app.models import Photo, Picture, Upload
from app.models.enums import PhotoKind
from app.models.ids import new_id
from app.photos.exceptions import PhotoRejected, PhotosRejected
from app.photos.pool import PhotoPool
from app.photos.processing import ProcessedPhoto

log = logging.getLogger("app.photos.uploads")


@dataclass(frozen=True)
class UploadedPhoto:
    filename: str | None
    data: bytes
    # The SHA-256 of ``data`` when a caller already needed it (see ``with_digests``): the photo
    # work then does not hash the megabytes again.
    sha256: str | None = None


def with_digests(uploads: Sequence[UploadedPhoto]) -> list[UploadedPhoto]:
    """The uploads with their SHA-256 filled in. CPU work on megabytes: call it off the event
    loop (``hashlib`` lets other threads run meanwhile)."""
    return [
        p if p.sha256 else replace(p, sha256=hashlib.sha256(p.data).hexdigest()) for p in uploads
    ]


@dataclass(frozen=True)
class PhotoServices:
    settings: Settings
    storage: PhotoStorage
    pool: PhotoPool


@dataclass(frozen=True)
class StoredKeys:
    photo_id: uuid.UUID
    display: str
    thumbnail: str
    original: str | None

    def all(self) -> list[str]:
        return [k for k in (self.display, self.thumbnail, self.original) if k]


@dataclass(frozen=True)
class PhotoFile:
    """A photo whose files are in storage, as a photo row records it: what a new photo row is
    made from, whether the photo came with the request or was uploaded ahead of it."""

    photo_id: uuid.UUID
    display_key: str
    thumbnail_key: str
    original_key: str | None
    content_type: str
    width: int
    height: int
    thumbnail_width: int
    thumbnail_height: int
    size_bytes: int
    sha256: str
    original_filename: str | None
    original_format: str
    exif_lat: float | None
    exif_lng: float | None
    exif_taken_at: datetime | None

    @staticmethod
    def stored_fields() -> tuple[str, ...]:
        """The fields a photo row and an upload row keep under the same names (all but the
        id, which each calls ``id``)."""
        return tuple(f.name for f in fields(PhotoFile) if f.name != "photo_id")


@dataclass(frozen=True)
class StoredPhoto:
    upload: UploadedPhoto
    processed: ProcessedPhoto
    keys: StoredKeys

    @property
    def file(self) -> PhotoFile:
        photo = self.processed
        return PhotoFile(
            photo_id=self.keys.photo_id,
            display_key=self.keys.display,
            thumbnail_key=self.keys.thumbnail,
            original_key=self.keys.original,
            content_type=photo.content_type,
            width=photo.display_width,
            height=photo.display_height,
            thumbnail_width=photo.thumb_width,
            thumbnail_height=photo.thumb_height,
            size_bytes=len(self.upload.data),
            sha256=photo.sha256,
            original_filename=safe_filename(self.upload.filename),
            original_format=photo.original_format,
            exif_lat=photo.gps.lat if photo.gps else None,
            exif_lng=photo.gps.lng if photo.gps else None,
            # In UTC, as every time is stored and answered (the EXIF's own offset is not kept).
            exif_taken_at=photo.taken_at.astimezone(UTC) if photo.taken_at else None,
        )


async def read_uploads(files: Sequence[UploadFile] | None) -> list[UploadedPhoto]:
    """The files of a multipart request, read whole (each is at most the per-photo limit; the
    request as a whole was cut off at its limit while it streamed in)."""
    return [UploadedPhoto(filename=f.filename, data=await f.read()) for f in files or []]


def safe_filename(name: str | None) -> str | None:
    """The last path component, printable, at most 200 characters; a name, never a path."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()[:200]
    return base or None


def too_large(uploads: Sequence[UploadedPhoto], settings: Settings) -> list[FieldError]:
    errors = [
        FieldError(
            loc=["body", "photos", index],
            msg=f"photo {index} ({safe_filename(photo.filename) or 'unnamed'}) is larger "
            f"than {settings.max_photo_bytes // (1024 * 1024)} MB",
        )
        for index, photo in enumerate(uploads)
        if len(photo.data) > settings.max_photo_bytes
    ]
    if errors:
        PHOTOS_REFUSED.labels("too_large").inc(len(errors))
    return errors


async def _process(
    uploads: Sequence[UploadedPhoto], services: PhotoServices
) -> list[ProcessedPhoto]:
    results = await asyncio.gather(
        *(
            services.pool.process(
                p.data,
                max_pixels=services.settings.max_photo_pixels,
                max_bytes=services.settings.max_photo_bytes,
                sha256=p.sha256,
            )
            for p in uploads
        ),
        return_exceptions=True,
    )
    errors = []
    for index, (photo, result) in enumerate(zip(uploads, results, strict=True)):
        if isinstance(result, PhotoRejected):
            PHOTOS_REFUSED.labels(result.reason_code).inc()  # refused now: nothing to commit
            name = safe_filename(photo.filename) or "unnamed"
            errors.append(
                FieldError(
                    loc=["body", "photos", index],
                    msg=f"photo {index} ({name}): {result.reason_code}: {result.message}",
                )
            )
        elif isinstance(result, BaseException):
            raise result
    if errors:
        raise PhotosRejected("; ".join(e.msg for e in errors), errors=errors)
    return [r for r in results if isinstance(r, ProcessedPhoto)]


async def process_and_store(
    uploads: Sequence[UploadedPhoto], services: PhotoServices, now: datetime
) -> list[StoredPhoto]:
    """Check and convert every photo (all refusals reported at once), then upload them all; if
    an upload fails, the ones that succeeded are removed again."""
    processed = await _process(uploads, services)
    keep_originals = services.settings.keep_original_photos
    day = now.astimezone(CHINA_TZ).date()
    stored: list[StoredPhoto] = []
    puts: list[tuple[str, bytes, str]] = []
    for upload, photo in zip(uploads, processed, strict=True):
        photo_id = new_id()
        keys = StoredKeys(
            photo_id=photo_id,
            display=photo_key("display", day, photo_id, photo.extension),
            thumbnail=photo_key("thumb", day, photo_id, photo.extension),
            original=photo_key("original", day, photo_id) if keep_originals else None,
        )
        stored.append(StoredPhoto(upload=upload, processed=photo, keys=keys))
        puts.append((keys.display, photo.display_bytes, photo.content_type))
        puts.append((keys.thumbnail, photo.thumb_bytes, photo.content_type))
        if keys.original:
            puts.append((keys.original, upload.data, "application/octet-stream"))
    results = await asyncio.gather(
        *(services.storage.put(key, data, content_type) for key, data, content_type in puts),
        return_exceptions=True,
    )
    failure = next((r for r in results if isinstance(r, BaseException)), None)
    if failure is not None:
        done = [key for (key, _, _), r in zip(puts, results, strict=True) if r is None]
        await remove_objects(services.storage, done)
        raise failure
    return stored


def stored_keys(stored: Sequence[StoredPhoto]) -> list[str]:
    return [key for photo in stored for key in photo.keys.all()]


async def remove_objects(storage: PhotoStorage, keys: Sequence[str]) -> None:
    results = await asyncio.gather(*(storage.delete(k) for k in keys), return_exceptions=True)
    for key, result in zip(keys, results, strict=True):
        if isinstance(result, BaseException):
            log.warning("could not remove photo object %s (gc-photos will): %s", key, result)


def _removed_if_rolled_back(
    session: AsyncSession, storage: PhotoStorage, stored: Sequence[StoredPhoto]
) -> None:
    """If the request's transaction does not commit, remove the files again. A commit whose
    outcome is unknown (the connection dropped after COMMIT was sent) may have succeeded, so
    only files that no committed photo row references are removed."""
    keys = stored_keys(stored)
    if not keys:
        return

    async def remove_unreferenced() -> None:
        async with AsyncSession(session.bind) as fresh:
            referenced = await referenced_keys(fresh, keys)
        await remove_objects(storage, [k for k in keys if k not in referenced])

    on_rollback(session, remove_unreferenced)


async def referenced_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """The keys a photo row, an upload waiting for its report, or a picture (of a reward or a
    wish) references. A key of the current layout is looked up in its kind's column only (its
    prefix says which); one of the earlier layout could be in any of them."""
    by_column: dict[str, list[str]] = {}
    for key in keys:
        kind = key.partition("/")[0]
        for column in _COLUMNS_OF_KIND.get(kind, _ALL_COLUMNS):
            by_column.setdefault(column, []).append(key)
    if not by_column:
        return set()
    found: set[str] = set()
    tables: tuple[type[Photo] | type[Upload] | type[Picture], ...] = (Photo, Upload, Picture)
    for table in tables:
        columns = {name: getattr(table, name) for name in by_column}
        rows = await session.execute(
            select(*columns.values()).where(
                or_(*(columns[name].in_(wanted) for name, wanted in by_column.items()))
            )
        )
        found |= {key for row in rows for key in row if key}
    # A row found through one column brings its other keys along: only those asked about count.
    return found & set(keys)


_ALL_COLUMNS = ("display_key", "thumbnail_key", "original_key")
_COLUMNS_OF_KIND: dict[str, tuple[str, ...]] = {
    "display": ("display_key",),
    "thumb": ("thumbnail_key",),
    "original": ("original_key",),
}


@asynccontextmanager
async def kept_if_committed(
    session: AsyncSession, storage: PhotoStorage, stored: Sequence[StoredPhoto]
) -> AsyncIterator[None]:
    """The one way a request keeps the photos it stored: only if the work that references them
    succeeds *and* its transaction commits. Fails inside the block: the files are removed at
    once. The commit fails later (after the endpoint returned): they are removed then, unless a
    committed row references them after all (see ``_removed_if_rolled_back``)."""
    _removed_if_rolled_back(session, storage, stored)
    try:
        yield
    except BaseException:
        await remove_objects(storage, stored_keys(stored))
        raise


def photo_row(
    file: PhotoFile,
    *,
    report_id: uuid.UUID,
    kind: PhotoKind,
    position: int,
    uploaded_by_id: uuid.UUID | None,
    now: datetime,
    event_id: uuid.UUID | None = None,
    flags: Sequence[str] = (),
) -> Photo:
    return Photo(
        id=file.photo_id,
        report_id=report_id,
        event_id=event_id,
        kind=kind,
        position=position,
        uploaded_by_id=uploaded_by_id,
        **{name: getattr(file, name) for name in PhotoFile.stored_fields()},
        flags=list(flags),
        created_at=now,
    )
