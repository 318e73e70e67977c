"""Users: the directory each caller may see, self-service, and admin management of roles."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal, RoleGrant
from app.auth.service import load_grants_for_users
from app.core import security
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.pagination import PageParams, SortKey, paginate
from app.core.phones import mask_phone
from app.models import (
    AuthSession,
    CheckIn,
    Community,
    CourierBranch,
    CourierCompany,
    Region,
    RoleAssignment,
    Unit,
    User,
)
from app.models.audit import AuditAction
from app.models.enums import ROLE_SCOPE, CheckInStatus, Role, ScopeType
from app.privacy.administrators import refuse_last_administrator
from app.privacy.audit import AuditContext, record_personal_data_access
from app.privacy.exceptions import AccountCancelled
from app.privacy.usernames import retired_username_hash
from app.users.schemas import (
    MeUpdate,
    ReporterRegister,
    RoleAssign,
    RoleRead,
    UserCreate,
    UserRead,
    UserUpdate,
)

DIRECTORY_ROLES = (
    Role.supervisor,
    Role.viewer,
    Role.community_staff,
    Role.grid_worker,
    Role.unit_staff,
)


def role_read(grant: RoleGrant) -> RoleRead:
    return RoleRead(
        id=grant.assignment_id,
        role=grant.role,
        scope_type=grant.scope_type,
        scope_id=grant.scope_id,
        scope_name=grant.scope_name,
    )


def unmasked_for(viewer: Principal, user: User) -> list[str]:
    """The fields of ``user`` shown to ``viewer`` in full although others see them masked:
    an administrator reading someone else's phone. Such reads go to the audit log."""
    if viewer.is_admin and viewer.user_id != user.id and user.phone:
        return ["phone"]
    return []


def to_read(
    user: User, grants: Sequence[RoleGrant], viewer: Principal, model: type[UserRead] = UserRead
) -> UserRead:
    sees_phone = viewer.is_admin or viewer.user_id == user.id
    return model(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        phone=user.phone if sees_phone else mask_phone(user.phone),
        is_active=user.is_active,
        created_at=user.created_at,
        cancelled_at=user.cancelled_at,
        last_login_at=user.last_login_at,
        roles=[role_read(g) for g in grants],
    )


async def _record_unmasked_reads(
    session: AsyncSession, principal: Principal, users: Sequence[User], audit: AuditContext | None
) -> None:
    if audit is None:
        return
    by_fields: dict[tuple[str, ...], list[uuid.UUID]] = {}
    for user in users:
        if unmasked := unmasked_for(principal, user):
            by_fields.setdefault(tuple(unmasked), []).append(user.id)
    for fields, subject_ids in by_fields.items():
        await record_personal_data_access(
            session, audit, AuditAction.user_read_unmasked, subject_ids, {"fields": list(fields)}
        )


def _region_subtree(paths: Sequence[str]) -> Select[uuid.UUID]:
    return select(Region.id).where(or_(*(Region.path.startswith(p) for p in paths)))


def visible_users(principal: Principal) -> Select[User]:
    """Users the caller may look up. Admins: everyone. Supervisors and viewers: people holding
    a role anywhere in their regions. Community staff and grid workers: their community's
    people and the couriers checked in with it. Unit staff: their unit's colleagues."""
    stmt = select(User)
    if principal.is_admin:
        return stmt
    conditions: list[ColumnElement[bool]] = []
    if paths := principal.region_paths(Role.supervisor, Role.viewer):
        regions = _region_subtree(paths)
        in_region = exists().where(
            RoleAssignment.user_id == User.id,
            or_(
                RoleAssignment.region_id.in_(regions),
                RoleAssignment.community_id.in_(
                    select(Community.id).where(Community.region_id.in_(regions))
                ),
                RoleAssignment.unit_id.in_(select(Unit.id).where(Unit.region_id.in_(regions))),
                RoleAssignment.branch_id.in_(
                    select(CourierBranch.id).where(CourierBranch.region_id.in_(regions))
                ),
            ),
        )
        conditions.append(in_region)
    if communities := principal.scope_ids(Role.community_staff, Role.grid_worker):
        conditions.append(
            exists().where(
                RoleAssignment.user_id == User.id, RoleAssignment.community_id.in_(communities)
            )
        )
        conditions.append(
            exists().where(
                CheckIn.courier_id == User.id,
                CheckIn.community_id.in_(communities),
                CheckIn.status == CheckInStatus.approved,
            )
        )
    if units := principal.scope_ids(Role.unit_staff):
        conditions.append(
            exists().where(RoleAssignment.user_id == User.id, RoleAssignment.unit_id.in_(units))
        )
    if principal.user_id is not None:
        conditions.append(User.id == principal.user_id)
    return stmt.where(or_(*conditions)) if conditions else stmt.where(false())


