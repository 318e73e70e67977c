"""Uploads: photos sent one per request before the report (or job completion, or check) that
claims them by id. ``POST /api/v1/uploads`` processes and stores the photo as intake does and
keeps a row for it; a claim turns the rows into photos of the claimant, all or none, in the
claimant's transaction; the worker removes what nobody claimed in time, rows and files.

A claim deletes the upload rows it takes (``DELETE … RETURNING``): two reports claiming one
upload at once cannot both get it — the second waits for the first's row lock and then finds
nothing — and a claimant whose transaction rolls back gives the rows back untouched, claimable
again. The files never move: a photo row takes over the upload's keys and its id."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import idempotency
from app.core.config import Settings
from app.core.errors import FieldError, RateLimited, ValidationFailed
from app.core.storage import PhotoStorage
from app.models import Upload
from app.photos.exceptions import PhotosRejected
from app.photos.exif import GpsPosition
from app.photos.uploads import (
    PhotoFile,
    PhotoServices,
    UploadedPhoto,
    kept_if_committed,
    process_and_store,
    read_uploads,
    remove_objects,
    too_large,
    with_digests,
)

log = logging.getLogger("app.photos.pending")

# The expiry sweep's batch: rows deleted (and their files removed) per transaction.
EXPIRY_BATCH = 200


@dataclass(frozen=True)
class TakenWhere:
    """Where and when the phone says the original was taken (a photo it made smaller before
    sending carries no EXIF of its own)."""

    lat: float | None = None
    lng: float | None = None
    taken_at: datetime | None = None


def upload_file(upload: Upload) -> PhotoFile:
    return PhotoFile(
        photo_id=upload.id, **{name: getattr(upload, name) for name in PhotoFile.stored_fields()}
    )


# First key of the PostgreSQL advisory lock that serialises one person's uploads while the
# cap is counted; the second comes from the person's id.
UPLOADS_LOCK_NAMESPACE = 0x55_50_4C_44  # "UPLD"


async def _check_room(
    session: AsyncSession,
    settings: Settings,
    uploader_id: uuid.UUID,
    now: datetime,
    *,
    locked: bool,
) -> None:
    """A caller's unclaimed uploads are capped: storage is not a place to park photos. Counted
    once before the photo work (to spare it when the cap is reached) and again, ``locked``,
    just before the row is written: under a lock of the caller's own until the upload commits,
    so that uploads sent at once cannot all pass the count (SQLite's one writer serialises
    them anyway), held for the insert only, never through the photo work."""
    if locked and session.get_bind().dialect.name == "postgresql":
        # The id's last bytes: random in every kind of id (a UUIDv7 begins with its time).
        key = int.from_bytes(uploader_id.bytes[-4:], "big", signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(UPLOADS_LOCK_NAMESPACE, key)))
    waiting, oldest = (
        await session.execute(
            select(func.count(), func.min(Upload.expires_at)).where(
                Upload.uploader_id == uploader_id, Upload.expires_at > now
            )
        )
    ).one()
    if waiting >= settings.max_pending_uploads:
        wait = int((oldest - now).total_seconds()) if oldest is not None else 60
        raise RateLimited(
            f"You have {waiting} photos waiting for a report; file or let them expire first",
            retry_after_seconds=wait,
        )


async def store_upload(
    session: AsyncSession,
    services: PhotoServices,
    uploader_id: uuid.UUID,
    photo: UploadedPhoto,
    taken: TakenWhere,
    now: datetime,
) -> Upload:
    """The photo checked, converted and stored, and its row written (committed with the
    request; the files are removed again if it is not)."""
    await _check_room(session, services.settings, uploader_id, now, locked=False)
    try:
        (stored,) = await process_and_store([photo], services, now)
    except PhotosRejected as exc:
        # Named as the upload's form names it: its one file.
        exc.errors = [e.model_copy(update={"loc": ["body", "file"]}) for e in exc.errors or []]
        raise
    async with kept_if_committed(session, services.storage, [stored]):
        await _check_room(session, services.settings, uploader_id, now, locked=True)
        file = stored.file
        gps = stored.processed.gps or _client_gps(taken)
        facts = {name: getattr(file, name) for name in PhotoFile.stored_fields()}
        # Where and when: the file's EXIF, else what the phone read from the original.
        facts["exif_lat"] = gps.lat if gps else None
        facts["exif_lng"] = gps.lng if gps else None
        facts["exif_taken_at"] = stored.processed.taken_at or taken.taken_at
        upload = Upload(
            id=file.photo_id,
            uploader_id=uploader_id,
            **facts,
            created_at=now,
            expires_at=now + timedelta(hours=services.settings.upload_expiry_hours),
        )
        session.add(upload)
        await session.flush()
    return upload


def _client_gps(taken: TakenWhere) -> GpsPosition | None:
    if taken.lat is None or taken.lng is None:
        return None
    return GpsPosition(taken.lat, taken.lng)


async def why_not_claimable(
    session: AsyncSession, upload_id: uuid.UUID, uploader_id: uuid.UUID, now: datetime
) -> str:
    row = (
        await session.execute(
            select(Upload.uploader_id, Upload.expires_at).where(Upload.id == upload_id)
        )
    ).one_or_none()
    if row is None:
        return f"upload {upload_id} does not exist or is already used"
    if row.uploader_id != uploader_id:
        return f"upload {upload_id} is not one of yours"
    return f"upload {upload_id} has expired; send the photo again"


async def claim_uploads(
    session: AsyncSession,
    uploader_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    now: datetime,
    loc: str = "photo_ids",
) -> list[PhotoFile]:
    """The caller's unused, unexpired uploads of ``ids``, taken (in the order given) in the
    caller's transaction; 422 naming the first id that is not claimable, and nothing taken."""
    if not ids:
        return []
    taken = {
        upload.id: upload
        for upload in (
            await session.scalars(
                delete(Upload)
                .where(
                    Upload.id.in_(list(ids)),
                    Upload.uploader_id == uploader_id,
                    Upload.expires_at > now,
                )
                .returning(Upload)
                .execution_options(synchronize_session=False)
            )
        ).all()
    }
    errors = [
        FieldError(
            loc=["body", loc, index],
            msg=await why_not_claimable(session, upload_id, uploader_id, now),
        )
        for index, upload_id in enumerate(ids)
        if upload_id not in taken
    ]
    if errors:
        # Raised inside the caller's transaction, which is rolled back: nothing was taken.
        raise ValidationFailed("; ".join(e.msg for e in errors), errors=errors)
    return [upload_file(taken[upload_id]) for upload_id in ids]


