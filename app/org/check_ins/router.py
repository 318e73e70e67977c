from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, status

from app.core.deps import ClockDep, SessionDep
from app.core.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    Unauthorized,
    ValidationFailed,
    error_responses,
)
from app.core.pagination import Page, PageParams, page_params
from app.core.params import CheckInId, CommunityId
from app.models.enums import CheckInStatus
from app.org.check_ins import service
from app.org.check_ins.schemas import CheckInApprove, CheckInCreate, CheckInRead, CheckInReject
from app.org.deps import CheckInDecider, CheckInReader, CourierPrincipal, DecidableCheckIn
from app.org.exceptions import AlreadyCheckedIn

router = APIRouter(tags=["check-ins"])


@router.post(
    "/communities/{community_id}/check-ins",
    response_model=CheckInRead,
    status_code=status.HTTP_201_CREATED,
    summary="A courier checks in (报到) with a community they deliver in",
    description="The community's staff then approve or reject it. One pending or approved "
    "check-in per courier and community; after a rejection the courier may ask again.",
    responses=error_responses(
        Unauthorized, Forbidden, NotFound, AlreadyCheckedIn, ValidationFailed
    ),
)
async def request_check_in(
    community_id: CommunityId,
    principal: CourierPrincipal,
    session: SessionDep,
    clock: ClockDep,
    body: Annotated[CheckInCreate, Body()] = CheckInCreate(),
) -> CheckInRead:
    return await service.request_check_in(session, principal, community_id, body, clock.now())


@router.get(
    "/check-ins",
    response_model=Page[CheckInRead],
    summary="Check-ins the caller may see, newest first",
    description="A courier sees their own; community staff their community's; supervisors "
    "those of their region's subtree; admins all.",
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def list_check_ins(
    principal: CheckInReader,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    status: CheckInStatus | None = None,
    community_id: uuid.UUID | None = None,
) -> Page[CheckInRead]:
    items, cursor = await service.list_check_ins(
        session, principal, page, status=status, community_id=community_id
    )
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/check-ins/{check_in_id}",
    response_model=CheckInRead,
    summary="A check-in the caller may see",
    responses=error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed),
)
async def read_check_in(
    check_in_id: CheckInId, principal: CheckInReader, session: SessionDep
) -> CheckInRead:
    return await service.get_visible_check_in(session, principal, check_in_id)


@router.post(
    "/check-ins/{check_in_id}/approve",
    response_model=CheckInRead,
    summary="Approve a pending check-in (staff of its community, supervisors of its region)",
    responses=error_responses(
        Unauthorized, Forbidden, NotFound, InvalidTransition, ValidationFailed
    ),
)
async def approve_check_in(
    check_in: DecidableCheckIn,
    principal: CheckInDecider,
    session: SessionDep,
    clock: ClockDep,
    body: Annotated[CheckInApprove, Body()] = CheckInApprove(),
) -> CheckInRead:
    return await service.approve_check_in(session, principal, check_in, body.note, clock.now())


@router.post(
    "/check-ins/{check_in_id}/reject",
    response_model=CheckInRead,
    summary="Reject a pending check-in, with a reason",
    responses=error_responses(
        Unauthorized, Forbidden, NotFound, InvalidTransition, ValidationFailed
    ),
)
async def reject_check_in(
    check_in: DecidableCheckIn,
    body: CheckInReject,
    principal: CheckInDecider,
    session: SessionDep,
    clock: ClockDep,
) -> CheckInRead:
    return await service.reject_check_in(session, principal, check_in, body.reason, clock.now())
