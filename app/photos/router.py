from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from sqlalchemy import ColumnElement, select, true

from app.auth.deps import OptionalPrincipal
from app.auth.scope import report_scope
from app.core.deps import ClockDep, SessionDep, SettingsDep
from app.core.errors import NotFound, Unauthorized, error_responses
from app.core.params import PhotoId
from app.core.storage import StoredPhotoNotFound
from app.models import Photo, Report
from app.photos.deps import PhotoStorageDep
from app.photos.links import PhotoSize, link_is_valid

router = APIRouter(tags=["photos"])

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
        **error_responses(Unauthorized, NotFound),
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
    if signature is not None or expires is not None:
        if not (
            signature is not None
            and expires is not None
            and link_is_valid(settings.secret_key, photo_id, size, expires, signature, clock.now())
        ):
            raise Unauthorized("The photo link is not valid or has expired")
        visible: ColumnElement[bool] = true()
    elif principal is None:
        raise Unauthorized("Sign in first: send `Authorization: Bearer <token>`")
    else:
        visible = report_scope(principal)
    photo = await session.scalar(
        select(Photo)
        .join(Report, Photo.report_id == Report.id)
        .where(Photo.id == photo_id, visible)
    )
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
