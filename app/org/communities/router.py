from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.deps import AdminPrincipal, CurrentPrincipal
from app.core.deps import SessionDep
from app.core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, error_responses
from app.core.geo import CoordSystem
from app.core.pagination import Page, PageParams, page_params
from app.core.params import CommunityId, GridId
from app.core.responses import PresentedJSON
from app.org.communities import service
from app.org.communities.schemas import (
    CommunityCreate,
    CommunityDetail,
    CommunityImport,
    CommunityOutlines,
    CommunityRead,
    CommunityUpdate,
    GridCreate,
    GridRead,
    GridUpdate,
    ImportResult,
    LocateRead,
)
from app.org.deps import LocatorCacheDep, refresh_locator_after_commit
from app.org.exceptions import NameTaken, StillInUse
from app.org.importer import import_communities

router = APIRouter(tags=["communities"])

# Writes that move boundaries or rename areas: they answer once the process's locator has the
# change. Exited before the response is sent (scope "function"), as the session is.
_REFRESHES_LOCATOR = [Depends(refresh_locator_after_commit)]


@router.get(
    "/communities",
    response_model=Page[CommunityRead],
    summary="Communities and villages, by name",
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def list_communities(
    _: CurrentPrincipal,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    region_id: Annotated[
        uuid.UUID | None, Query(description="Only communities in this region's subtree")
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of the name")] = None,
) -> Page[CommunityRead]:
    items, cursor = await service.list_communities(session, page, region_id=region_id, q=q)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/communities/outlines",
    response_model=CommunityOutlines,
    summary="Community boundaries as one GeoJSON FeatureCollection, for maps without tiles",
    description="Each community with a surveyed boundary: a Polygon or MultiPolygon feature "
    "whose `id` and `properties.id` are the community's id, with its `name` and `region_id`.",
    responses=error_responses(Unauthorized, NotFound, ValidationFailed),
)
async def community_outlines(
    _: CurrentPrincipal,
    session: SessionDep,
    region_id: Annotated[
        uuid.UUID | None, Query(description="Only communities in this region's subtree")
    ] = None,
) -> PresentedJSON:
    return PresentedJSON(await service.outlines(session, region_id))


@router.get(
    "/communities/locate",
    response_model=LocateRead,
    summary="Which community (and grid) covers a point",
    description="The rule reports are routed by: the community whose boundary covers the "
    "point (the smallest if boundaries nest), else the nearest community boundary or centre "
    "within the routing distance (1 km by default), else none.",
    responses=error_responses(Unauthorized, ValidationFailed),
)
async def locate_community(
    _: CurrentPrincipal,
    session: SessionDep,
    locator: LocatorCacheDep,
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude", examples=[40.8445])],
    lng: Annotated[float, Query(ge=-180, le=180, description="Longitude", examples=[107.154])],
    coord_system: Annotated[
        CoordSystem,
        Query(
            description="The system of lat/lng: wgs84 (GPS), gcj02 (AMap, Tencent), bd09 (Baidu)"
        ),
    ] = CoordSystem.wgs84,
) -> LocateRead:
    return await service.locate(session, locator, lat, lng, coord_system)


@router.post(
    "/communities/import",
    response_model=ImportResult,
    tags=["admin"],
    summary="Import community boundaries from a GeoJSON FeatureCollection, all or nothing",
    description="Every feature is checked before anything is written. Any bad feature (no "
    "name, unknown region, malformed or self-intersecting geometry, a name twice in a region) "
    "makes the whole import fail with 422; each error's `loc` is "
    '`["body", "features", <index>, ...]` and its `msg` names the feature and the reason. '
    "A community that exists (same name in the same region) gets the new boundary.",
    responses=error_responses(Unauthorized, Forbidden, NameTaken, ValidationFailed),
    dependencies=_REFRESHES_LOCATOR,
)
async def import_boundaries(
    body: CommunityImport, _: AdminPrincipal, session: SessionDep
) -> ImportResult:
    return await import_communities(session, body)


@router.get(
    "/communities/{community_id}",
    response_model=CommunityDetail,
    summary="A community with its boundary, grids and paired units",
    responses=error_responses(Unauthorized, NotFound, ValidationFailed),
)
async def read_community(
    community_id: CommunityId, _: CurrentPrincipal, session: SessionDep
) -> CommunityDetail:
    return await service.get_community_detail(session, community_id)


@router.post(
    "/communities",
    response_model=CommunityDetail,
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    summary="Add a community or village to a township",
    responses=error_responses(Unauthorized, Forbidden, NameTaken, ValidationFailed),
    dependencies=_REFRESHES_LOCATOR,
)
async def create_community(
    body: CommunityCreate, _: AdminPrincipal, session: SessionDep
) -> CommunityDetail:
    return await service.create_community(session, body)


@router.patch(
    "/communities/{community_id}",
    response_model=CommunityDetail,
    tags=["admin"],
    summary="Change a community: names, contacts, region, boundary or centre",
    responses=error_responses(Unauthorized, Forbidden, NotFound, NameTaken, ValidationFailed),
    dependencies=_REFRESHES_LOCATOR,
)
async def update_community(
    community_id: CommunityId, body: CommunityUpdate, _: AdminPrincipal, session: SessionDep
) -> CommunityDetail:
    return await service.update_community(session, community_id, body)


@router.delete(
    "/communities/{community_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["admin"],
    summary="Delete a community with its grids, pairings and check-ins",
    description="Refused (409) while people hold roles there.",
    responses=error_responses(Unauthorized, Forbidden, NotFound, StillInUse, ValidationFailed),
    dependencies=_REFRESHES_LOCATOR,
)
async def delete_community(
    community_id: CommunityId, _: AdminPrincipal, session: SessionDep
) -> None:
    await service.delete_community(session, community_id)


@router.post(
    "/communities/{community_id}/grids",
    response_model=GridRead,
    status_code=status.HTTP_201_CREATED,
    tags=["admin"],
    summary="Add a grid (网格) to a community",
    responses=error_responses(Unauthorized, Forbidden, NotFound, NameTaken, ValidationFailed),
    dependencies=_REFRESHES_LOCATOR,
)
async def create_grid(
    community_id: CommunityId, body: GridCreate, _: AdminPrincipal, session: SessionDep
) -> GridRead:
    return service.grid_read(await service.create_grid(session, community_id, body))


@router.patch(
    "/grids/{grid_id}",
    response_model=GridRead,
    tags=["admin"],
    summary="Rename a grid or change its boundary",
    responses=error_responses(Unauthorized, Forbidden, NotFound, NameTaken, ValidationFailed),
    dependencies=_REFRESHES_LOCATOR,
)
async def update_grid(
    grid_id: GridId, body: GridUpdate, _: AdminPrincipal, session: SessionDep
) -> GridRead:
    return service.grid_read(await service.update_grid(session, grid_id, body))


@router.delete(
    "/grids/{grid_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["admin"],
    summary="Delete a grid",
    responses=error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed),
    dependencies=_REFRESHES_LOCATOR,
)
async def delete_grid(grid_id: GridId, _: AdminPrincipal, session: SessionDep) -> None:
    await service.delete_grid(session, grid_id)
