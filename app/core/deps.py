"""Request-scoped dependencies shared by every domain: settings, clock, database session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock
from app.core.config import Settings
from app.core.db import session_scope
from app.core.workcalendar import CalendarSource, WorkingCalendar


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return factory


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the endpoint returns, rolled back on error."""
    async for session in session_scope(request.app.state.sessionmaker):
        yield session


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
# scope="function": commit before the response is sent, so a failed commit is never a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SessionMakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def get_calendar(request: Request) -> WorkingCalendar:
    """The working calendar in force (days administrators set included), for this request."""
    source: CalendarSource = request.app.state.calendar
    return await source.current()


CalendarDep = Annotated[WorkingCalendar, Depends(get_calendar)]
