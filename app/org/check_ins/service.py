"""Couriers checking in (报到) with the communities they deliver in, and the communities'
decisions.

Who sees a check-in: the courier who asked, the staff of its community, the supervisors of the
community's region subtree, admins. Who decides it: the same, except the courier."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Select, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.auth.principal import Principal
from app.core.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from app.core.pagination import PageParams, SortKey, paginate
from app.models import CheckIn, Community, CourierBranch, Region, User
from app.models.enums import CheckInStatus, Role
from app.org.check_ins.schemas import CheckInCreate, CheckInRead
from app.org.exceptions import AlreadyCheckedIn
from app.org.persistence import get_or_404, get_or_422, in_region_subtrees
from app.org.schemas import Ref, UserRef

# A courier asks again only after a rejection; while one is pending or approved, another
# would be a duplicate for the staff to wade through.
_OPEN_STATUSES = (CheckInStatus.pending, CheckInStatus.approved)


def _decider_scope(principal: Principal) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if communities := principal.scope_ids(Role.community_staff):
        conditions.append(CheckIn.community_id.in_(communities))
    if paths := principal.region_paths(Role.supervisor):
        conditions.append(
            CheckIn.community_id.in_(
                select(Community.id)
                .join(Region, Community.region_id == Region.id)
                .where(in_region_subtrees(paths))
            )
        )
    return conditions


def visible_check_ins(principal: Principal) -> Select[CheckIn]:
    stmt = select(CheckIn)
    if principal.is_admin:
        return stmt
    conditions = _decider_scope(principal)
    if principal.user_id is not None:
        conditions.append(CheckIn.courier_id == principal.user_id)
    return stmt.where(or_(false(), *conditions))


def decidable_check_ins(principal: Principal) -> Select[CheckIn]:
    stmt = select(CheckIn)
    if principal.is_admin:
        return stmt
    return stmt.where(or_(false(), *_decider_scope(principal)))


_LOAD_NAMES = (selectinload(CheckIn.community), selectinload(CheckIn.branch))


async def _reads(session: AsyncSession, check_ins: Sequence[CheckIn]) -> list[CheckInRead]:
    user_ids = {c.courier_id for c in check_ins} | {
        c.decided_by_id for c in check_ins if c.decided_by_id is not None
    }
    people = {
        user_id: UserRef(id=user_id, display_name=name)
        for user_id, name in await session.execute(
            select(User.id, User.display_name).where(User.id.in_(user_ids))
        )
    }
    return [
        CheckInRead(
            id=c.id,
            status=c.status,
            courier=people[c.courier_id],
            community=Ref.model_validate(c.community),
            branch=Ref.model_validate(c.branch) if c.branch is not None else None,
            note=c.note,
            requested_at=c.requested_at,
            decided_at=c.decided_at,
            decided_by=people.get(c.decided_by_id) if c.decided_by_id is not None else None,
            decision_reason=c.decision_reason,
        )
        for c in check_ins
    ]


async def list_check_ins(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    status: CheckInStatus | None = None,
    community_id: uuid.UUID | None = None,
) -> tuple[list[CheckInRead], str | None]:
    """Newest first."""
    stmt = visible_check_ins(principal).options(*_LOAD_NAMES)
    if status is not None:
        stmt = stmt.where(CheckIn.status == status)
    if community_id is not None:
        await get_or_422(session, Community, community_id, ["query", "community_id"], "community")
        stmt = stmt.where(CheckIn.community_id == community_id)
    rows, cursor = await paginate(
        session,
        stmt,
        [SortKey(CheckIn.requested_at, descending=True), SortKey(CheckIn.id, descending=True)],
        params,
    )
    return await _reads(session, rows), cursor


async def _load(session: AsyncSession, stmt: Select[CheckIn], check_in_id: uuid.UUID) -> CheckIn:
    check_in = await session.scalar(
        stmt.options(*_LOAD_NAMES)
        .where(CheckIn.id == check_in_id)
        .execution_options(populate_existing=True)
    )
    if check_in is None:
        raise NotFound("No such check-in")
    return check_in


async def get_visible_check_in(
    session: AsyncSession, principal: Principal, check_in_id: uuid.UUID
) -> CheckInRead:
    check_in = await _load(session, visible_check_ins(principal), check_in_id)
    return (await _reads(session, [check_in]))[0]


async def get_decidable_check_in(
    session: AsyncSession, principal: Principal, check_in_id: uuid.UUID
) -> CheckIn:
    return await _load(session, decidable_check_ins(principal), check_in_id)


async def _courier_branch(
    session: AsyncSession, principal: Principal, requested: uuid.UUID | None
) -> uuid.UUID:
    """The branch the courier delivers for: the one asked for, if it is theirs, else their only
    one."""
    branches = principal.scope_ids(Role.courier)
    if requested is None:
        if len(branches) != 1:
            raise ValidationFailed.at(
                ["body", "branch_id"], "you deliver for several branches: say which one"
            )
        return next(iter(branches))
    if requested not in branches:
        await get_or_422(session, CourierBranch, requested, ["body", "branch_id"], "courier branch")
        raise ValidationFailed.at(["body", "branch_id"], "you are not a courier of this branch")
    return requested


async def request_check_in(
    session: AsyncSession,
    principal: Principal,
    community_id: uuid.UUID,
    body: CheckInCreate,
    now: datetime,
) -> CheckInRead:
    assert principal.user_id is not None
    community = await get_or_404(session, Community, community_id, "community")
    branch_id = await _courier_branch(session, principal, body.branch_id)
    existing = await session.scalar(
        select(CheckIn.status).where(
            CheckIn.courier_id == principal.user_id,
            CheckIn.community_id == community.id,
            CheckIn.status.in_(_OPEN_STATUSES),
        )
    )
    if existing is not None:
        raise AlreadyCheckedIn(f"Your check-in with {community.name} is already {existing}")
    check_in = CheckIn(
        courier_id=principal.user_id,
        community_id=community.id,
        branch_id=branch_id,
        note=body.note,
        requested_at=now,
    )
    session.add(check_in)
    await session.flush()
    return await get_visible_check_in(session, principal, check_in.id)


async def _decide(
    session: AsyncSession,
    principal: Principal,
    check_in: CheckIn,
    status: CheckInStatus,
    reason: str | None,
    now: datetime,
) -> CheckInRead:
    if check_in.courier_id == principal.user_id:
        raise Forbidden("You cannot decide your own check-in")
    # Conditional, so that of two staff deciding at once exactly one wins.
    result = await session.execute(
        update(CheckIn)
        .where(CheckIn.id == check_in.id, CheckIn.status == CheckInStatus.pending)
        .values(
            status=status, decided_at=now, decided_by_id=principal.user_id, decision_reason=reason
        )
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        current = await session.scalar(select(CheckIn.status).where(CheckIn.id == check_in.id))
        raise InvalidTransition(f"The check-in is already {current}; only a pending one is decided")
    check_in = await _load(session, select(CheckIn), check_in.id)
    return (await _reads(session, [check_in]))[0]


async def approve_check_in(
    session: AsyncSession, principal: Principal, check_in: CheckIn, note: str | None, now: datetime
) -> CheckInRead:
    return await _decide(session, principal, check_in, CheckInStatus.approved, note, now)


async def reject_check_in(
    session: AsyncSession, principal: Principal, check_in: CheckIn, reason: str, now: datetime
) -> CheckInRead:
    return await _decide(session, principal, check_in, CheckInStatus.rejected, reason, now)
