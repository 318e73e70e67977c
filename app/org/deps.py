"""Dependencies of the organisation routes: role guards, rows loaded within the caller's scope,
and the process's locator cache."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.auth.deps import UserPrincipal, require_roles
from app.auth.principal import Principal
from app.core.db import after_commit
from app.core.deps import SessionDep
from app.core.errors import Forbidden
from app.core.params import CheckInId, CommunityId, PairingId
from app.models import CheckIn, Community, Pairing
from app.models.enums import Role
from app.org.check_ins import service as service_check_ins
from app.org.locator_cache import LocatorCache
from app.org.units import service as service_units


async def get_locator_cache(request: Request) -> LocatorCache:
    """The locator of this process (made with the app, app/main.py)."""
    cache: LocatorCache = request.app.state.community_locator
    return cache


LocatorCacheDep = Annotated[LocatorCache, Depends(get_locator_cache)]


async def refresh_locator_after_commit(session: SessionDep, locator: LocatorCacheDep) -> None:
    """For routes that change communities or grids: once the change is committed, wait until
    this process's locator has it before answering, so that the writer's next request is routed
    by it. Only this request waits: every other lookup meanwhile answers from the snapshot it
    has (app/org/locator_cache.py). Nothing is waited for when the route failed."""
    after_commit(session, locator.catch_up)


SupervisorPrincipal = Annotated[Principal, Depends(require_roles(Role.supervisor))]
CheckInReader = Annotated[
    Principal, Depends(require_roles(Role.courier, Role.community_staff, Role.supervisor))
]
CheckInDecider = Annotated[Principal, Depends(require_roles(Role.community_staff, Role.supervisor))]


async def require_courier(principal: UserPrincipal) -> Principal:
    # Not require_roles: an admin is not a courier and has no branch to check in for.
    if Role.courier not in principal.roles:
        raise Forbidden("Only couriers check in with communities")
    return principal


CourierPrincipal = Annotated[Principal, Depends(require_courier)]


async def load_managed_community(
    community_id: CommunityId, principal: SupervisorPrincipal, session: SessionDep
) -> Community:
    return await service_units.get_managed_community(session, principal, community_id)


async def load_managed_pairing(
    pairing_id: PairingId, principal: SupervisorPrincipal, session: SessionDep
) -> Pairing:
    return await service_units.get_managed_pairing(session, principal, pairing_id)


async def load_decidable_check_in(
    check_in_id: CheckInId, principal: CheckInDecider, session: SessionDep
) -> CheckIn:
    return await service_check_ins.get_decidable_check_in(session, principal, check_in_id)


# A community whose pairings the caller manages (admin: any; supervisor: own region subtree).
ManagedCommunity = Annotated[Community, Depends(load_managed_community)]
ManagedPairing = Annotated[Pairing, Depends(load_managed_pairing)]
# A check-in the caller may approve or reject; 404 outside their communities and regions.
DecidableCheckIn = Annotated[CheckIn, Depends(load_decidable_check_in)]
