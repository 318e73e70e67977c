from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, status
from pydantic import BaseModel
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
    return await service.answer(session, principal, wish, settings, now)


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
    return await service.read_wish(session, principal, wish_id, settings, clock.now())


@dataclass(frozen=True)
class ActionRoute:
    """One action's route: its summary, and the body it takes (None: none; ``optional``: may
    be left out)."""

    summary: str
    body: type[BaseModel] | None = None
    optional: bool = False
    description: str | None = None


ACTION_ROUTES: dict[WishAction, ActionRoute] = {
    WishAction.publish: ActionRoute(
        "Staff publish a wish for the community's volunteers (审核通过)"
    ),
    WishAction.decline: ActionRoute(
        "Staff decline a wish, with the reason the resident will read", WishDecline
    ),
    WishAction.withdraw: ActionRoute(
        "The resident (or staff) withdraws a wish nobody has claimed", WishNote, optional=True
    ),
    WishAction.claim: ActionRoute(
        "A volunteer of the community claims a published wish (接单); one claimant only",
        description="The resident's contact is then shown to the claimant. Not a wish the "
        "caller posted or reviewed.",
    ),
    WishAction.release: ActionRoute(
        "The claimant gives a wish up (or staff take it back): published again",
        WishNote,
        optional=True,
    ),
    WishAction.fulfil: ActionRoute(
        "The claimant reports the wish fulfilled, with a photo (uploaded first)", WishFulfil
    ),
    WishAction.confirm: ActionRoute(
        "The resident confirms the wish fulfilled; the volunteer earns points",
        description="The community's staff may confirm for a resident without an account at "
        "once (another member of staff than the one who posted it), and for a silent resident "
        "after `SSP_WISH_CONFIRM_DAYS` (the wish's `staff_may_confirm_at`); never the "
        "volunteer who did it.",
    ),
    WishAction.reopen: ActionRoute(
        "The resident says it is not done: back to the claimant", WishReopen
    ),
    WishAction.thank: ActionRoute(
        "The resident thanks the volunteer with a note (once)", WishThank
    ),
}


def _given(body: BaseModel | None) -> ActionInput:
    """What an action's body says, whichever of the bodies it is."""
    return ActionInput(
        reason=getattr(body, "reason", None),
        note=getattr(body, "note", None),
        photo_id=getattr(body, "photo_id", None),
    )


def _action_endpoint(action: WishAction, route: ActionRoute) -> Callable[..., Any]:
    """The endpoint of one action: the same for all but its body, which FastAPI reads from the
    signature (set here, as the body's type differs from action to action)."""

    async def endpoint(
        wish_id: uuid.UUID,
        principal: Principal,
        session: AsyncSession,
        settings: Settings,
        clock: Clock,
        body: BaseModel | None = None,
    ) -> WishRead:
        now = clock.now()
        wish = await service.act(session, principal, wish_id, action, _given(body), settings, now)
        return await service.answer(session, principal, wish, settings, now)

    parameters = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)
        for name, annotation in (
            ("wish_id", WishId),
            ("principal", UserPrincipal),
            ("session", SessionDep),
            ("settings", SettingsDep),
            ("clock", ClockDep),
        )
    ]
    if route.body is not None:
        parameters.append(
            inspect.Parameter(
                "body",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[route.body, Body()],
                default=route.body() if route.optional else inspect.Parameter.empty,
            )
        )
    endpoint.__signature__ = inspect.Signature(parameters, return_annotation=WishRead)  # type: ignore[attr-defined]
    # The operation id is the function's name (app/core/openapi.py): "wishes:claim".
    endpoint.__name__ = endpoint.__qualname__ = action.value
    return endpoint


for _action, _route in ACTION_ROUTES.items():
    router.add_api_route(
        f"/wishes/{{wish_id}}/{_action.value}",
        _action_endpoint(_action, _route),
        methods=["POST"],
        response_model=WishRead,
        summary=_route.summary,
        description=_route.description,
        responses=ACTION_ERRORS,
    )
