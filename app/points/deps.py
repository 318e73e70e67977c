from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query

from app.core.deps import ClockDep
from app.core.workcalendar import CHINA_TZ
from app.points.leaderboard import LeaderboardQuery
from app.points.schemas import LeaderboardScope

PERIOD_PATTERN = r"^[12]\d{3}-(0[1-9]|1[0-2])$"


async def leaderboard_query(
    clock: ClockDep,
    scope: Annotated[
        LeaderboardScope, Query(description="Rank communities, courier branches or companies")
    ] = LeaderboardScope.community,
    place_id: Annotated[
        uuid.UUID | None,
        Query(
            alias="id",
            description="A community, branch or company of the scope: rank its reporters instead",
        ),
    ] = None,
    period: Annotated[
        str | None,
        Query(
            pattern=PERIOD_PATTERN,
            examples=["2026-11"],
            description="A month, YYYY-MM (China time); default: the current month",
        ),
    ] = None,
) -> LeaderboardQuery:
    if period is None:
        today = clock.now().astimezone(CHINA_TZ)
        year, month = today.year, today.month
    else:
        year, month = (int(part) for part in period.split("-"))
    return LeaderboardQuery(scope=scope, place_id=place_id, year=year, month=month)


LeaderboardQueryDep = Annotated[LeaderboardQuery, Depends(leaderboard_query)]
