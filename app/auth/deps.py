"""The caller, authenticated once per request, and role guards for routes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth import service
from app.auth.principal import Principal
from app.core.deps import ClockDep, SessionDep, SettingsDep
from app.core.errors import Forbidden, Unauthorized
from app.models.enums import Role

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="An access token from /api/v1/auth/token, or a dashboard API key (ssp_…)",
)


async def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
) -> Principal:
    if not token:
        raise Unauthorized("Sign in first: send `Authorization: Bearer <token>`")
    principal = await service.authenticate(session, settings, token, clock.now())
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets through admins and holders of any of ``roles``; 403 otherwise."""

    async def _guard(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles):
            raise Forbidden("Your role does not allow this")
        return principal

    return _guard


AdminPrincipal = Annotated[Principal, Depends(require_roles(Role.admin))]


async def require_user(principal: CurrentPrincipal) -> Principal:
    """A signed-in person, not a dashboard key."""
    if principal.user_id is None:
        raise Forbidden("API keys are read-only and cannot do this")
    return principal


UserPrincipal = Annotated[Principal, Depends(require_user)]
