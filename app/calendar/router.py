"""The working calendar: which days count for working-hour deadlines, and why; the days
administrators set; recomputing open deadlines after a change."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.deps import AdminPrincipal, CurrentPrincipal
from app.calendar import recompute, service
from app.calendar.deps import refresh_calendar_after_commit
from app.calendar.exceptions import NoOverride
from app.calendar.schemas import (
    CalendarOverrideRead,
    CalendarOverrideWrite,
    CalendarRange,
    CalendarYearRead,
    CalendarYearWrite,
    RecomputeResult,
)
from app.core.deps import CalendarDep, ClockDep, SessionDep
from app.core.errors import Forbidden, Unauthorized, ValidationFailed, error_responses
from app.core.params import Day, Year
from app.core.workcalendar import china_today

router = APIRouter(tags=["calendar"])

# Writes: this process's calendar reloads once the change is committed.
_REFRESHES_CALENDAR = [Depends(refresh_calendar_after_commit)]
_ADMIN_ERRORS = (Unauthorized, Forbidden, ValidationFailed)

CHANGES_DOC = (
    "Deadlines already set do not move: a running clock keeps the deadline it was given. "
    "To apply the new calendar to open cases, call "
    "`POST /api/v1/admin/calendar/recompute-deadlines`."
)


@router.get(
    "/calendar",
    response_model=CalendarRange,
    response_model_by_alias=True,
    summary="Working days and why (published schedule, administrator, weekday rule)",
    description=(
        "Each day from `from` to `to` (at most 366 days; by default the next 60 days, China "
        "time): whether it is a working day for working-hour time limits, and why. "
        "`covered_until` and `warning` say how far ahead the calendar is known."
    ),
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def read_calendar(
    _: CurrentPrincipal,
    calendar: CalendarDep,
    clock: ClockDep,
    first_day: Annotated[dt.date | None, Query(alias="from", examples=["2027-02-01"])] = None,
    last_day: Annotated[dt.date | None, Query(alias="to", examples=["2027-02-28"])] = None,
) -> CalendarRange:
    today = china_today(clock.now())
    first = first_day or today
    last = last_day or first + dt.timedelta(days=service.COVERAGE_HORIZON_DAYS - 1)
    return service.explain_range(calendar, first, last, today)


@router.post(
    "/admin/calendar/recompute-deadlines",
    response_model=RecomputeResult,
    summary="Recompute open cases' working-hour deadlines on the calendar now in force",
    description=(
        "Every running working-hour clock of an open case (the report's accept and resolve "
        "clocks, its open jobs' accept and complete clocks) gets the deadline its limit gives "
        "from the clock's start on the calendar now in force, with the case's holds added as "
        "when it resumed. Each case with a clock moved gets a `deadlines_recomputed` timeline "
        "event and outbox event listing the clocks. Not touched: calendar-hour limits, clocks "
        "already run out (their overdue marks and cards stand), completion times a whistle or "
        "a granted extension named. `dry_run=true` lists what would move and changes nothing."
    ),
    responses=error_responses(*_ADMIN_ERRORS),
)
async def recompute_deadlines(
    principal: AdminPrincipal,
    session: SessionDep,
    calendar: CalendarDep,
    clock: ClockDep,
    dry_run: bool = False,
) -> RecomputeResult:
    return await recompute.recompute_open_deadlines(
        session, principal, calendar, clock.now(), dry_run=dry_run
    )


@router.get(
    "/admin/calendar/{year:int}",
    response_model=CalendarYearRead,
    summary="The days administrators set in a year",
    responses=error_responses(*_ADMIN_ERRORS),
)
async def read_year(year: Year, _: AdminPrincipal, session: SessionDep) -> CalendarYearRead:
    return await service.read_year(session, year)


@router.put(
    "/admin/calendar/{year:int}",
    response_model=CalendarYearRead,
    summary="Replace a year's days (the State Council's notice for the year), all or nothing",
    description=(
        "The list becomes the year's administrator-set days: days left out follow the published "
        "schedule or the weekday rule again; an empty list clears the year. Every date must be "
        "in the year and appear once, else nothing changes (422 naming each bad entry). "
        + CHANGES_DOC
    ),
    dependencies=_REFRESHES_CALENDAR,
    responses=error_responses(*_ADMIN_ERRORS),
)
async def replace_year(
    year: Year,
    body: CalendarYearWrite,
    principal: AdminPrincipal,
    session: SessionDep,
    clock: ClockDep,
) -> CalendarYearRead:
    days = service.check_year_list(year, body.days)
    await service.replace_years(session, {year: days}, principal.user_id, clock.now())
    return await service.read_year(session, year)


@router.get(
    "/admin/calendar/{day}",
    response_model=CalendarOverrideRead,
    summary="The day an administrator set, if any",
    responses=error_responses(*_ADMIN_ERRORS, NoOverride),
)
async def read_day(day: Day, _: AdminPrincipal, session: SessionDep) -> CalendarOverrideRead:
    return await service.get_override(session, day)


@router.put(
    "/admin/calendar/{day}",
    response_model=CalendarOverrideRead,
    summary="Set one day: a holiday or a working day, with its name",
    description=CHANGES_DOC,
    dependencies=_REFRESHES_CALENDAR,
    responses=error_responses(*_ADMIN_ERRORS),
)
async def set_day(
    day: Day,
    body: CalendarOverrideWrite,
    principal: AdminPrincipal,
    session: SessionDep,
    clock: ClockDep,
) -> CalendarOverrideRead:
    return await service.set_override(session, day, body, principal.user_id, clock.now())


@router.delete(
    "/admin/calendar/{day}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a day an administrator set: it follows the published schedule again",
    description=CHANGES_DOC,
    dependencies=_REFRESHES_CALENDAR,
    responses=error_responses(*_ADMIN_ERRORS, NoOverride),
)
async def delete_day(day: Day, _: AdminPrincipal, session: SessionDep, clock: ClockDep) -> None:
    await service.delete_override(session, day, clock.now())
