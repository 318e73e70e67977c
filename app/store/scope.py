"""Who sees which shelf, and who runs it.

A community's shelf is for the people of that community: its staff, grid workers and
volunteers, the couriers checked in with it, and whoever earned points there (a resident
rewarded for reports). A courier company's shelf is for its couriers (a role at one of its
branches) and its managers. Supervisors and viewers see the shelves of their regions'
communities; administrators every shelf. A shelf is run by its community's staff or its
company's managers (and administrators)."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, or_, select, true

from app.auth.principal import Principal
from app.auth.scope import REGION_ROLES
from app.models import CheckIn, Community, CourierBranch, PointsEntry, Region, Reward
from app.models.enums import CheckInStatus, Role

COMMUNITY_MEMBER_ROLES = (Role.community_staff, Role.grid_worker, Role.volunteer)


def reward_scope(principal: Principal, *, to_buy: bool = False) -> ColumnElement[bool]:
    """The rewards a caller may see; ``to_buy``: those offered to the caller (the shelves of
    the caller's own places — not those seen from a region above, which are read-only)."""
    if principal.is_admin:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if not to_buy and (paths := principal.region_paths(*REGION_ROLES)):
        subtree = select(Region.id).where(or_(*(Region.path.startswith(p) for p in paths)))
        conditions.append(
            Reward.community_id.in_(select(Community.id).where(Community.region_id.in_(subtree)))
        )
    if communities := principal.scope_ids(*COMMUNITY_MEMBER_ROLES):
        conditions.append(Reward.community_id.in_(communities))
    if companies := principal.scope_ids(Role.company_manager):
        conditions.append(Reward.company_id.in_(companies))
    if branches := principal.scope_ids(Role.courier):
        conditions.append(
            Reward.company_id.in_(
                select(CourierBranch.company_id).where(CourierBranch.id.in_(branches))
            )
        )
    if (user_id := principal.user_id) is not None:
        conditions.append(
            Reward.community_id.in_(
                select(CheckIn.community_id).where(
                    CheckIn.courier_id == user_id, CheckIn.status == CheckInStatus.approved
                )
            )
        )
        conditions.append(
            Reward.community_id.in_(
                select(PointsEntry.community_id).where(
                    PointsEntry.user_id == user_id, PointsEntry.community_id.is_not(None)
                )
            )
        )
    return or_(*conditions) if conditions else false()


def runs_shop(
    principal: Principal, community_id: uuid.UUID | None, company_id: uuid.UUID | None
) -> bool:
    """Whether the caller runs the shelf of this community or company."""
    if principal.is_admin:
        return True
    if community_id is not None:
        return community_id in principal.scope_ids(Role.community_staff)
    return company_id is not None and company_id in principal.scope_ids(Role.company_manager)


def shops_run(principal: Principal) -> ColumnElement[bool]:
    """The rewards whose shelf the caller runs."""
    if principal.is_admin:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if communities := principal.scope_ids(Role.community_staff):
        conditions.append(Reward.community_id.in_(communities))
    if companies := principal.scope_ids(Role.company_manager):
        conditions.append(Reward.company_id.in_(companies))
    return or_(*conditions) if conditions else false()
