from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Query, status
from fastapi.responses import JSONResponse

from app.auth.deps import CurrentPrincipal, UserPrincipal
from app.core import idempotency
from app.core.deps import ClockDep, SessionDep
from app.core.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    Unauthorized,
    ValidationFailed,
    error_responses,
)
from app.core.idempotency import IdempotencyKeyReused
from app.core.pagination import Page, PageParams, page_params
from app.models.enums import RedemptionStatus
from app.store import redemptions, service
from app.store.exceptions import (
    MonthlyLimitReached,
    NotEnoughPoints,
    OutOfStock,
    RewardUnavailable,
)
from app.store.schemas import (
    HandOver,
    RedemptionCancel,
    RedemptionCreate,
    RedemptionRead,
    RewardCreate,
    RewardRead,
    RewardUpdate,
)

router = APIRouter(tags=["points store"])

RewardId = Annotated[uuid.UUID, Path(description="The reward: an item of a points store")]
RedemptionId = Annotated[uuid.UUID, Path(description="The redemption: a reward bought")]


@router.get(
    "/rewards",
    response_model=Page[RewardRead],
    summary="The shelves of the points stores (积分超市) the caller may see, newest first",
    description=(
        "A community's shelf is for its staff, grid workers and volunteers, the couriers "
        "checked in with it and whoever earned points there; a courier company's for its "
        "couriers and managers; supervisors and viewers see their regions' community shelves. "
        "Shops see every item of their shelves; others the active items whose window has not "
        "closed (`on_shelf` says whether one can be bought now)."
    ),
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def list_rewards(
    principal: CurrentPrincipal,
    session: SessionDep,
    clock: ClockDep,
    page: Annotated[PageParams, Depends(page_params)],
    community_id: Annotated[uuid.UUID | None, Query(description="One community's shelf")] = None,
    company_id: Annotated[uuid.UUID | None, Query(description="One company's shelf")] = None,
) -> Page[RewardRead]:
    return await service.list_rewards(
        session, principal, page, clock.now(), community_id=community_id, company_id=company_id
    )


@router.post(
    "/rewards",
    response_model=RewardRead,
    status_code=status.HTTP_201_CREATED,
    summary="Put an item on a shelf: community staff for their community, managers for their "
    "courier company",
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def create_reward(
    body: RewardCreate, principal: UserPrincipal, session: SessionDep, clock: ClockDep
) -> RewardRead:
    now = clock.now()
    reward = await service.create_reward(session, principal, body, now)
    return await service.to_read(session, principal, reward, now)


@router.get(
    "/rewards/{reward_id}",
    response_model=RewardRead,
    summary="One reward",
    responses=error_responses(Unauthorized, NotFound, ValidationFailed),
)
async def read_reward(
    reward_id: RewardId, principal: CurrentPrincipal, session: SessionDep, clock: ClockDep
) -> RewardRead:
    now = clock.now()
    reward = await service.get_visible_reward(session, principal, reward_id, now)
    return await service.to_read(session, principal, reward, now)


@router.patch(
    "/rewards/{reward_id}",
    response_model=RewardRead,
    summary="Change a reward, restock it (`stock_change`) or take it off the shelf",
    responses=error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed),
)
async def update_reward(
    reward_id: RewardId,
    body: RewardUpdate,
    principal: UserPrincipal,
    session: SessionDep,
    clock: ClockDep,
) -> RewardRead:
    now = clock.now()
    reward = await service.update_reward(session, principal, reward_id, body, now)
    return await service.to_read(session, principal, reward, now)


@router.post(
    "/redemptions",
    response_model=RedemptionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Buy a reward with points (积分兑换); show the code at the shop",
    description=(
        "Balance, stock and the monthly limit are checked and debited in one transaction: "
        "concurrent purchases never sell more than the stock nor spend the same points twice. "
        "Send `Idempotency-Key`: a retry after a timeout gets the first purchase, not a second."
    ),
    responses=error_responses(
        Unauthorized,
        Forbidden,
        NotFound,
        OutOfStock,
        NotEnoughPoints,
        MonthlyLimitReached,
        RewardUnavailable,
        IdempotencyKeyReused,
        ValidationFailed,
    ),
)
async def redeem(
    body: RedemptionCreate,
    principal: UserPrincipal,
    session: SessionDep,
    clock: ClockDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    assert principal.user_id is not None
    key = idempotency.validate_key(idempotency_key)
    fingerprint = idempotency.request_fingerprint({"reward_id": str(body.reward_id)})
    if key and (replay := await redemptions.replay(session, principal.user_id, key, fingerprint)):
        return JSONResponse(replay.body, replay.status_code, {"Idempotent-Replayed": "true"})
    redemption = await redemptions.redeem(session, principal, body.reward_id, clock.now())
    read = await redemptions.to_read(session, principal, redemption)
    answer = read.model_dump(mode="json")
    if key and not await idempotency.save(
        session, principal.user_id, key, redemptions.IDEMPOTENCY_SCOPE, fingerprint, 201, answer
    ):
        await session.rollback()
        replay = await idempotency.winner(
            session, principal.user_id, key, redemptions.IDEMPOTENCY_SCOPE, fingerprint
        )
        return JSONResponse(replay.body, replay.status_code, {"Idempotent-Replayed": "true"})
    return JSONResponse(answer, status.HTTP_201_CREATED)


@router.get(
    "/redemptions",
    response_model=Page[RedemptionRead],
    summary="The caller's purchases, and those from the shelves the caller runs, newest first",
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def list_redemptions(
    principal: UserPrincipal,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    status_filter: Annotated[RedemptionStatus | None, Query(alias="status")] = None,
    reward_id: Annotated[uuid.UUID | None, Query()] = None,
    mine: Annotated[bool, Query(description="Only the caller's own purchases")] = False,
) -> Page[RedemptionRead]:
    return await redemptions.list_redemptions(
        session, principal, page, status=status_filter, reward_id=reward_id, mine=mine
    )


@router.post(
    "/redemptions/hand-over",
    response_model=RedemptionRead,
    summary="The shop hands the item over against the buyer's code (核销)",
    responses=error_responses(
        Unauthorized, Forbidden, NotFound, InvalidTransition, ValidationFailed
    ),
)
async def hand_over(
    body: HandOver, principal: UserPrincipal, session: SessionDep, clock: ClockDep
) -> RedemptionRead:
    redemption = await redemptions.hand_over(session, principal, body.code, clock.now())
    return await redemptions.to_read(session, principal, redemption)


@router.get(
    "/redemptions/{redemption_id}",
    response_model=RedemptionRead,
    summary="One purchase: the buyer's, or one from a shelf the caller runs",
    responses=error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed),
)
async def read_redemption(
    redemption_id: RedemptionId, principal: UserPrincipal, session: SessionDep
) -> RedemptionRead:
    redemption = await redemptions.get_visible_redemption(session, principal, redemption_id)
    return await redemptions.to_read(session, principal, redemption)


@router.post(
    "/redemptions/{redemption_id}/cancel",
    response_model=RedemptionRead,
    summary="Cancel a purchase not yet handed over: the points and the item go back",
    responses=error_responses(
        Unauthorized, Forbidden, NotFound, InvalidTransition, Conflict, ValidationFailed
    ),
)
async def cancel_redemption(
    redemption_id: RedemptionId,
    principal: UserPrincipal,
    session: SessionDep,
    clock: ClockDep,
    body: Annotated[RedemptionCancel, Body()] = RedemptionCancel(),
) -> RedemptionRead:
    redemption = await redemptions.cancel(
        session, principal, redemption_id, body.reason, clock.now()
    )
    return await redemptions.to_read(session, principal, redemption)
