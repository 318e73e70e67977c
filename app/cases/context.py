"""What every action on a case (a report's or a job's) needs besides its body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.config import Settings
from app.core.workcalendar import WorkingCalendar


@dataclass(frozen=True)
class ActionContext:
    session: AsyncSession
    principal: Principal
    # One instant for the whole action: every timestamp it writes is the same.
    now: datetime
    settings: Settings
    calendar: WorkingCalendar
    # The ETag the caller last read (None: act on whatever is there).
    if_match: str | None = None
