"""Courier companies (快递企业) and their branches (网点)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.errors import NotFound
from app.core.pagination import PageParams, SortKey, paginate
from app.models import CourierBranch, CourierCompany, Region, RoleAssignment
from app.org.couriers.schemas import (
    CourierBranchCreate,
    CourierBranchRead,
    CourierBranchUpdate,
    CourierCompanyCreate,
    CourierCompanyUpdate,
)
from app.org.exceptions import NameTaken, StillInUse
from app.org.persistence import (
    apply_changes,
    delete_or_raise,
    flush_or_raise,
    get_or_404,
    get_or_422,
    region_filter_path,
    region_subtree_ids,
)
from app.org.schemas import Ref


async def list_companies(
    session: AsyncSession, params: PageParams, q: str | None = None
) -> tuple[list[CourierCompany], str | None]:
    stmt = select(CourierCompany)
    if q and q.strip():
        term = q.strip()
        stmt = stmt.where(
            CourierCompany.name.icontains(term, autoescape=True)
            | CourierCompany.short_name.icontains(term, autoescape=True)
        )
    return await paginate(
        session, stmt, [SortKey(CourierCompany.name), SortKey(CourierCompany.id)], params
    )


async def get_company(session: AsyncSession, company_id: uuid.UUID) -> CourierCompany:
    return await get_or_404(session, CourierCompany, company_id, "courier company")


async def _check_company_name_free(
    session: AsyncSession, name: str, exclude: uuid.UUID | None = None
) -> None:
    stmt = select(CourierCompany.id).where(CourierCompany.name == name)
    if exclude is not None:
        stmt = stmt.where(CourierCompany.id != exclude)
    if await session.scalar(stmt.limit(1)) is not None:
        raise NameTaken(f"There is already a courier company named {name!r}")


async def create_company(session: AsyncSession, body: CourierCompanyCreate) -> CourierCompany:
    await _check_company_name_free(session, body.name)
    company = CourierCompany(**body.model_dump())
    session.add(company)
    await flush_or_raise(
        session, NameTaken(f"There is already a courier company named {body.name!r}")
    )
    return company


async def update_company(
    session: AsyncSession, company_id: uuid.UUID, body: CourierCompanyUpdate
) -> CourierCompany:
    company = await get_company(session, company_id)
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes:
        await _check_company_name_free(session, changes["name"], exclude=company.id)
    apply_changes(company, changes)
    await flush_or_raise(session, NameTaken("There is already a courier company of that name"))
    return company


async def delete_company(session: AsyncSession, company_id: uuid.UUID) -> None:
    company = await get_company(session, company_id)
    branches = await session.scalar(
        select(func.count()).where(CourierBranch.company_id == company.id)
    )
    if branches:
        raise StillInUse(f"{company.name} still has {branches} branch(es); delete them first")
    await delete_or_raise(
        session,
        delete(CourierCompany).where(CourierCompany.id == company.id),
        StillInUse(f"{company.name} is in use"),
    )


# --- branches -----------------------------------------------------------------------------


def branch_read(branch: CourierBranch, region: Region | None) -> CourierBranchRead:
    return CourierBranchRead(
        id=branch.id,
        name=branch.name,
        company=Ref.model_validate(branch.company),
        region=Ref.model_validate(region) if region is not None else None,
        address=branch.address,
    )


async def _branch_reads(
    session: AsyncSession, branches: list[CourierBranch]
) -> list[CourierBranchRead]:
    # CourierBranch has no relationship to its region; one query names them all.
    region_ids = {b.region_id for b in branches if b.region_id is not None}
    regions = {
        r.id: r for r in await session.scalars(select(Region).where(Region.id.in_(region_ids)))
    }
    return [
        branch_read(b, regions.get(b.region_id) if b.region_id is not None else None)
        for b in branches
    ]


async def list_branches(
    session: AsyncSession,
    params: PageParams,
    *,
    company_id: uuid.UUID | None = None,
    region_id: uuid.UUID | None = None,
    q: str | None = None,
) -> tuple[list[CourierBranchRead], str | None]:
    stmt = select(CourierBranch).options(selectinload(CourierBranch.company))
    if company_id is not None:
        await get_or_422(
            session, CourierCompany, company_id, ["query", "company_id"], "courier company"
        )
        stmt = stmt.where(CourierBranch.company_id == company_id)
    if region_id is not None:
        path = await region_filter_path(session, region_id)
        stmt = stmt.where(CourierBranch.region_id.in_(region_subtree_ids(path)))
    if q and q.strip():
        stmt = stmt.where(CourierBranch.name.icontains(q.strip(), autoescape=True))
    rows, cursor = await paginate(
        session, stmt, [SortKey(CourierBranch.name), SortKey(CourierBranch.id)], params
    )
    return await _branch_reads(session, rows), cursor


async def get_branch(session: AsyncSession, branch_id: uuid.UUID) -> CourierBranchRead:
    branch = await session.scalar(
        select(CourierBranch)
        .options(selectinload(CourierBranch.company))
        .where(CourierBranch.id == branch_id)
        .execution_options(populate_existing=True)
    )
    if branch is None:
        raise NotFound("No such courier branch")
    return (await _branch_reads(session, [branch]))[0]


async def _check_branch_name_free(
    session: AsyncSession, company_id: uuid.UUID, name: str, exclude: uuid.UUID | None = None
) -> None:
    stmt = select(CourierBranch.id).where(
        CourierBranch.company_id == company_id, CourierBranch.name == name
    )
    if exclude is not None:
        stmt = stmt.where(CourierBranch.id != exclude)
    if await session.scalar(stmt.limit(1)) is not None:
        raise NameTaken(f"The company already has a branch named {name!r}")


async def create_branch(session: AsyncSession, body: CourierBranchCreate) -> CourierBranchRead:
    await get_or_422(
        session, CourierCompany, body.company_id, ["body", "company_id"], "courier company"
    )
    if body.region_id is not None:
        await get_or_422(session, Region, body.region_id, ["body", "region_id"], "region")
    await _check_branch_name_free(session, body.company_id, body.name)
    branch = CourierBranch(**body.model_dump())
    session.add(branch)
    await flush_or_raise(
        session, NameTaken(f"The company already has a branch named {body.name!r}")
    )
    return await get_branch(session, branch.id)


async def update_branch(
    session: AsyncSession, branch_id: uuid.UUID, body: CourierBranchUpdate
) -> CourierBranchRead:
    branch = await get_or_404(session, CourierBranch, branch_id, "courier branch")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("region_id") is not None:
        await get_or_422(session, Region, changes["region_id"], ["body", "region_id"], "region")
    if "name" in changes:
        await _check_branch_name_free(
            session, branch.company_id, changes["name"], exclude=branch.id
        )
    apply_changes(branch, changes)
    await flush_or_raise(session, NameTaken("The company already has a branch of that name"))
    return await get_branch(session, branch.id)


async def delete_branch(session: AsyncSession, branch_id: uuid.UUID) -> None:
    """Past check-ins keep their community but lose the branch. Not while couriers hold roles
    there: the database would drop their roles with it and they could no longer report."""
    branch = await get_or_404(session, CourierBranch, branch_id, "courier branch")
    holders = await session.scalar(
        select(func.count()).where(RoleAssignment.branch_id == branch.id)
    )
    if holders:
        raise StillInUse(
            f"{holders} courier(s) hold roles in {branch.name}; move or remove them first"
        )
    await delete_or_raise(
        session,
        delete(CourierBranch).where(CourierBranch.id == branch.id),
        StillInUse(f"{branch.name} is in use"),
    )
