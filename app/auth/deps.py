"""The caller, authenticated once per request, and role guards for routes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth import service
from app.auth.principal import Principal
from app.auth.schemas import PasswordLogin
from app.core.bodies import FORM_TYPES, is_form, is_json, json_object, media_type, validated
from app.core.deps import ClockDep, SessionDep, SettingsDep
from app.core.errors import Forbidden, Unauthorized, UnsupportedMediaType
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


async def get_optional_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
) -> Principal | None:
    """The caller if it sent a token (a wrong one is still 401), None if it sent none: for
    routes that also answer a signed link."""
    if not token:
        return None
    return await get_principal(request, session, settings, clock, token)


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


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


PASSWORD_LOGIN_SCHEMA = PasswordLogin.model_json_schema()
# The token endpoint's body in the OpenAPI document: the form first (what OAuth2 clients and
# the documentation's Authorize send), JSON as well.
PASSWORD_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            FORM_TYPES[0]: {"schema": PASSWORD_LOGIN_SCHEMA},
            "application/json": {"schema": PASSWORD_LOGIN_SCHEMA},
        },
    }
}


async def password_login(request: Request) -> PasswordLogin:
    """The credentials of a password sign-in, from an OAuth2 form or a JSON object (a body
    without a content type is read as the form, as OAuth2 defines it)."""
    raw: dict[str, Any]
    if is_json(request):
        raw = await json_object(request)
    elif is_form(request):
        form = await request.form()
        raw = {key: value for key, value in form.items() if isinstance(value, str)}
    else:
        raise UnsupportedMediaType(
            f"Send the OAuth2 password form ({FORM_TYPES[0]}: username, password) or a JSON "
            f"object with username and password, not {media_type(request)}"
        )
    return validated(PasswordLogin, raw)


PasswordLoginDep = Annotated[PasswordLogin, Depends(password_login)]
