from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.deps import AdminPrincipal, CurrentPrincipal
from app.core.deps import SessionDep
from app.core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, error_responses
from app.core.pagination import Page, PageParams, page_params
from app.core.params import CourierBranchId, CourierCompanyId
from app.org.couriers import service
from app.org.couriers.schemas import (
    CourierBranchCreate,
    CourierBranchRead,
    CourierBranchUpdate,
    CourierCompanyCreate,
    CourierCompanyRead,
    CourierCompanyUpdate,
)
from app.org.exceptions import NameTaken, StillInUse

router = APIRouter(tags=["couriers"])

_Q = Annotated[str | None, Query(max_length=100, description="Part of the name")]


@router.get(
    "/courier-companies",
    response_model=Page[CourierCompanyRead],
    summary="Courier companies (快递企业), by name",
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def list_companies(
    _: CurrentPrincipal,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    q: _Q = None,
) -> Page[CourierCompanyRead]:
    rows, cursor = await service.list_companies(session, page, q)
    return Page(items=[CourierCompanyRead.model_validate(c) for c in rows], next_cursor=cursor)


@router.get(
    "/courier-companies/{company_id}",
    response_model=CourierCompanyRead,
    summary="A courier company",
    responses=error_responses(Unauthorized, NotFound, ValidationFailed),
)
async def read_company(
    company_id: CourierCompanyId, _: CurrentPrincipal, session: SessionDep
) -> CourierCompanyRead:
    return CourierCompanyRead.model_validate(await service.get_company(session, company_id))


@router.post(
    "/courier-companies",
    response_model=CourierCompanyRead,
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    summary="Add a courier company; names are unique",
    responses=error_responses(Unauthorized, Forbidden, NameTaken, ValidationFailed),
)
async def create_company(
    body: CourierCompanyCreate, _: AdminPrincipal, session: SessionDep
) -> CourierCompanyRead:
    return CourierCompanyRead.model_validate(await service.create_company(session, body))


@router.patch(
    "/courier-companies/{company_id}",
    response_model=CourierCompanyRead,
    tags=["admin"],
    summary="Rename a courier company",
    responses=error_responses(Unauthorized, Forbidden, NotFound, NameTaken, ValidationFailed),
)
async def update_company(
    company_id: CourierCompanyId, body: CourierCompanyUpdate, _: AdminPrincipal, session: SessionDep
) -> CourierCompanyRead:
    return CourierCompanyRead.model_validate(
        await service.update_company(session, company_id, body)
    )


@router.delete(
    "/courier-companies/{company_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["admin"],
    summary="Delete a courier company without branches",
    responses=error_responses(Unauthorized, Forbidden, NotFound, StillInUse, ValidationFailed),
)
async def delete_company(
    company_id: CourierCompanyId, _: AdminPrincipal, session: SessionDep
) -> None:
    await service.delete_company(session, company_id)


@router.get(
    "/courier-branches",
    response_model=Page[CourierBranchRead],
    summary="Courier branches (网点), by name",
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def list_branches(
    _: CurrentPrincipal,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    company_id: uuid.UUID | None = None,
    region_id: Annotated[
        uuid.UUID | None, Query(description="Only branches in this region's subtree")
    ] = None,
    q: _Q = None,
) -> Page[CourierBranchRead]:
    items, cursor = await service.list_branches(
        session, page, company_id=company_id, region_id=region_id, q=q
    )
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/courier-branches/{branch_id}",
    response_model=CourierBranchRead,
    summary="A courier branch",
    responses=error_responses(Unauthorized, NotFound, ValidationFailed),
)
async def read_branch(
    branch_id: CourierBranchId, _: CurrentPrincipal, session: SessionDep
) -> CourierBranchRead:
    return await service.get_branch(session, branch_id)


@router.post(
    "/courier-branches",
    response_model=CourierBranchRead,
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    summary="Add a branch to a courier company; names are unique within the company",
    responses=error_responses(Unauthorized, Forbidden, NameTaken, ValidationFailed),
)
async def create_branch(
    body: CourierBranchCreate, _: AdminPrincipal, session: SessionDep
) -> CourierBranchRead:
    return await service.create_branch(session, body)


@router.patch(
    "/courier-branches/{branch_id}",
    response_model=CourierBranchRead,
    tags=["admin"],
    summary="Change a courier branch",
    responses=error_responses(Unauthorized, Forbidden, NotFound, NameTaken, ValidationFailed),
)
async def update_branch(
    branch_id: CourierBranchId, body: CourierBranchUpdate, _: AdminPrincipal, session: SessionDep
) -> CourierBranchRead:
    return await service.update_branch(session, branch_id, body)


@router.delete(
    "/courier-branches/{branch_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["admin"],
    summary="Delete a courier branch",
    description="Refused (409) while couriers hold roles there.",
    responses=error_responses(Unauthorized, Forbidden, NotFound, StillInUse, ValidationFailed),
)
async def delete_branch(branch_id: CourierBranchId, _: AdminPrincipal, session: SessionDep) -> None:
    await service.delete_branch(session, branch_id)
