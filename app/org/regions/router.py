from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.deps import AdminPrincipal, CurrentPrincipal
from app.core.deps import SessionDep
from app.core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, error_responses
from app.core.params import RegionId
from app.org.exceptions import NameTaken, StillInUse
from app.org.regions import service
from app.org.regions.schemas import RegionCreate, RegionDetail, RegionRead, RegionUpdate

router = APIRouter(tags=["regions"])


@router.get(
    "/regions",
    response_model=list[RegionRead],
    summary="The region tree as a flat list, parents before children",
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def list_regions(
    _: CurrentPrincipal,
    session: SessionDep,
    parent_id: Annotated[
        uuid.UUID | None, Query(description="Only the direct children of this region")
    ] = None,
) -> list[RegionRead]:
    return [RegionRead.model_validate(r) for r in await service.list_regions(session, parent_id)]


@router.get(
    "/regions/{region_id}",
    response_model=RegionDetail,
    summary="A region with its ancestors and children",
    responses=error_responses(Unauthorized, NotFound, ValidationFailed),
)
async def read_region(
    region_id: RegionId, _: CurrentPrincipal, session: SessionDep
) -> RegionDetail:
    return await service.get_region_detail(session, region_id)


@router.post(
    "/regions",
    response_model=RegionDetail,
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    summary="Add a region under a parent (or a root)",
    responses=error_responses(Unauthorized, Forbidden, NameTaken, ValidationFailed),
)
async def create_region(body: RegionCreate, _: AdminPrincipal, session: SessionDep) -> RegionDetail:
    region = await service.create_region(session, body)
    return await service.get_region_detail(session, region.id)


@router.patch(
    "/regions/{region_id}",
    response_model=RegionDetail,
    tags=["admin"],
    summary="Rename a region or change its code",
    responses=error_responses(Unauthorized, Forbidden, NotFound, NameTaken, ValidationFailed),
)
async def update_region(
    region_id: RegionId, body: RegionUpdate, _: AdminPrincipal, session: SessionDep
) -> RegionDetail:
    region = await service.update_region(session, region_id, body)
    return await service.get_region_detail(session, region.id)


@router.delete(
    "/regions/{region_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["admin"],
    summary="Delete an empty region (no child regions, communities, units, roles or keys)",
    responses=error_responses(Unauthorized, Forbidden, NotFound, StillInUse, ValidationFailed),
)
async def delete_region(region_id: RegionId, _: AdminPrincipal, session: SessionDep) -> None:
    await service.delete_region(session, region_id)
