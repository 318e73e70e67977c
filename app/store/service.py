"""The shelves of the points store: rewards listed, read, put up and changed by their shops."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import Forbidden, NotFound, ValidationFailed
from app.core.pagination import Page, PageParams, SortKey, paginate
from app.core.schemas import Ref
from app.core.sql import names_by_id
from app.models import Community, CourierCompany, Redemption, Reward
from app.models.enums import RedemptionStatus
from app.photos.pictures import claim_picture, picture_links
from app.points.service import month_of
from app.store.schemas import RewardCreate, RewardRead, RewardUpdate
from app.store.scope import reward_scope, runs_shop, shops_run

NEWEST_FIRST = [SortKey(Reward.created_at, descending=True), SortKey(Reward.id, descending=True)]


def is_on_shelf(reward: Reward, now: datetime) -> bool:
    return (
        reward.is_active
        and reward.stock > 0
        and (reward.available_from is None or reward.available_from <= now)
        and (reward.available_until is None or reward.available_until > now)
    )


def visible_rewards(principal: Principal, now: datetime) -> ColumnElement[bool]:
    """What a caller may see: every reward of the shelves they run; of the other shelves in
    sight, the active rewards whose window has not closed (sold out or coming soon shown as
    such, ``on_shelf`` false)."""
    listed = and_(
        Reward.is_active.is_(True),
        or_(Reward.available_until.is_(None), Reward.available_until > now),
    )
    return or_(shops_run(principal), and_(reward_scope(principal), listed))


async def get_visible_reward(
    session: AsyncSession, principal: Principal, reward_id: uuid.UUID, now: datetime
) -> Reward:
    reward: Reward | None = await session.scalar(
        select(Reward).where(Reward.id == reward_id, visible_rewards(principal, now))
    )
    if reward is None:
        raise NotFound("No such reward")
    return reward


async def list_rewards(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    now: datetime,
    *,
    community_id: uuid.UUID | None = None,
    company_id: uuid.UUID | None = None,
) -> Page[RewardRead]:
    stmt = select(Reward).where(visible_rewards(principal, now))
    if community_id is not None:
        stmt = stmt.where(Reward.community_id == community_id)
    if company_id is not None:
        stmt = stmt.where(Reward.company_id == company_id)
    rows, cursor = await paginate(session, stmt, NEWEST_FIRST, params)
    return Page(items=await to_reads(session, principal, rows, now), next_cursor=cursor)


async def to_read(
    session: AsyncSession, principal: Principal, reward: Reward, now: datetime
) -> RewardRead:
    return (await to_reads(session, principal, [reward], now))[0]


async def to_reads(
    session: AsyncSession, principal: Principal, rewards: Sequence[Reward], now: datetime
) -> list[RewardRead]:
    community_ids = {r.community_id for r in rewards if r.community_id is not None}
    company_ids = {r.company_id for r in rewards if r.company_id is not None}
    communities = await names_by_id(session, Community.id, Community.name, community_ids)
    companies = await names_by_id(session, CourierCompany.id, CourierCompany.name, company_ids)
    bought = await _bought_this_month(session, principal, [r.id for r in rewards], now)
    return [
        RewardRead(
            id=r.id,
            name=r.name,
            description=r.description,
            points_price=r.points_price,
            stock=r.stock,
            monthly_limit=r.monthly_limit,
            available_from=r.available_from,
            available_until=r.available_until,
            is_active=r.is_active,
            on_shelf=is_on_shelf(r, now),
            community=Ref(id=r.community_id, name=communities[r.community_id])
            if r.community_id is not None
            else None,
            company=Ref(id=r.company_id, name=companies[r.company_id])
            if r.company_id is not None
            else None,
            picture=picture_links(r.picture_id, now),
            bought_this_month=bought.get(r.id, 0) if principal.user_id is not None else None,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rewards
    ]


async def bought_in_month(
    session: AsyncSession, user_id: uuid.UUID, reward_ids: Sequence[uuid.UUID], now: datetime
) -> dict[uuid.UUID, int]:
    """How many of each reward the person bought in the China-time month of ``now`` (purchases
    cancelled since do not count)."""
    if not reward_ids:
        return {}
    starts_at, ends_at = month_of(now)
    rows = await session.execute(
        select(Redemption.reward_id, func.count())
        .where(
            Redemption.user_id == user_id,
            Redemption.reward_id.in_(list(reward_ids)),
            Redemption.status != RedemptionStatus.cancelled,
            Redemption.created_at >= starts_at,
            Redemption.created_at < ends_at,
        )
        .group_by(Redemption.reward_id)
    )
    return dict(rows.all())


async def _bought_this_month(
    session: AsyncSession, principal: Principal, reward_ids: list[uuid.UUID], now: datetime
) -> dict[uuid.UUID, int]:
    if principal.user_id is None:
        return {}
    return await bought_in_month(session, principal.user_id, reward_ids, now)


async def create_reward(
    session: AsyncSession, principal: Principal, body: RewardCreate, now: datetime
) -> Reward:
    if not runs_shop(principal, body.community_id, body.company_id):
        raise Forbidden("Only the community's staff or the company's managers stock its shelf")
    model = Community if body.community_id is not None else CourierCompany
    shop_id = body.community_id or body.company_id
    if await session.get(model, shop_id) is None:
        field = "community_id" if body.community_id is not None else "company_id"
        raise ValidationFailed.at(["body", field], "no such shop")
    reward = Reward(
        **body.model_dump(exclude={"photo_id"}),
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    if body.photo_id is not None:
        assert principal.user_id is not None
        picture = await claim_picture(session, principal.user_id, body.photo_id, "reward", now)
        reward.picture_id = picture.id
    session.add(reward)
    await session.flush()
    return reward


async def update_reward(
    session: AsyncSession,
    principal: Principal,
    reward_id: uuid.UUID,
    body: RewardUpdate,
    now: datetime,
) -> Reward:
    reward = await get_visible_reward(session, principal, reward_id, now)
    if not runs_shop(principal, reward.community_id, reward.company_id):
        raise Forbidden("Only the shop that offers a reward changes it")
    changes = body.model_dump(exclude_unset=True, exclude={"stock_change", "photo_id"})
    if "name" in changes and changes["name"] is None:
        raise ValidationFailed.at(["body", "name"], "a reward needs a name")
    if "points_price" in changes and changes["points_price"] is None:
        raise ValidationFailed.at(["body", "points_price"], "a reward needs a price")
    if "is_active" in changes and changes["is_active"] is None:
        raise ValidationFailed.at(["body", "is_active"], "give true or false")
    if body.photo_id is not None:
        assert principal.user_id is not None
        picture = await claim_picture(session, principal.user_id, body.photo_id, "reward", now)
        changes["picture_id"] = picture.id
    if body.stock_change:
        # In the database, in one step: purchases made meanwhile are not overwritten, and the
        # CHECK refuses a stock below zero.
        changed = await session.scalar(
            update(Reward)
            .where(Reward.id == reward.id, Reward.stock + body.stock_change >= 0)
            .values(stock=Reward.stock + body.stock_change)
            .returning(Reward.stock)
        )
        if changed is None:
            raise ValidationFailed.at(["body", "stock_change"], "the stock cannot go below zero")
    for name, value in changes.items():
        setattr(reward, name, value)
    _check_window(reward)
    reward.updated_at = now
    await session.flush()
    await session.refresh(reward)
    return reward


def _check_window(reward: Reward) -> None:
    if (
        reward.available_from is not None
        and reward.available_until is not None
        and reward.available_until <= reward.available_from
    ):
        raise ValidationFailed.at(
            ["body", "available_until"], "available_until must be after available_from"
        )