async def expire_uploads(
    sessionmaker: async_sessionmaker[AsyncSession], storage: PhotoStorage, now: datetime
) -> int:
    """Remove the uploads nobody claimed before they expired: rows in short transactions, then
    their files (a file that cannot be removed is left to ``gc-photos``)."""
    removed = 0
    while True:
        async with sessionmaker() as session, session.begin():
            gone: list[Any] = list(
                (
                    await session.execute(
                        delete(Upload)
                        .where(
                            Upload.id.in_(
                                select(Upload.id)
                                .where(Upload.expires_at <= now)
                                .limit(EXPIRY_BATCH)
                                .scalar_subquery()
                            )
                        )
                        .returning(Upload.display_key, Upload.thumbnail_key, Upload.original_key)
                        .execution_options(synchronize_session=False)
                    )
                ).all()
            )
        keys = [key for row in gone for key in row if key]
        await remove_objects(storage, keys)
        removed += len(gone)
        if len(gone) < EXPIRY_BATCH:
            return removed


IDEMPOTENCY_SCOPE = "POST /api/v1/uploads"


@dataclass(frozen=True)
class UploadAnswer:
    """An upload's facts as stored for retries (links are signed when answering, so that a
    replay never hands out an expired one)."""

    body: dict[str, Any]
    replayed: bool


def _facts(upload: Upload) -> dict[str, Any]:
    return {
        "id": str(upload.id),
        "content_type": upload.content_type,
        "width": upload.width,
        "height": upload.height,
        "size_bytes": upload.size_bytes,
        "exif": {
            "lat": upload.exif_lat,
            "lng": upload.exif_lng,
            "taken_at": upload.exif_taken_at.isoformat() if upload.exif_taken_at else None,
        },
        "expires_at": upload.expires_at.isoformat(),
    }