async def list_users(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    role: Role | None = None,
    community_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    q: str | None = None,
    audit: AuditContext | None = None,
) -> tuple[list[UserRead], str | None]:
    """A page of the directory; with ``audit``, reads of fields shown unmasked are recorded."""
    if not principal.has_any(*DIRECTORY_ROLES):
        raise Forbidden("Your role has no user directory")
    stmt = visible_users(principal)
    if role is not None or community_id is not None or unit_id is not None:
        match = [RoleAssignment.user_id == User.id]
        if role is not None:
            match.append(RoleAssignment.role == role)
        if community_id is not None:
            match.append(RoleAssignment.community_id == community_id)
        if unit_id is not None:
            match.append(RoleAssignment.unit_id == unit_id)
        stmt = stmt.where(exists().where(*match))
    if q:  # the words as they are: a % or _ in them is no wildcard
        words = q.strip()
        stmt = stmt.where(
            or_(
                User.username.icontains(words, autoescape=True),
                User.display_name.icontains(words, autoescape=True),
            )
        )
    users, cursor = await paginate(
        session, stmt, [SortKey(User.username), SortKey(User.id)], params
    )
    grants = await load_grants_for_users(session, [u.id for u in users])
    await _record_unmasked_reads(session, principal, users, audit)
    return [to_read(u, grants[u.id], principal) for u in users], cursor


async def get_visible_user(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    audit: AuditContext | None = None,
) -> UserRead:
    """One person of the caller's directory; with ``audit``, as ``list_users``."""
    user = await session.scalar(visible_users(principal).where(User.id == user_id))
    if user is None:
        raise NotFound("No such user")
    grants = await load_grants_for_users(session, [user.id])
    await _record_unmasked_reads(session, principal, [user], audit)
    return to_read(user, grants[user.id], principal)


async def _scope_exists(session: AsyncSession, scope_type: ScopeType, scope_id: uuid.UUID) -> bool:
    model = {
        ScopeType.region: Region,
        ScopeType.community: Community,
        ScopeType.unit: Unit,
        ScopeType.branch: CourierBranch,
        ScopeType.company: CourierCompany,
    }[scope_type]
    return await session.get(model, scope_id) is not None


async def _role_assignment(
    session: AsyncSession, user_id: uuid.UUID, spec: RoleAssign, loc: Sequence[str | int]
) -> RoleAssignment:
    scope_type = ROLE_SCOPE[spec.role]
    if scope_type is None:
        if spec.scope_id is not None:
            raise ValidationFailed.at([*loc, "scope_id"], f"the {spec.role} role has no scope")
        return RoleAssignment(user_id=user_id, role=spec.role)
    if spec.scope_id is None:
        raise ValidationFailed.at(
            [*loc, "scope_id"], f"the {spec.role} role needs a {scope_type} as its scope"
        )
    if not await _scope_exists(session, scope_type, spec.scope_id):
        raise ValidationFailed.at([*loc, "scope_id"], f"no such {scope_type}")
    return RoleAssignment(user_id=user_id, role=spec.role, **{f"{scope_type}_id": spec.scope_id})


async def _username_free(session: AsyncSession, username: str) -> None:
    # A cancelled account's former name stays taken: someone else under it could pass for
    # the person in the cases they filed and the people who knew them.
    taken = await session.scalar(
        select(User.id).where(
            or_(
                User.username == username,
                User.retired_username_hash == retired_username_hash(username),
            )
        )
    )
    if taken is not None:
        raise Conflict(f"The username {username!r} is taken")


