"""What the operations endpoints answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.calendar.schemas import CalendarCoverage


class Readiness(BaseModel):
    """``/readyz``: ready, or why not (a plain JSON object, for orchestrators' probes)."""

    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable", "not migrated"]
    revision: list[str] | None = Field(None, description="Ready: the migrations applied")
    calendar: CalendarCoverage | None = Field(
        None, description="Ready: how far ahead the working calendar is known"
    )
    detail: str | None = Field(None, description="Unreachable: why")
    current: list[str] | None = Field(None, description="Not migrated: the database's revisions")
    head: list[str] | None = Field(None, description="Not migrated: this version's revisions")
