from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Header, Query, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import OptionalPrincipal, UserPrincipal
from app.auth.principal import Principal
from app.auth.scope import report_scope
from app.core.config import Settings
from app.core.deps import ClockDep, SessionDep, SettingsDep
from app.core.errors import (
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    ValidationFailed,
    error_responses,
)
from app.core.params import PhotoId
from app.core.storage import StoredPhotoNotFound
from app.models import Photo, Picture, Report, Upload
from app.models.enums import Role
from app.photos import pending
from app.photos.deps import PhotoServicesDep, PhotoStorageDep
from app.photos.exceptions import PhotosRejected
from app.photos.links import PhotoSigner, PhotoSize
from app.photos.schemas import UploadRead
from app.photos.uploads import read_uploads

router = APIRouter(tags=["photos"])

# Who uploads photos ahead: whoever files, works on or checks cases — not a dashboard viewer.
PHOTOGRAPHING_ROLES = tuple(role for role in Role if role is not Role.viewer)


def _signer(settings: Settings) -> PhotoSigner:
    return PhotoSigner.of(settings.secret_key, settings.photo_link_minutes)


# Stored photos never change (a new photo gets a new id), so clients may cache them for long;
# "private" because they are for the signed-in caller only, never a shared cache.
CACHE_CONTROL = "private, max-age=31536000, immutable"


@router.get(
    "/photos/{photo_id}",
    response_class=Response,
    summary="The image bytes (display size, or `?size=thumbnail`) of a report the caller may see",
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The image"},
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
        **error_responses(Unauthorized, Forbidden, NotFound),
    },
)
async def read_photo(
    photo_id: PhotoId,
    principal: OptionalPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    storage: PhotoStorageDep,
    size: Annotated[PhotoSize, Query()] = "display",
    expires: Annotated[
        int | None, Query(description="With `signature`: a signed link's expiry (unix seconds)")
    ] = None,
    signature: Annotated[
        str | None,
        Query(max_length=64, description="A signed link's signature: no bearer token needed"),
    ] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    signed = signature is not None or expires is not None
    if signed:
        if not (
            signature is not None
            and expires is not None
            and _signer(settings).is_valid(photo_id, size, expires, signature, clock.now())
        ):
            raise Forbidden("The photo link is not valid or has expired")
        visible: ColumnElement[bool] = true()
    elif principal is None:
        raise Unauthorized("Sign in first: send `Authorization: Bearer <token>`")
    else:
        visible = report_scope(principal)
    photo: Photo | Upload | Picture | None = await session.scalar(
        select(Photo)
        .join(Report, Photo.report_id == Report.id)
        .where(Photo.id == photo_id, visible)
    )
    if photo is None:
        # An upload still waiting for its report: its uploader's, or by a signed link.
        uploader = (
            true() if principal is None or signature else Upload.uploader_id == principal.user_id
        )
        photo = await session.scalar(
            select(Upload).where(Upload.id == photo_id, Upload.expires_at > clock.now(), uploader)
        )
    if photo is None:
        photo = await _picture(session, photo_id, principal, signed=signature is not None)
    if photo is None:
        raise NotFound("No such photo")
    tag = f'"{photo.sha256[:16]}-{size}"'
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL}
    if if_none_match is not None and tag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    key = photo.thumbnail_key if size == "thumbnail" else photo.display_key
    try:
        data = await storage.get(key)
    except StoredPhotoNotFound as exc:
        raise NotFound("The photo's file is missing from storage") from exc
    return Response(data, media_type=photo.content_type, headers=headers)


async def _picture(
    session: AsyncSession, picture_id: uuid.UUID, principal: Principal | None, signed: bool
) -> Picture | None:
    """A reward's or a wish's picture: by a signed link (handed out only with what it shows,
    to those who may see it), or with a bearer token by the person who uploaded it."""
    if signed:
        readable: ColumnElement[bool] = true()
    elif principal is None or principal.user_id is None:
        return None
    else:
        readable = Picture.uploader_id == principal.user_id
    picture: Picture | None = await session.scalar(
        select(Picture).where(Picture.id == picture_id, readable)
    )
    return picture


class UploadPhotoForm(BaseModel):
    """One photo, as ``wx.uploadFile`` sends it: the file and a few fields."""

    file: UploadFile = Field(description="One image: JPEG, PNG, WebP, HEIC")
    taken_lat: float | None = Field(
        None,
        ge=-90,
        le=90,
        allow_inf_nan=False,
        description="WGS-84: where the original was taken, as the phone read its EXIF (for a "
        "photo the phone made smaller, which carries no EXIF). The file's own EXIF wins.",
    )
    taken_lng: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    taken_at: datetime | None = Field(None, description="When the original was taken (RFC 3339)")


@router.post(
    "/uploads",
    response_model=UploadRead,
    status_code=201,
    summary="Upload one photo ahead of its report; claim it with its id in `photo_ids`",
    description=(
        "Multipart, one file in `file` (as a mini-program's `wx.uploadFile` sends it). Checked "
        "and processed as a report's photos are. Send `Idempotency-Key`: a retry after a "
        "timeout is answered with the same upload. Unclaimed uploads expire "
        "(`SSP_UPLOAD_EXPIRY_HOURS`, 24 h) and are removed; a person may have "
        "`SSP_MAX_PENDING_UPLOADS` waiting (429 beyond)."
    ),
    responses=error_responses(
        Unauthorized, Forbidden, ValidationFailed, PhotosRejected, PayloadTooLarge, RateLimited
    ),
)
async def upload_photo(
    principal: UserPrincipal,
    session: SessionDep,
    services: PhotoServicesDep,
    clock: ClockDep,
    form: Annotated[UploadPhotoForm, Form(media_type="multipart/form-data")],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    assert principal.user_id is not None
    if not principal.has_any(*PHOTOGRAPHING_ROLES):
        raise Forbidden("Your role does not take photos for cases")
    if form.taken_at is not None and form.taken_at.tzinfo is None:
        raise ValidationFailed.at(["body", "taken_at"], "give a time zone (RFC 3339)")
    now = clock.now()
    (photo,) = await read_uploads([form.file])
    answer = await pending.upload_photo(
        session,
        services,
        principal.user_id,
        photo,
        pending.TakenWhere(form.taken_lat, form.taken_lng, form.taken_at),
        idempotency_key,
        now,
    )
    body = dict(answer.body)
    photo_id = uuid.UUID(body["id"])
    signer = _signer(services.settings)
    body["thumbnail_url"] = signer.path(photo_id, "thumbnail", now)
    body["display_url"] = signer.path(photo_id, "display", now)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    return JSONResponse(UploadRead(**body).model_dump(mode="json"), 201, headers=headers)