async def create_user(session: AsyncSession, body: UserCreate, principal: Principal) -> UserRead:
    await _username_free(session, body.username)
    user = User(
        username=body.username,
        display_name=body.display_name,
        phone=body.phone,
        password_hash=await asyncio.to_thread(security.hash_password, body.password),
    )
    session.add(user)
    await session.flush()
    for i, spec in enumerate(body.roles):
        session.add(await _role_assignment(session, user.id, spec, ["body", "roles", i]))
    await _flush_unique(session, f"The username {body.username!r} is taken")
    return await get_visible_user(session, principal, user.id)


async def register_reporter(session: AsyncSession, body: ReporterRegister) -> User:
    await _username_free(session, body.username)
    user = User(
        username=body.username,
        display_name=body.display_name,
        phone=body.phone,
        password_hash=await asyncio.to_thread(security.hash_password, body.password),
    )
    session.add(user)
    await _flush_unique(session, f"The username {body.username!r} is taken")
    session.add(RoleAssignment(user_id=user.id, role=Role.reporter))
    await session.flush()
    return user


async def _flush_unique(session: AsyncSession, message: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request took the name between check and insert
        raise Conflict(message) from exc


async def _get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No such user")
    return user


async def _get_live_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    """A user an administrator may still change: a cancelled account stays as it was left
    (reactivating it or giving it a password or a role would bring back a closed account)."""
    user = await _get_user(session, user_id)
    if user.cancelled_at is not None:
        raise AccountCancelled()
    return user


async def _revoke_sessions(
    session: AsyncSession,
    user_id: uuid.UUID,
    now: datetime,
    reason: str,
    keep: uuid.UUID | None = None,
) -> None:
    stmt = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    await session.execute(stmt.values(revoked_at=now, revoke_reason=reason))


async def update_user(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    body: UserUpdate,
    now: datetime,
) -> UserRead:
    user = await _get_live_user(session, user_id)
    changes = body.model_dump(exclude_unset=True)
    if "password" in changes:
        user.password_hash = await asyncio.to_thread(
            security.hash_password, changes.pop("password")
        )
        await _revoke_sessions(session, user.id, now, "password_reset")
    if changes.get("is_active") is False:
        await refuse_last_administrator(session, user)
        await _revoke_sessions(session, user.id, now, "deactivated")
    for field, value in changes.items():
        setattr(user, field, value)
    await session.flush()
    return await get_visible_user(session, principal, user.id)


async def update_me(session: AsyncSession, principal: Principal, body: MeUpdate) -> None:
    assert principal.user_id is not None
    user = await _get_user(session, principal.user_id)
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    await session.flush()


async def change_password(
    session: AsyncSession, principal: Principal, current: str, new: str, now: datetime
) -> None:
    assert principal.user_id is not None
    user = await _get_user(session, principal.user_id)
    if not await asyncio.to_thread(security.verify_password, current, user.password_hash):
        raise ValidationFailed.at(["body", "current_password"], "the current password is wrong")
    user.password_hash = await asyncio.to_thread(security.hash_password, new)
    # Other devices must sign in again; this one keeps working.
    await _revoke_sessions(session, user.id, now, "password_changed", keep=principal.session_id)
    await session.flush()


async def assign_role(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, spec: RoleAssign
) -> UserRead:
    await _get_live_user(session, user_id)
    assignment = await _role_assignment(session, user_id, spec, ["body"])
    duplicate = await session.scalar(
        select(RoleAssignment.id).where(
            RoleAssignment.user_id == user_id,
            RoleAssignment.role == spec.role,
            RoleAssignment.region_id == assignment.region_id,
            RoleAssignment.community_id == assignment.community_id,
            RoleAssignment.unit_id == assignment.unit_id,
            RoleAssignment.branch_id == assignment.branch_id,
        )
    )
    if duplicate is not None:
        raise Conflict("The user already holds this role there")
    session.add(assignment)
    await session.flush()
    return await get_visible_user(session, principal, user_id)


async def remove_role(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, assignment_id: uuid.UUID
) -> UserRead:
    assignment = await session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.user_id != user_id:
        raise NotFound("No such role assignment")
    if assignment.role == Role.admin:
        await refuse_last_administrator(session, await session.get_one(User, user_id))
    await session.delete(assignment)
    await session.flush()
    return await get_visible_user(session, principal, user_id)
