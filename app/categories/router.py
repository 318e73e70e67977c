from __future__ import annotations

from fastapi import APIRouter, status

from app.auth.deps import AdminPrincipal, CurrentPrincipal
from app.categories import service
from app.categories.schemas import CategoryCreate, CategoryRead, CategoryUpdate
from app.core.deps import SessionDep
from app.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
    error_responses,
)
from app.core.params import CategoryCode

router = APIRouter(tags=["categories"])


@router.get(
    "/categories",
    response_model=list[CategoryRead],
    summary="The category tree, top classes and leaves, with time limits",
    responses=error_responses(Unauthorized),
)
async def list_categories(
    principal: CurrentPrincipal, session: SessionDep, include_inactive: bool = False
) -> list[CategoryRead]:
    rows = await service.list_categories(session, include_inactive and principal.is_admin)
    return [CategoryRead.model_validate(c) for c in rows]


@router.get(
    "/categories/{code}",
    response_model=CategoryRead,
    responses=error_responses(Unauthorized, NotFound),
)
async def read_category(
    code: CategoryCode, _: CurrentPrincipal, session: SessionDep
) -> CategoryRead:
    return CategoryRead.model_validate(await service.get_category(session, code))


@router.post(
    "/categories",
    response_model=CategoryRead,
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    responses=error_responses(Unauthorized, Forbidden, Conflict, ValidationFailed),
)
async def create_category(
    body: CategoryCreate, _: AdminPrincipal, session: SessionDep
) -> CategoryRead:
    return CategoryRead.model_validate(await service.create_category(session, body))


@router.patch(
    "/categories/{code}",
    response_model=CategoryRead,
    tags=["admin"],
    summary="Change names, priority or time limits (configuration, not code)",
    responses=error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed),
)
async def update_category(
    code: CategoryCode, body: CategoryUpdate, _: AdminPrincipal, session: SessionDep
) -> CategoryRead:
    return CategoryRead.model_validate(await service.update_category(session, code, body))
