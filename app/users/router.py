from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.deps import AdminPrincipal, CurrentPrincipal, UserPrincipal
from app.auth.principal import Principal
from app.auth.service import load_grants_for_users
from app.core.deps import ClockDep, SessionDep
from app.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
    error_responses,
)
from app.core.pagination import Page, PageParams, page_params
from app.core.params import RoleAssignmentId, UserId
from app.models import User
from app.models.enums import Role
from app.privacy.deps import AuditContextDep
from app.privacy.exceptions import AccountCancelled, LastAdministrator
from app.users import service
from app.users.schemas import (
    ApiKeyMe,
    MeRead,
    MeUpdate,
    PasswordChange,
    ReporterRegister,
    RoleAssign,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(tags=["users"])


@router.get(
    "/me",
    response_model=MeRead | ApiKeyMe,
    summary="Who am I: the user and every role with its place",
    responses=error_responses(Unauthorized),
)
async def read_me(principal: CurrentPrincipal, session: SessionDep) -> MeRead | ApiKeyMe:
    if principal.user_id is None:
        assert principal.api_key_id is not None
        return ApiKeyMe(
            api_key_id=principal.api_key_id,
            roles=[service.role_read(g) for g in principal.grants],
        )
    user = await session.get_one(User, principal.user_id)
    read = service.to_read(user, principal.grants, principal, MeRead)
    assert isinstance(read, MeRead)
    return read


@router.patch(
    "/me",
    response_model=MeRead,
    summary="Change my display name or phone",
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def update_me(body: MeUpdate, principal: UserPrincipal, session: SessionDep) -> MeRead:
    await service.update_me(session, principal, body)
    assert principal.user_id is not None
    user = await session.get_one(User, principal.user_id)
    read = service.to_read(user, principal.grants, principal, MeRead)
    assert isinstance(read, MeRead)
    return read


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change my password (signs out my other devices)",
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def change_password(
    body: PasswordChange, principal: UserPrincipal, session: SessionDep, clock: ClockDep
) -> None:
    await service.change_password(
        session, principal, body.current_password, body.new_password, clock.now()
    )


@router.post(
    "/auth/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    tags=["auth"],
    summary="Sign up as a reporter (resident or volunteer)",
    responses=error_responses(Conflict, ValidationFailed),
)
async def register(body: ReporterRegister, session: SessionDep) -> UserRead:
    user = await service.register_reporter(session, body)
    grants = await load_grants_for_users(session, [user.id])
    return service.to_read(user, grants[user.id], Principal.for_user(user.id))


@router.get(
    "/users",
    response_model=Page[UserRead],
    summary="The people the caller may see (their community's, unit's or region's)",
    description=(
        "Phones are masked except to their owner and administrators; an administrator's read "
        "of other people's phones is recorded in the audit log."
    ),
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def list_users(
    principal: CurrentPrincipal,
    session: SessionDep,
    audit: AuditContextDep,
    page: Annotated[PageParams, Depends(page_params)],
    role: Role | None = None,
    community_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[UserRead]:
    items, cursor = await service.list_users(
        session,
        principal,
        page,
        role=role,
        community_id=community_id,
        unit_id=unit_id,
        q=q,
        audit=audit,
    )
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/users/{user_id}",
    response_model=UserRead,
    responses=error_responses(Unauthorized, NotFound),
)
async def read_user(
    user_id: UserId, principal: CurrentPrincipal, session: SessionDep, audit: AuditContextDep
) -> UserRead:
    return await service.get_visible_user(session, principal, user_id, audit)


@router.post(
    "/users",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    responses=error_responses(Unauthorized, Forbidden, Conflict, ValidationFailed),
)
async def create_user(body: UserCreate, principal: AdminPrincipal, session: SessionDep) -> UserRead:
    return await service.create_user(session, body, principal)


@router.patch(
    "/users/{user_id}",
    response_model=UserRead,
    tags=["admin"],
    summary="Update a user; a new password or deactivation signs them out everywhere",
    responses=error_responses(
        Unauthorized, Forbidden, NotFound, ValidationFailed, AccountCancelled, LastAdministrator
    ),
)
async def update_user(
    user_id: UserId,
    body: UserUpdate,
    principal: AdminPrincipal,
    session: SessionDep,
    clock: ClockDep,
) -> UserRead:
    return await service.update_user(session, principal, user_id, body, clock.now())


@router.post(
    "/users/{user_id}/roles",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed),
)
async def assign_role(
    user_id: UserId, body: RoleAssign, principal: AdminPrincipal, session: SessionDep
) -> UserRead:
    return await service.assign_role(session, principal, user_id, body)


@router.delete(
    "/users/{user_id}/roles/{assignment_id}",
    response_model=UserRead,
    tags=["admin"],
    responses=error_responses(Unauthorized, Forbidden, NotFound, LastAdministrator),
)
async def remove_role(
    user_id: UserId, assignment_id: RoleAssignmentId, principal: AdminPrincipal, session: SessionDep
) -> UserRead:
    return await service.remove_role(session, principal, user_id, assignment_id)
