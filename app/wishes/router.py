from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentPrincipal, UserPrincipal
from app.auth.principal import Principal
from app.core.clock import Clock
from app.core.config import Settings
from app.core.deps import ClockDep, SessionDep, SettingsDep
from app.core.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    Unauthorized,
    ValidationFailed,
    error_responses,
)
from app.core.pagination import Page, PageParams, page_params
from app.models.enums import WishStatus
from app.wishes import service
from app.wishes.schemas import (
    WishCreate,
    WishDecline,
    WishFulfil,
    WishNote,
    WishRead,
    WishReopen,
    WishThank,
)
from app.wishes.service import ActionInput
from app.wishes.transitions import WishAction

router = APIRouter(tags=["micro-wishes"])

WishId = Annotated[uuid.UUID, Path(description="The micro-wish (微心愿)")]
ACTION_ERRORS = error_responses(
    Unauthorized, Forbidden, NotFound, InvalidTransition, Conflict, ValidationFailed
)


async def _answer(
    session: AsyncSession,
    principal: Principal,
    wish_id: uuid.UUID,
    action: WishAction,
    given: ActionInput,
    settings: Settings,
    clock: Clock,
) -> WishRead:
    now = clock.now()
    wish = await service.act(session, principal, wish_id, action, given, settings, now)
    return (await service.to_reads(session, principal, [wish], settings, now))[0]


@router.post(
    "/wishes",
    response_model=WishRead,
    status_code=status.HTTP_201_CREATED,
    summary="Post a micro-wish (居民点单) for the community's staff to review",
    description=(
        "A resident posts their own; the community's staff may post one for a resident "
        "without an account (`resident_name` and `phone`). The phone and address are shown to "
        "the resident and, once it is claimed, to the volunteer who claimed it — to nobody "
        "else."
    ),
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def create_wish(
    body: WishCreate,
    principal: UserPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> WishRead:
    now = clock.now()
    wish = await service.create_wish(session, principal, body, now)
    return (await service.to_reads(session, principal, [wish], settings, now))[0]


@router.get(
    "/wishes",
    response_model=Page[WishRead],
    summary="The wishes the caller may see, newest first",
    description=(
        "Staff: their community's; supervisors and viewers: their regions'; volunteers (grid "
        "workers, registered volunteers, couriers checked in): their communities' wishes from "
        "publication on; residents: their own; claimants: those they claimed."
    ),
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def list_wishes(
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    page: Annotated[PageParams, Depends(page_params)],
    status_filter: Annotated[WishStatus | None, Query(alias="status")] = None,
    community_id: Annotated[uuid.UUID | None, Query()] = None,
    mine: Annotated[
        bool, Query(description="Only wishes the caller posted for themselves or claimed")
    ] = False,
) -> Page[WishRead]:
    return await service.list_wishes(
        session,
        principal,
        page,
        settings,
        clock.now(),
        status=status_filter,
        community_id=community_id,
        mine=mine,
    )


@router.get(
    "/wishes/{wish_id}",
    response_model=WishRead,
    summary="One wish, with what the caller may do with it (`actions`)",
    responses=error_responses(Unauthorized, NotFound, ValidationFailed),
)
async def read_wish(
    wish_id: WishId,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> WishRead:
    now = clock.now()
    wish = await service.get_visible_wish(session, principal, wish_id)
    return (await service.to_reads(session, principal, [wish], settings, now))[0]


@router.post(
    "/wishes/{wish_id}/publish",
    response_model=WishRead,
    summary="Staff publish a wish for the community's volunteers (审核通过)",
    responses=ACTION_ERRORS,
)
async def publish(
    wish_id: WishId,
    principal: UserPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> WishRead:
    given = ActionInput()
    return await _answer(session, principal, wish_id, WishAction.publish, given, settings, clock)


@router.post(
    "/wishes/{wish_id}/decline",
    response_model=WishRead,
    summary="Staff decline a wish, with the reason the resident will read",
    responses=ACTION_ERRORS,
)
async def decline(
    wish_id: WishId,
    body: WishDecline,
    principal: UserPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> WishRead:
    given = ActionInput(reason=body.reason)
    return await _answer(session, principal, wish_id, WishAction.decline, given, settings, clock)


@router.post(
    "/wishes/{wish_id}/withdraw",
    response_model=WishRead,
    summary="The resident (or staff) withdraws a wish nobody has claimed",
    responses=ACTION_ERRORS,
)
async def withdraw(
    wish_id: WishId,
    principal: UserPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    body: Annotated[WishNote, Body()] = WishNote(),
) -> WishRead:
    given = ActionInput(reason=body.reason)
    return await _answer(session, principal, wish_id, WishAction.withdraw, given, settings, clock)


@router.post(
    "/wishes/{wish_id}/claim",
    response_model=WishRead,
    summary="A volunteer of the community claims a published wish (接单); one claimant only",
    description="The resident's contact is then shown to the claimant.",
    responses=ACTION_ERRORS,
)
async def claim(
    wish_id: WishId,
    principal: UserPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> WishRead:
    given = ActionInput()
    return await _answer(session, principal, wish_id, WishAction.claim, given, settings, clock)


@router.post(
    "/wishes/{wish_id}/release",
    response_model=WishRead,
    summary="The claimant gives a wish up (or staff take it back): published again",
    responses=ACTION_ERRORS,
)
async def release(
    wish_id: WishId,
    principal: UserPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    body: Annotated[WishNote, Body()] = WishNote(),
) -> WishRead:
    given = ActionInput(reason=body.reason)
    return await _answer(session, principal, wish_id, WishAction.release, given, settings, clock)


@router.post(
    "/wishes/{wish_id}/fulfil",
    response_model=WishRead,
    summary="The claimant reports the wish fulfilled, with a photo (uploaded first)",
    responses=ACTION_ERRORS,
)
async def fulfil(
    wish_id: WishId,
    body: WishFulfil,
    principal: UserPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> WishRead:
    given = ActionInput(note=body.note, photo_id=body.photo_id)
    return await _answer(session, principal, wish_id, WishAction.fulfil, given, settings, clock)


@router.post(
    "/wishes/{wish_id}/confirm",
    response_model=WishRead,
    summary="The resident confirms the wish fulfilled; the volunteer earns points",
    description=(
        "The community's staff may confirm for a resident without an account at once, and for "
        "a silent resident after `SSP_WISH_CONFIRM_DAYS` (the wish's `staff_may_confirm_at`)."
    ),
    responses=ACTION_ERRORS,
)
async def confirm(
    wish_id: WishId,
    principal: UserPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> WishRead:
    given = ActionInput()
    return await _answer(session, principal, wish_id, WishAction.confirm, given, settings, clock)


@router.post(
    "/wishes/{wish_id}/reopen",
    response_model=WishRead,
    summary="The resident says it is not done: back to the claimant",
    responses=ACTION_ERRORS,
)
async def reopen(
    wish_id: WishId,
    body: WishReopen,
    principal: UserPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> WishRead:
    given = ActionInput(reason=body.reason)
    return await _answer(session, principal, wish_id, WishAction.reopen, given, settings, clock)


@router.post(
    "/wishes/{wish_id}/thank",
    response_model=WishRead,
    summary="The resident thanks the volunteer with a note (once)",
    responses=ACTION_ERRORS,
)
async def thank(
    wish_id: WishId,
    body: WishThank,
    principal: UserPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> WishRead:
    given = ActionInput(note=body.note)
    return await _answer(session, principal, wish_id, WishAction.thank, given, settings, clock)
