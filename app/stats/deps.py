"""The statistics' query parameters: the filters every statistic takes, checked against the
caller's scope, and the working-days table brought up to date before a statistic reads it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query, Request

from app.auth.deps import require_roles
from app.auth.principal import Principal
from app.calendar.working_days import WorkingDaysKeeper
from app.core.deps import CalendarDep, ClockDep, SessionDep
from app.core.errors import ValidationFailed
from app.core.pagination import plan_for_the_values
from app.core.params import Moment
from app.core.pruning import prunes
from app.models.enums import Role
from app.reports.deps import floats
from app.stats.selection import (
    StatsQuery,
    category_codes,
    check_community,
    check_region,
    check_unit,
    one_community,
    region_filter,
    scope_of,
)
from app.stats.series import cell_count

DEFAULT_PERIOD = timedelta(days=30)
# Three years and a leap day: "2024-01-01 to 2027-01-01" is three years.
LONGEST_PERIOD = timedelta(days=3 * 365 + 1)

# Statistics are for the people who run the work and watch it: not for couriers and residents.
STATS_ROLES = (
    Role.supervisor,
    Role.viewer,
    Role.community_staff,
    Role.grid_worker,
    Role.unit_staff,
)
StatsPrincipal = Annotated[Principal, Depends(require_roles(*STATS_ROLES))]


def _period(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    # The parameter named in an error is one the client sent.
    longest_named = "to" if end is not None else "from"
    if end is None:
        end = now if start is None or start < now else start + DEFAULT_PERIOD
    if start is None:
        start = end - DEFAULT_PERIOD
    if start >= end:
        raise ValidationFailed.at(["query", "from"], "`from` must be before `to`")
    if end - start > LONGEST_PERIOD:
        raise ValidationFailed.at(["query", longest_named], "a period is at most three years")
    return start, end


async def planned_statistic(session: SessionDep) -> None:
    """Every statement of a statistic is planned for the values it is sent with: a cached
    generic plan fits no period and place well (a month of a banner, a year of a small
    community), and planning costs a millisecond against tens read. Until the request's
    transaction ends."""
    await plan_for_the_values(session)


async def ensure_working_days(request: Request, calendar: CalendarDep) -> None:
    keeper: WorkingDaysKeeper = request.app.state.working_days
    await keeper.ensure_current(calendar)


async def stats_query(
    principal: StatsPrincipal,
    session: SessionDep,
    clock: ClockDep,
    _: Annotated[None, Depends(ensure_working_days)],
    __: Annotated[None, Depends(planned_statistic)],
    start: Annotated[
        Moment,
        Query(
            alias="from",
            description="Cases filed from this time on (RFC 3339); default: 30 days before `to`",
        ),
    ] = None,
    end: Annotated[
        Moment, Query(alias="to", description="… and before this time (RFC 3339); default: now")
    ] = None,
    region_id: Annotated[
        uuid.UUID | None, Query(description="A region, with its whole subtree")
    ] = None,
    community_id: uuid.UUID | None = None,
    unit_id: Annotated[uuid.UUID | None, Query(description="Cases the unit has a job on")] = None,
    category: Annotated[
        str | None, Query(max_length=64, description="A leaf category, or a top class")
    ] = None,
) -> StatsQuery:
    now = clock.now()
    period_start, period_end = _period(start, end, now)
    if region_id is not None:
        await check_region(session, principal, region_id)
    if community_id is not None:
        await check_community(session, principal, community_id)
    if unit_id is not None:
        await check_unit(session, principal, unit_id)
    codes = None
    if category is not None:
        codes = await category_codes(session, category)
        if codes is None:
            raise ValidationFailed.at(["query", "category"], "no such category")
    return StatsQuery(
        principal=principal,
        scope=await scope_of(session, principal),
        region=None if region_id is None else await region_filter(session, region_id),
        start=period_start,
        end=period_end,
        now=now,
        region_id=region_id,
        community_id=community_id,
        unit_id=unit_id,
        categories=codes,
        partitioned=prunes(session),
        cached_plan_fits=region_id is None and one_community(principal),
    )


StatsQueryDep = Annotated[StatsQuery, Depends(stats_query)]


MIN_CELL_M, MAX_CELL_M = 50.0, 50_000.0
MAX_CELLS = 10_000


async def heat_area(
    bbox: Annotated[str, Query(description="minLng,minLat,maxLng,maxLat (WGS-84)")],
    cell_m: Annotated[float, Query(description="The side of a cell in metres")] = 250.0,
) -> tuple[tuple[float, float, float, float], float]:
    min_lng, min_lat, max_lng, max_lat = floats(bbox, 4, "bbox")
    if not (-180 <= min_lng < max_lng <= 180 and -90 <= min_lat < max_lat <= 90):
        raise ValidationFailed.at(
            ["query", "bbox"], "minLng < maxLng within ±180 and minLat < maxLat within ±90"
        )
    if not MIN_CELL_M <= cell_m <= MAX_CELL_M:
        raise ValidationFailed.at(
            ["query", "cell_m"], f"a cell is {MIN_CELL_M:g} to {MAX_CELL_M:g} metres"
        )
    box = (min_lng, min_lat, max_lng, max_lat)
    if (cells := cell_count(box, cell_m)) > MAX_CELLS:
        raise ValidationFailed.at(
            ["query", "bbox"],
            f"the box holds {cells:,} cells of {cell_m:g} m; at most {MAX_CELLS:,}: "
            "a smaller box or larger cells",
        )
    return box, cell_m


HeatAreaDep = Annotated[tuple[tuple[float, float, float, float], float], Depends(heat_area)]
