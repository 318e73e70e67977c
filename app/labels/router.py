from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from app.core.errors import ValidationFailed, error_responses
from app.core.language import Language, negotiate
from app.labels.schemas import LabelsRead
from app.labels.service import labels_in

router = APIRouter(tags=["labels"])

# The same for everyone and changed only by a new release: any cache may keep it for a while.
CACHE_CONTROL = "public, max-age=3600"


@router.get(
    "/labels",
    response_model=LabelsRead,
    summary="What to call every code the API uses (statuses, actions, roles, reasons, events)",
    description="In Chinese (`zh-CN`) or English (`en`): `lang` chooses, else the "
    "`Accept-Language` header, else Chinese. No sign-in needed.",
    responses=error_responses(ValidationFailed),
)
async def read_labels(
    response: Response,
    lang: Annotated[Language | None, Query(description="zh-CN or en")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> LabelsRead:
    language = lang or negotiate(accept_language)
    response.headers["Content-Language"] = language
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Vary"] = "Accept-Language"
    return labels_in(language)
