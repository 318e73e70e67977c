"""Logging in, rotating refresh tokens, resolving a bearer credential to a Principal."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from app.auth import throttle
from app.auth.exceptions import InvalidCredentials, InvalidRefreshToken, LoginLocked
from app.auth.keys import principal_from_api_key, principal_from_key_token
from app.auth.principal import Principal, RoleGrant
from app.auth.schemas import KeyToken, TokenPair
from app.core import security
from app.core.config import Settings
from app.core.errors import Forbidden, Unauthorized
from app.models import (
    AuthSession,
    Community,
    CourierBranch,
    CourierCompany,
    RefreshToken,
    Region,
    RoleAssignment,
    Unit,
    User,
)
from app.models.enums import ROLE_SCOPE, ScopeType

# How long after its expiry a key token may still be renewed (the key looked up, as always).
KEY_TOKEN_RENEWAL_GRACE = timedelta(hours=24)

# The places of role assignments, made once: a statement built on fresh aliases costs ~3 ms of
# CPU (SQLAlchemy adapts every column anew), and every authenticated request builds one.
_GRANT_REGION = aliased(Region)
_GRANT_COMMUNITY = aliased(Community)
_GRANT_UNIT = aliased(Unit)
_GRANT_BRANCH = aliased(CourierBranch)
_GRANT_COMPANY = aliased(CourierCompany)

_SelectT = TypeVar("_SelectT", bound=Select[*tuple[Any, ...]])


async def _issue_tokens(
    session: AsyncSession,
    settings: Settings,
    user_id: uuid.UUID,
    auth_session_id: uuid.UUID,
    now: datetime,
) -> TokenPair:
    refresh = security.new_refresh_token()
    session.add(
        RefreshToken(
            session_id=auth_session_id,
            token_hash=security.sha256_hex(refresh),
            issued_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    access, expires_in = security.create_access_token(settings, user_id, auth_session_id, now)
    await session.flush()
    return TokenPair(access_token=access, expires_in=expires_in, refresh_token=refresh)


async def login(
    session: AsyncSession,
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    username: str,
    password: str,
    client_address: str,
    user_agent: str | None,
    now: datetime,
) -> TokenPair:
    keys = throttle.ThrottleKeys.of(username, client_address)
    wait = await throttle.seconds_locked(session, keys, now)
    if wait:
        raise LoginLocked(wait)
    user = await session.scalar(select(User).where(User.username == username.strip()))
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    valid = await asyncio.to_thread(
        security.verify_password, password, user.password_hash if user else None
    )
    if user is None or not valid or not user.is_active:
        await throttle.record_failure(factory, settings, keys, now)
        raise InvalidCredentials()
    await throttle.clear_account(session, keys)
    if security.password_needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(security.hash_password, password)
    user.last_login_at = now
    auth_session = AuthSession(
        user_id=user.id,
        created_at=now,
        client_address=client_address,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(auth_session)
    await session.flush()
    return await _issue_tokens(session, settings, user.id, auth_session.id, now)


async def _revoke_session(
    factory: async_sessionmaker[AsyncSession], session_id: uuid.UUID, reason: str, now: datetime
) -> None:
    # Its own transaction: the refresh request that found the reuse answers 401 and rolls back.
    async with factory() as session, session.begin():
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason=reason)
        )


async def refresh(
    session: AsyncSession,
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    refresh_token: str,
    now: datetime,
) -> TokenPair:
    """Rotate: the presented token is spent and a new one issued. A spent token presented again
    means it was stolen (or the client is broken): the whole login is revoked."""
    row = (
        await session.execute(
            select(RefreshToken, AuthSession, User)
            .join(AuthSession, RefreshToken.session_id == AuthSession.id)
            .join(User, AuthSession.user_id == User.id)
            .where(RefreshToken.token_hash == security.sha256_hex(refresh_token))
        )
    ).one_or_none()
    if row is None:
        raise InvalidRefreshToken()
    token, auth_session, user = row
    if auth_session.revoked_at is not None or not user.is_active:
        raise InvalidRefreshToken("The session has been revoked")
    if token.expires_at <= now:
        raise InvalidRefreshToken("The refresh token has expired")
    spent = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult; execute() is typed as Result
        session_id = auth_session.id
        # This request's own write would hold SQLite's write lock against the revocation.
        await session.rollback()
        await _revoke_session(factory, session_id, "refresh_token_reuse", now)
        raise InvalidRefreshToken("The refresh token was already used; the session is revoked")
    return await _issue_tokens(session, settings, user.id, auth_session.id, now)


async def logout(session: AsyncSession, principal: Principal, now: datetime) -> None:
    if principal.session_id is None:
        return
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == principal.session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason="logout")
    )


# Every role of a user with the name (and, for regions, the path) of its place. Built once with
# bind parameters: constructing a statement of four aliased joins costs milliseconds of CPU, and
# every authenticated request needs one.
_GRANT_COLUMNS = (
    RoleAssignment.id,
    RoleAssignment.user_id,
    RoleAssignment.role,
    RoleAssignment.region_id,
    RoleAssignment.community_id,
    RoleAssignment.unit_id,
    RoleAssignment.branch_id,
    RoleAssignment.company_id,
    _GRANT_REGION.name.label("region_name"),
    _GRANT_REGION.path.label("region_path"),
    _GRANT_COMMUNITY.name.label("community_name"),
    _GRANT_UNIT.name.label("unit_name"),
    _GRANT_BRANCH.name.label("branch_name"),
    _GRANT_COMPANY.name.label("company_name"),
)


def _with_grant_places(stmt: _SelectT) -> _SelectT:
    return (
        stmt.outerjoin(_GRANT_REGION, RoleAssignment.region_id == _GRANT_REGION.id)
        .outerjoin(_GRANT_COMMUNITY, RoleAssignment.community_id == _GRANT_COMMUNITY.id)
        .outerjoin(_GRANT_UNIT, RoleAssignment.unit_id == _GRANT_UNIT.id)
        .outerjoin(_GRANT_BRANCH, RoleAssignment.branch_id == _GRANT_BRANCH.id)
        .outerjoin(_GRANT_COMPANY, RoleAssignment.company_id == _GRANT_COMPANY.id)
        .order_by(RoleAssignment.created_at, RoleAssignment.id)
    )


_GRANTS_OF_USERS = _with_grant_places(
    select(*_GRANT_COLUMNS).where(RoleAssignment.user_id.in_(bindparam("user_ids", expanding=True)))
)

# The caller of a bearer token, its session and its grants in one round trip: one row per grant
# (or one row with empty grant columns for a user without roles).
_TOKEN_HOLDER = _with_grant_places(
    select(User.username, User.is_active, AuthSession.revoked_at, *_GRANT_COLUMNS)
    .join(AuthSession, AuthSession.user_id == User.id)
    .outerjoin(RoleAssignment, RoleAssignment.user_id == User.id)
    .where(User.id == bindparam("user_id"), AuthSession.id == bindparam("session_id"))
)


def _grant(row: Any) -> RoleGrant:
    """A RoleGrant from the ``_GRANT_COLUMNS`` of a row."""
    scope_type = ROLE_SCOPE[row.role]
    scope_id, scope_name = {
        ScopeType.region: (row.region_id, row.region_name),
        ScopeType.community: (row.community_id, row.community_name),
        ScopeType.unit: (row.unit_id, row.unit_name),
        ScopeType.branch: (row.branch_id, row.branch_name),
        ScopeType.company: (row.company_id, row.company_name),
        None: (None, None),
    }[scope_type]
    return RoleGrant(
        role=row.role,
        scope_type=scope_type,
        scope_id=scope_id,
        scope_name=scope_name,
        scope_path=row.region_path if scope_type is ScopeType.region else None,
        assignment_id=row.id,
    )


async def load_grants_for_users(
    session: AsyncSession, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[RoleGrant, ...]]:
    """Every role of each user with the name (and, for regions, the path) of its place."""
    if not user_ids:
        return {}
    rows = await session.execute(_GRANTS_OF_USERS, {"user_ids": list(user_ids)})
    grants: dict[uuid.UUID, list[RoleGrant]] = {uid: [] for uid in user_ids}
    for row in rows:
        grants[row.user_id].append(_grant(row))
    return {uid: tuple(g) for uid, g in grants.items()}


async def load_grants(session: AsyncSession, user_id: uuid.UUID) -> tuple[RoleGrant, ...]:
    return (await load_grants_for_users(session, [user_id]))[user_id]


async def exchange_key(
    session: AsyncSession, settings: Settings, key: str, now: datetime
) -> KeyToken:
    """A key token for a dashboard key (401 for a key that is not valid or revoked)."""
    if security.split_api_key(key) is None:
        raise Unauthorized("The API key is not valid")
    principal = await principal_from_api_key(session, key, now)
    return renew_key_token(settings, principal, now)


def renew_key_token(settings: Settings, principal: Principal, now: datetime) -> KeyToken:
    """A fresh key token for a caller signed in with a dashboard key or its token."""
    if principal.api_key_id is None:
        raise Forbidden("Only a dashboard key's token is renewed here; people use /auth/refresh")
    token, expires_in = security.create_key_token(settings, principal.api_key_id, now)
    return KeyToken(access_token=token, expires_in=expires_in)


async def renew_presented_token(
    session: AsyncSession, settings: Settings, token: str | None, now: datetime
) -> KeyToken:
    """Renew what a page presents: its key token, even one that expired within the grace (a
    wall screen that lost the network for an hour signs in again by itself, having kept no
    key), as long as the key is not revoked; or a key itself. A person's token is 403."""
    if not token:
        raise Unauthorized("Sign in first: send `Authorization: Bearer <token>`")
    if security.split_api_key(token) is not None:
        principal = await principal_from_api_key(session, token, now)
        return renew_key_token(settings, principal, now)
    try:
        key_id = security.key_token_id(settings, token, grace=KEY_TOKEN_RENEWAL_GRACE)
    except security.InvalidToken as exc:
        raise Unauthorized(str(exc)) from exc
    if key_id is None:
        await authenticate(session, settings, token, now)  # 401 if it is no valid token at all
        raise Forbidden("Only a dashboard key's token is renewed here; people use /auth/refresh")
    principal = await principal_from_key_token(session, key_id, now)
    return renew_key_token(settings, principal, now)


async def authenticate(
    session: AsyncSession, settings: Settings, token: str, now: datetime
) -> Principal:
    if security.split_api_key(token) is not None:
        return await principal_from_api_key(session, token, now)
    try:
        key_id = security.key_token_id(settings, token)
        if key_id is not None:
            return await principal_from_key_token(session, key_id, now)
        claims = security.decode_access_token(settings, token)
    except security.InvalidToken as exc:
        raise Unauthorized(str(exc)) from exc
    rows = (
        await session.execute(
            _TOKEN_HOLDER, {"user_id": claims.user_id, "session_id": claims.session_id}
        )
    ).all()
    if not rows or not rows[0].is_active:
        raise Unauthorized("The token is not valid")
    if rows[0].revoked_at is not None:
        raise Unauthorized("The session has been revoked")
    return Principal(
        user_id=claims.user_id,
        username=rows[0].username,
        grants=tuple(_grant(row) for row in rows if row.id is not None),
        session_id=claims.session_id,
    )