async def upload_photo(
    session: AsyncSession,
    services: PhotoServices,
    uploader_id: uuid.UUID,
    photo: UploadedPhoto,
    taken: TakenWhere,
    idempotency_key: str | None,
    now: datetime,
) -> UploadAnswer:
    """``POST /uploads``: with an ``Idempotency-Key``, a retry after a timeout gets the first
    answer and stores nothing again."""
    key = idempotency.validate_key(idempotency_key)
    fingerprint = ""
    if key:
        (photo,) = await asyncio.to_thread(with_digests, [photo])
        fingerprint = idempotency.request_fingerprint(
            {
                "sha256": photo.sha256,
                "taken": [
                    taken.lat,
                    taken.lng,
                    taken.taken_at.isoformat() if taken.taken_at else None,
                ],
            }
        )
        replay = await idempotency.find(session, uploader_id, key, IDEMPOTENCY_SCOPE, fingerprint)
        if replay is not None:
            return UploadAnswer(replay.body, replayed=True)
    upload = await store_upload(session, services, uploader_id, photo, taken, now)
    body = _facts(upload)
    if key and not await idempotency.save(
        session, uploader_id, key, IDEMPOTENCY_SCOPE, fingerprint, 201, body
    ):
        # A twin committed first: ours is undone, and its files removed.
        await session.rollback()
        await remove_objects(
            services.storage,
            [k for k in (upload.display_key, upload.thumbnail_key, upload.original_key) if k],
        )
        replay = await idempotency.winner(session, uploader_id, key, IDEMPOTENCY_SCOPE, fingerprint)
        return UploadAnswer(replay.body, replayed=True)
    return UploadAnswer(body, replayed=False)


@dataclass(frozen=True)
class PhotosSent:
    """The photos of a request: files sent along, or the ids of uploads sent first."""

    files: Sequence[UploadedPhoto] = ()
    upload_ids: Sequence[uuid.UUID] = ()

    def check(self, settings: Settings, *, at_least_one: bool) -> list[FieldError]:
        """One way or the other, not both; within the limit; each upload once."""
        most = settings.max_photos_per_report
        fewest = 1 if at_least_one else 0
        where = "photo_ids" if self.upload_ids else "photos"
        count = len(self.files) + len(self.upload_ids)
        if self.files and self.upload_ids:
            return [FieldError(loc=["body", "photo_ids"], msg="send photos or photo_ids, not both")]
        if not fewest <= count <= most:
            return [
                FieldError(loc=["body", where], msg=f"send {fewest} to {most} photos, not {count}")
            ]
        seen: set[uuid.UUID] = set()
        for index, upload_id in enumerate(self.upload_ids):
            if upload_id in seen:
                return [
                    FieldError(
                        loc=["body", "photo_ids", index], msg=f"upload {upload_id} is listed twice"
                    )
                ]
            seen.add(upload_id)
        return too_large(self.files, settings)


def require_photos(sent: PhotosSent, settings: Settings, *, at_least_one: bool) -> None:
    """422 with every fault of ``sent`` (see ``PhotosSent.check``)."""
    errors = sent.check(settings, at_least_one=at_least_one)
    if errors:
        raise ValidationFailed("; ".join(e.msg for e in errors), errors=errors)


@asynccontextmanager
async def photos_in_hand(
    session: AsyncSession,
    services: PhotoServices,
    owner_id: uuid.UUID,
    sent: PhotosSent,
    now: datetime,
) -> AsyncIterator[list[PhotoFile]]:
    """The photos of a request as files in storage, whichever way they came: those sent along
    are checked, converted and stored (outside any lock: the caller's block takes its locks),
    and removed again unless the block succeeds and commits; uploads are claimed in the
    caller's transaction, and given back by its rollback. From here on one path."""
    stored = await process_and_store(sent.files, services, now) if sent.files else []
    async with kept_if_committed(session, services.storage, stored):
        claimed = (
            await claim_uploads(session, owner_id, sent.upload_ids, now) if sent.upload_ids else []
        )
        yield [photo.file for photo in stored] + claimed


async def sent_photos(body: BaseModel) -> PhotosSent:
    """The photos of a body read as a form (its ``photos`` files) or as JSON (its
    ``photo_ids``)."""
    files = await read_uploads(getattr(body, "photos", None) or [])
    return PhotosSent(files, getattr(body, "photo_ids", None) or [])
