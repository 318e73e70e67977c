"""Who sees which wish, and who acts on it in which part.

Staff of the wish's community see all of its wishes; supervisors and viewers those of their
regions' communities; administrators all. A community's volunteers — its grid workers and
registered volunteers, and the couriers checked in with it — see its wishes from publication
on (not those under review, declined or withdrawn). A resident sees their own, a claimant the
ones they claimed. The resident's contact is shown only to the resident (and to whoever typed
it in for them) and, once the wish is claimed, to the claimant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import REGION_ROLES
from app.models import CheckIn, Community, Region, Wish
from app.models.enums import CheckInStatus, Role, WishStatus
from app.wishes.transitions import WishActor

VOLUNTEER_ROLES = (Role.grid_worker, Role.volunteer)
# What a community's volunteers see of its wishes: the ones on offer and where they went (who
# took them, fulfilled or not), never the ones under review, declined or withdrawn.
VOLUNTEER_VISIBLE = frozenset(
    {WishStatus.published, WishStatus.claimed, WishStatus.fulfilled, WishStatus.confirmed}
)
# A claim hands the resident's contact to the claimant for as long as they hold the wish.
CONTACT_SHARED_IN = frozenset({WishStatus.claimed, WishStatus.fulfilled, WishStatus.confirmed})


@dataclass(frozen=True)
class Standing:
    """The caller as the wishes see them, worked out once a request: who they are and the
    communities where they volunteer."""

    principal: Principal
    volunteers_in: frozenset[uuid.UUID]


async def standing_of(session: AsyncSession, principal: Principal) -> Standing:
    communities = set(principal.scope_ids(*VOLUNTEER_ROLES))
    if principal.user_id is not None and Role.courier in principal.roles:
        communities |= set(
            await session.scalars(
                select(CheckIn.community_id).where(
                    CheckIn.courier_id == principal.user_id,
                    CheckIn.status == CheckInStatus.approved,
                )
            )
        )
    return Standing(principal, frozenset(communities))


def wish_scope(standing: Standing) -> ColumnElement[bool]:
    """The wishes the caller may see (the module's docstring says who sees which)."""
    principal = standing.principal
    if principal.is_admin:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if paths := principal.region_paths(*REGION_ROLES):
        subtree = select(Region.id).where(or_(*(Region.path.startswith(p) for p in paths)))
        conditions.append(
            Wish.community_id.in_(select(Community.id).where(Community.region_id.in_(subtree)))
        )
    if communities := principal.scope_ids(Role.community_staff):
        conditions.append(Wish.community_id.in_(communities))
    if standing.volunteers_in:
        conditions.append(
            and_(
                Wish.status.in_(VOLUNTEER_VISIBLE),
                Wish.community_id.in_(standing.volunteers_in),
            )
        )
    if (user_id := principal.user_id) is not None:
        conditions += [
            Wish.resident_id == user_id,
            Wish.posted_by_id == user_id,
            Wish.claimant_id == user_id,
        ]
    return or_(*conditions)


def actors_of(standing: Standing, wish: Wish) -> set[WishActor]:
    """The parts the caller plays for this wish. Nobody volunteers for a wish they posted or
    reviewed: points are for helping someone else."""
    principal = standing.principal
    actors: set[WishActor] = set()
    user_id = principal.user_id
    if user_id is not None and wish.resident_id == user_id:
        actors.add(WishActor.resident)
    if principal.is_admin or wish.community_id in principal.scope_ids(Role.community_staff):
        actors.add(WishActor.staff)
    if user_id is not None and wish.claimant_id == user_id:
        actors.add(WishActor.claimant)
    if (
        user_id is not None
        and user_id not in (wish.resident_id, wish.posted_by_id, wish.reviewed_by_id)
        and wish.community_id in standing.volunteers_in
    ):
        actors.add(WishActor.volunteer)
    return actors


def sees_contact(principal: Principal, wish: Wish) -> bool:
    user_id = principal.user_id
    if user_id is None:
        return False
    if user_id in (wish.resident_id, wish.posted_by_id):
        return True
    return wish.claimant_id == user_id and wish.status in CONTACT_SHARED_IN
