"""Dependencies of the calendar routes: the process's calendar cache, refreshed after a change."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.calendar.cache import CalendarCache
from app.core.deps import SessionDep


async def get_calendar_cache(request: Request) -> CalendarCache:
    cache: CalendarCache = request.app.state.calendar
    return cache


CalendarCacheDep = Annotated[CalendarCache, Depends(get_calendar_cache)]


async def refresh_calendar_after_commit(session: SessionDep, cache: CalendarCacheDep) -> None:
    """For routes that change the calendar: this process uses the change from its next
    request on; the others within their refresh interval."""
    cache.invalidate_after_commit(session)
