"""API keys: created by administrators for a region, read-only (dashboards, BI tools) or
filing (integrations, through Open311, under an account of their own); and who calls with one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal, RoleGrant
from app.core import security
from app.core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from app.models import ApiKey, Region, RoleAssignment, User
from app.models.enums import Role, ScopeType

# How stale an API key's last-used time may get before a request writes it again.
_API_KEY_TOUCH_INTERVAL = timedelta(minutes=10)
# The username of a filing key's account: this and the key's prefix.
INTEGRATION_USERNAME_PREFIX = "integration-"


async def principal_from_api_key(session: AsyncSession, token: str, now: datetime) -> Principal:
    prefix = security.split_api_key(token)
    row = (
        await session.execute(
            select(ApiKey, Region)
            .join(Region, ApiKey.region_id == Region.id)
            .where(ApiKey.prefix == prefix)
        )
    ).one_or_none()
    if row is None or not security.api_key_matches(token, row[0].key_hash):
        raise Unauthorized("The API key is not valid")
    return _key_holder(*row, now)


async def principal_from_key_token(
    session: AsyncSession, key_id: uuid.UUID, now: datetime
) -> Principal:
    row = (
        await session.execute(
            select(ApiKey, Region)
            .join(Region, ApiKey.region_id == Region.id)
            .where(ApiKey.id == key_id)
        )
    ).one_or_none()
    if row is None:
        raise Unauthorized("The API key is not valid")
    return _key_holder(*row, now)


def _region_grant(region: Region) -> RoleGrant:
    return RoleGrant(
        role=Role.viewer,
        scope_type=ScopeType.region,
        scope_id=region.id,
        scope_name=region.name,
        scope_path=region.path,
    )


def _key_holder(key: ApiKey, region: Region, now: datetime) -> Principal:
    """A key's caller: a viewer of the key's region, while the key is not revoked."""
    if key.revoked_at is not None:
        raise Unauthorized("The API key has been revoked")
    if key.last_used_at is None or now - key.last_used_at > _API_KEY_TOUCH_INTERVAL:
        key.last_used_at = now
    return Principal(
        user_id=None, username=None, grants=(_region_grant(region),), api_key_id=key.id
    )


@dataclass(frozen=True)
class Filer:
    """An integration filing reports: as its account (a reporter), with the key's region as the
    place its reports must lie in and the queue of those no community covers."""

    principal: Principal
    api_key_id: uuid.UUID
    integration: str  # the key's name
    region_path: str


async def filing_key_holder(session: AsyncSession, token: str, now: datetime) -> Filer:
    """The caller of a filing key; 401 for a key that is not valid or revoked, 403 for a key
    that only reads."""
    if security.split_api_key(token) is None:
        raise Unauthorized("The API key is not valid")
    reader = await principal_from_api_key(session, token, now)
    key = await session.get(ApiKey, reader.api_key_id)
    assert key is not None
    if not key.may_file or key.reporter_id is None:
        raise Forbidden("This API key reads cases but may not file them")
    (region_grant,) = reader.grants
    assert region_grant.scope_path is not None
    reporter = RoleGrant(role=Role.reporter, scope_type=None, scope_id=None, scope_name=None)
    principal = Principal(
        user_id=key.reporter_id,
        username=f"{INTEGRATION_USERNAME_PREFIX}{key.prefix}",
        grants=(reporter, region_grant),
        api_key_id=key.id,
    )
    return Filer(principal, key.id, key.name, region_grant.scope_path)


async def create_api_key(
    session: AsyncSession,
    *,
    name: str,
    region_id: uuid.UUID,
    may_file: bool,
    created_by: uuid.UUID | None,
    now: datetime,
) -> tuple[ApiKey, str]:
    if await session.get(Region, region_id) is None:
        raise ValidationFailed.at(["body", "region_id"], "no such region")
    new = security.new_api_key()
    key = ApiKey(
        name=name,
        prefix=new.prefix,
        key_hash=new.key_hash,
        region_id=region_id,
        created_by_id=created_by,
        created_at=now,
        may_file=may_file,
    )
    if may_file:
        key.reporter_id = await _integration_account(session, name, new.prefix, now)
    session.add(key)
    await session.flush()
    return key, new.secret


async def _integration_account(
    session: AsyncSession, name: str, prefix: str, now: datetime
) -> uuid.UUID:
    """The account a filing key's reports are filed under: named after the key, a reporter,
    with no password (nobody signs in as it)."""
    account = User(
        username=f"{INTEGRATION_USERNAME_PREFIX}{prefix}",
        display_name=name,
        password_hash=security.NO_PASSWORD,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    await session.flush()
    session.add(RoleAssignment(user_id=account.id, role=Role.reporter, created_at=now))
    return account.id


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc()))).all())


async def revoke_api_key(session: AsyncSession, key_id: uuid.UUID, now: datetime) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("No such API key")
    if key.revoked_at is None:
        key.revoked_at = now
    await session.flush()
    return key
