from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.deps import CurrentPrincipal, UserPrincipal
from app.core.deps import ClockDep, SessionDep, SettingsDep
from app.core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, error_responses
from app.core.pagination import PageParams, page_params
from app.points import service
from app.points.deps import LeaderboardQueryDep
from app.points.leaderboard import leaderboard as leaderboard_of
from app.points.schemas import Leaderboard, PointsLedger

router = APIRouter(tags=["points"])


@router.get(
    "/points/me",
    response_model=PointsLedger,
    summary="My points (积分): balance, what the caps still allow, and the ledger",
    description=(
        "Points are given when a report is accepted as valid and when its case is closed, "
        "at most once per report and rule, within daily and monthly caps. Entries newest "
        "first, paginated with `limit` and `cursor`."
    ),
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def my_points(
    principal: UserPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> PointsLedger:
    assert principal.user_id is not None
    return await service.ledger(session, principal.user_id, page, clock.now(), settings)


@router.get(
    "/leaderboard",
    response_model=Leaderboard,
    summary="Points earned in a month, ranked by community, courier branch or company",
    description=(
        "Without `id`: the communities (or branches, or companies) ranked against each other. "
        "With `id`: the reporters of that community, branch or company ranked. Only sums and "
        "display names are shown. Paginated with `limit` and `cursor`."
    ),
    responses=error_responses(Unauthorized, NotFound, ValidationFailed),
)
async def leaderboard(
    principal: CurrentPrincipal,
    session: SessionDep,
    query: LeaderboardQueryDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> Leaderboard:
    return await leaderboard_of(session, principal, query, page)
