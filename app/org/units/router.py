from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.deps import AdminPrincipal, CurrentPrincipal
from app.core.deps import SessionDep
from app.core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, error_responses
from app.core.pagination import Page, PageParams, page_params
from app.core.params import CommunityId, UnitId
from app.models.enums import UnitKind
from app.org.deps import ManagedCommunity, ManagedPairing, SupervisorPrincipal
from app.org.exceptions import AlreadyPaired, NameTaken, StillInUse
from app.org.units import service
from app.org.units.schemas import (
    PairingCreate,
    PairingRead,
    PairingUpdate,
    UnitCreate,
    UnitDetail,
    UnitRead,
    UnitUpdate,
)

router = APIRouter(tags=["units"])


@router.get(
    "/units",
    response_model=Page[UnitRead],
    summary="Paired units (结对共建单位), by name",
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def list_units(
    _: CurrentPrincipal,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    region_id: Annotated[
        uuid.UUID | None, Query(description="Only units of this region's subtree")
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of the name")] = None,
    kind: UnitKind | None = None,
) -> Page[UnitRead]:
    items, cursor = await service.list_units(session, page, region_id=region_id, q=q, kind=kind)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/units/{unit_id}",
    response_model=UnitDetail,
    summary="A unit with the communities it is paired with",
    responses=error_responses(Unauthorized, NotFound, ValidationFailed),
)
async def read_unit(unit_id: UnitId, _: CurrentPrincipal, session: SessionDep) -> UnitDetail:
    return await service.get_unit_detail(session, unit_id)


@router.post(
    "/units",
    response_model=UnitDetail,
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    summary="Add a unit; names are unique",
    responses=error_responses(Unauthorized, Forbidden, NameTaken, ValidationFailed),
)
async def create_unit(body: UnitCreate, _: AdminPrincipal, session: SessionDep) -> UnitDetail:
    return await service.create_unit(session, body)


@router.patch(
    "/units/{unit_id}",
    response_model=UnitDetail,
    tags=["admin"],
    summary="Change a unit",
    responses=error_responses(Unauthorized, Forbidden, NotFound, NameTaken, ValidationFailed),
)
async def update_unit(
    unit_id: UnitId, body: UnitUpdate, _: AdminPrincipal, session: SessionDep
) -> UnitDetail:
    return await service.update_unit(session, unit_id, body)


@router.delete(
    "/units/{unit_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["admin"],
    summary="Delete a unit with its pairings",
    description="Refused (409) while its staff hold roles there.",
    responses=error_responses(Unauthorized, Forbidden, NotFound, StillInUse, ValidationFailed),
)
async def delete_unit(unit_id: UnitId, _: AdminPrincipal, session: SessionDep) -> None:
    await service.delete_unit(session, unit_id)


@router.get(
    "/communities/{community_id}/pairings",
    response_model=list[PairingRead],
    tags=["pairings"],
    summary="The units paired with a community (结对), and for which categories",
    responses=error_responses(Unauthorized, NotFound, ValidationFailed),
)
async def list_pairings(
    community_id: CommunityId, _: CurrentPrincipal, session: SessionDep
) -> list[PairingRead]:
    return await service.list_pairings(session, community_id)


@router.post(
    "/communities/{community_id}/pairings",
    response_model=PairingRead,
    status_code=status.HTTP_201_CREATED,
    tags=["pairings"],
    summary="Pair a unit with a community (admin, or a supervisor of its region)",
    description="Supervisors pair units with the communities of their own region's subtree; "
    "a community outside it is 404 to them. They pair units of their region, of a region "
    "inside it or above it (the banner's departments); a unit of another region is 422.",
    responses=error_responses(Unauthorized, Forbidden, NotFound, AlreadyPaired, ValidationFailed),
)
async def create_pairing(
    community: ManagedCommunity,
    body: PairingCreate,
    principal: SupervisorPrincipal,
    session: SessionDep,
) -> PairingRead:
    return await service.create_pairing(session, principal, community, body)


@router.patch(
    "/pairings/{pairing_id}",
    response_model=PairingRead,
    tags=["pairings"],
    summary="Change the categories of a pairing (admin, or a supervisor of its region)",
    responses=error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed),
)
async def update_pairing(
    pairing: ManagedPairing, body: PairingUpdate, session: SessionDep
) -> PairingRead:
    return await service.update_pairing(session, pairing, body)


@router.delete(
    "/pairings/{pairing_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["pairings"],
    summary="End a pairing (admin, or a supervisor of its region)",
    responses=error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed),
)
async def delete_pairing(pairing: ManagedPairing, session: SessionDep) -> None:
    await service.delete_pairing(session, pairing)
