from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from app.auth import keys, service
from app.auth.deps import (
    PASSWORD_LOGIN_BODY,
    AdminPrincipal,
    PasswordLoginDep,
    UserPrincipal,
    bearer_scheme,
)
from app.auth.exceptions import InvalidCredentials, InvalidRefreshToken, LoginLocked
from app.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    KeyExchange,
    KeyToken,
    RefreshRequest,
    TokenPair,
)
from app.core.deps import ClockDep, SessionDep, SessionMakerDep, SettingsDep, client_address
from app.core.errors import (
    Forbidden,
    NotFound,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
    error_responses,
)
from app.core.params import ApiKeyId

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenPair,
    summary="Sign in with username and password (OAuth2 password flow)",
    description=(
        "Takes the OAuth2 password form (`application/x-www-form-urlencoded`: `username`, "
        "`password`, optionally `grant_type=password`), as OAuth2 clients send it, or the "
        "same fields as a JSON object. Another content type is refused with 415."
    ),
    openapi_extra=PASSWORD_LOGIN_BODY,
    responses=error_responses(
        InvalidCredentials, LoginLocked, ValidationFailed, UnsupportedMediaType
    ),
)
async def issue_token(
    request: Request,
    form: PasswordLoginDep,
    session: SessionDep,
    factory: SessionMakerDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> TokenPair:
    return await service.login(
        session,
        factory,
        settings,
        username=form.username,
        password=form.password,
        client_address=client_address(request),
        user_agent=request.headers.get("user-agent"),
        now=clock.now(),
    )


@router.post(
    "/auth/refresh",
    response_model=TokenPair,
    summary="Exchange a refresh token for new tokens (the old refresh token is spent)",
    responses=error_responses(InvalidRefreshToken, ValidationFailed),
)
async def refresh_token(
    body: RefreshRequest,
    session: SessionDep,
    factory: SessionMakerDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> TokenPair:
    return await service.refresh(
        session, factory, settings, refresh_token=body.refresh_token, now=clock.now()
    )


@router.post(
    "/auth/key-token",
    response_model=KeyToken,
    summary="Exchange a dashboard key for a short-lived token (for pages: the key is sent once)",
    description=(
        "A page opened with a dashboard key (the big screen) sends the key here once, in the "
        "body, and its requests then carry the token: the key never stands in a URL, a "
        "request header or a log. The token stops working when the key is revoked."
    ),
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def exchange_key(
    body: KeyExchange, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> KeyToken:
    return await service.exchange_key(session, settings, body.key, clock.now())


@router.post(
    "/auth/key-token/renew",
    response_model=KeyToken,
    summary="A fresh key token for a page signed in with a dashboard key",
    description=(
        "Send the page's key token (or the key). A token that expired less than 24 hours ago "
        "is renewed too, so that a wall screen back from an outage signs in again by itself; "
        "a revoked key's is not (401). A person's token is 403: people use /auth/refresh."
    ),
    responses=error_responses(Unauthorized, Forbidden),
)
async def renew_key_token(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
) -> KeyToken:
    return await service.renew_presented_token(session, settings, token, clock.now())


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this login: its refresh tokens and access tokens stop working",
    responses=error_responses(Unauthorized),
)
async def logout(principal: UserPrincipal, session: SessionDep, clock: ClockDep) -> None:
    await service.logout(session, principal, clock.now())


@router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    summary="Create a region's key, read-only or filing (the secret is shown once)",
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def create_api_key(
    body: ApiKeyCreate, principal: AdminPrincipal, session: SessionDep, clock: ClockDep
) -> ApiKeyCreated:
    key, secret = await keys.create_api_key(
        session,
        name=body.name,
        region_id=body.region_id,
        may_file=body.may_file,
        created_by=principal.user_id,
        now=clock.now(),
    )
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=secret)


@router.get(
    "/api-keys",
    response_model=list[ApiKeyRead],
    tags=["admin"],
    responses=error_responses(Unauthorized, Forbidden),
)
async def list_api_keys(_: AdminPrincipal, session: SessionDep) -> list[ApiKeyRead]:
    return [ApiKeyRead.model_validate(k) for k in await keys.list_api_keys(session)]


@router.delete(
    "/api-keys/{key_id}",
    response_model=ApiKeyRead,
    tags=["admin"],
    summary="Revoke a key",
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def revoke_api_key(
    key_id: ApiKeyId, _: AdminPrincipal, session: SessionDep, clock: ClockDep
) -> ApiKeyRead:
    return ApiKeyRead.model_validate(await keys.revoke_api_key(session, key_id, clock.now()))
