"""The one dependency every action route takes: who acts, on which database session, at what
instant, against which version (``If-Match``). Routes differ only in the roles let through; the
services then check the caller's part in the very case."""

# No ``from __future__ import annotations``: FastAPI reads the parameters of the dependency made
# below at run time, and its principal's annotation names a local (the guard).

from typing import Annotated, Any

from fastapi import Depends

from app.auth.deps import require_roles, require_user
from app.auth.principal import Principal
from app.cases.context import ActionContext
from app.core.deps import CalendarDep, ClockDep, SessionDep, SettingsDep
from app.core.etags import IfMatch
from app.models.enums import Role


def acting_as(*roles: Role) -> Any:
    """``Depends`` of an action open to holders of ``roles`` (and admins), or to any signed-in
    person when none is named; dashboard keys are read-only and never act."""
    guard = require_roles(*roles) if roles else require_user

    async def action_context(
        principal: Annotated[Principal, Depends(guard)],
        session: SessionDep,
        clock: ClockDep,
        settings: SettingsDep,
        calendar: CalendarDep,
        if_match: IfMatch = None,
    ) -> ActionContext:
        return ActionContext(
            session=session,
            principal=principal,
            now=clock.now(),
            settings=settings,
            calendar=calendar,
            if_match=if_match,
        )

    return Depends(action_context)


# Any signed-in person (the report actions: each checks the caller's part in the case).
Action = Annotated[ActionContext, acting_as()]
# The unit's own work on its job.
UnitAction = Annotated[ActionContext, acting_as(Role.unit_staff)]
# Whistling, deciding extensions and cancelling jobs: the case's community staff or supervisors.
CaseStaffAction = Annotated[ActionContext, acting_as(Role.community_staff, Role.supervisor)]
