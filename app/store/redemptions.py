"""Buying a reward with points, handing it over, cancelling the purchase.

A purchase is one transaction: the buyer's ledger is locked (the same lock as every award),
the monthly limit and the balance are read under it, one item of stock is taken by a
conditional UPDATE (the reward's row lock queues concurrent buyers, and each re-reads the
stock after the one before it committed), and a ``redeemed`` ledger row is written. Any refusal
raises, and the request's transaction is rolled back: nothing half-done stays. So concurrent
purchases can neither sell more than the stock nor spend the same points twice."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import idempotency
from app.core.errors import Forbidden, InvalidTransition, NotFound
from app.core.idempotency import StoredResponse
from app.core.pagination import Page, PageParams, SortKey, paginate
from app.core.schemas import Ref
from app.models import Community, CourierCompany, PointsEntry, Redemption, Reward, User
from app.models.enums import RedemptionStatus
from app.points.schemas import PointsRule
from app.points.service import balance_of, is_cancelled, lock_ledger
from app.store.exceptions import (
    MonthlyLimitReached,
    NotEnoughPoints,
    OutOfStock,
    RewardUnavailable,
)
from app.store.schemas import BuyerRef, RedemptionRead
from app.store.scope import reward_scope, runs_shop, shops_run
from app.store.service import bought_in_month, get_visible_reward
from app.store.transitions import REDEMPTION_TRANSITIONS, RedemptionAction, ShopActor

IDEMPOTENCY_SCOPE = "redemptions.create"

# Read aloud or typed at the counter: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8

NEWEST_FIRST = [
    SortKey(Redemption.created_at, descending=True),
    SortKey(Redemption.id, descending=True),
]


def new_code() -> str:
    # 31^8 ≈ 8.5e11 codes: a collision (refused by the unique key) is not a practical concern.
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def redeem(
    session: AsyncSession, principal: Principal, reward_id: uuid.UUID, now: datetime
) -> Redemption:
    """Buy one of the reward for the caller; 409 when it is not on sale, sold out, over the
    monthly limit or beyond the balance."""
    assert principal.user_id is not None
    buyer = principal.user_id
    reward = await get_visible_reward(session, principal, reward_id, now)
    await _check_offered(session, principal, reward, now)
    await lock_ledger(session, buyer)
    balance = await _check_purse(session, buyer, reward, now)
    price = await session.scalar(
        update(Reward)
        .where(Reward.id == reward.id, Reward.stock > 0)
        .values(stock=Reward.stock - 1, updated_at=now)
        .returning(Reward.points_price)
        .execution_options(synchronize_session=False)
    )
    if price is None:
        raise OutOfStock(f"{reward.name} is sold out")
    if price > balance:  # the shop changed the price meanwhile
        raise NotEnoughPoints(f"{reward.name} costs {price} points; you have {balance}")
    redemption = Redemption(
        reward_id=reward.id, user_id=buyer, points=price, code=new_code(), created_at=now
    )
    session.add(redemption)
    await session.flush()
    session.add(
        PointsEntry(
            user_id=buyer,
            redemption_id=redemption.id,
            rule=PointsRule.redeemed.value,
            points=-price,
            points_before_cap=-price,
            community_id=reward.community_id,
            company_id=reward.company_id,
            created_at=now,
        )
    )
    await session.flush()
    return redemption


async def _check_offered(
    session: AsyncSession, principal: Principal, reward: Reward, now: datetime
) -> None:
    """403 for a shelf read from above; 409 for an item not on sale now."""
    offered = await session.scalar(
        select(Reward.id).where(Reward.id == reward.id, reward_scope(principal, to_buy=True))
    )
    if offered is None:
        raise Forbidden(
            "This shelf is for the people of its community or company: you may read it, not buy"
        )
    if not (
        reward.is_active
        and (reward.available_from is None or reward.available_from <= now)
        and (reward.available_until is None or reward.available_until > now)
    ):
        raise RewardUnavailable(f"{reward.name} is not on sale now")


async def _check_purse(
    session: AsyncSession, buyer: uuid.UUID, reward: Reward, now: datetime
) -> int:
    """Under the buyer's ledger lock: 409 past the monthly limit or beyond the balance; the
    balance."""
    if reward.monthly_limit is not None:
        bought = (await bought_in_month(session, buyer, [reward.id], now)).get(reward.id, 0)
        if bought >= reward.monthly_limit:
            raise MonthlyLimitReached(
                f"one person may buy {reward.monthly_limit} of {reward.name} a month"
            )
    balance = await balance_of(session, buyer)
    if balance < reward.points_price:
        raise NotEnoughPoints(
            f"{reward.name} costs {reward.points_price} points; you have {balance}"
        )
    return balance


async def replay(
    session: AsyncSession, buyer: uuid.UUID, key: str, fingerprint: str
) -> StoredResponse | None:
    """The answer of an earlier purchase with this ``Idempotency-Key``, read under the buyer's
    ledger lock: a retry sent while the first is still running waits for it and then finds its
    answer, instead of buying again (or being told the last item is gone)."""
    await lock_ledger(session, buyer)
    return await idempotency.find(session, buyer, key, IDEMPOTENCY_SCOPE, fingerprint)


def visible_redemptions(principal: Principal) -> ColumnElement[bool]:
    """The buyer's own, and every purchase from the shelves the caller runs."""
    shops = Redemption.reward_id.in_(select(Reward.id).where(shops_run(principal)))
    if principal.user_id is None:
        return shops
    return or_(Redemption.user_id == principal.user_id, shops)


async def get_visible_redemption(
    session: AsyncSession, principal: Principal, redemption_id: uuid.UUID
) -> Redemption:
    redemption: Redemption | None = await session.scalar(
        select(Redemption).where(Redemption.id == redemption_id, visible_redemptions(principal))
    )
    if redemption is None:
        raise NotFound("No such redemption")
    return redemption


async def _actors(
    session: AsyncSession, principal: Principal, redemption: Redemption
) -> set[ShopActor]:
    reward = await session.get_one(Reward, redemption.reward_id)
    actors = set()
    if redemption.user_id == principal.user_id:
        actors.add(ShopActor.buyer)
    # Nobody hands an item over to themselves: a shop's staff buying at their own shelf are
    # served by a colleague.
    if (
        runs_shop(principal, reward.community_id, reward.company_id)
        and redemption.user_id != principal.user_id
    ):
        actors.add(ShopActor.shop)
    return actors


def _check(status: RedemptionStatus, action: RedemptionAction, actors: set[ShopActor]) -> None:
    rule = REDEMPTION_TRANSITIONS.get((status, action))
    if rule is None:
        raise InvalidTransition(f"cannot {action.value} a redemption that is {status.value}")
    if rule.actors.isdisjoint(actors):
        allowed = " or ".join(sorted(a.value for a in rule.actors))
        raise Forbidden(f"only the {allowed} may {action.value} this redemption")


async def _move(
    session: AsyncSession,
    redemption: Redemption,
    action: RedemptionAction,
    values: dict[str, object],
) -> None:
    """The status change, made only if nobody changed the status meanwhile (a hand-over and a
    cancellation at the same moment: one wins, the other is refused)."""
    to = REDEMPTION_TRANSITIONS[(redemption.status, action)].to
    moved = await session.scalar(
        update(Redemption)
        .where(Redemption.id == redemption.id, Redemption.status == redemption.status)
        .values(status=to, **values)
        .returning(Redemption.id)
        .execution_options(synchronize_session=False)
    )
    if moved is None:
        raise InvalidTransition("the redemption was changed meanwhile; read it again")
    await session.refresh(redemption)


async def hand_over(
    session: AsyncSession, principal: Principal, code: str, now: datetime
) -> Redemption:
    """The shop gives the item against the buyer's code (核销)."""
    redemption: Redemption | None = await session.scalar(
        select(Redemption).where(
            Redemption.code == code.strip().upper(), visible_redemptions(principal)
        )
    )
    if redemption is None:
        raise NotFound("No redemption of your shop has this code")
    _check(
        redemption.status,
        RedemptionAction.hand_over,
        await _actors(session, principal, redemption),
    )
    await _move(
        session,
        redemption,
        RedemptionAction.hand_over,
        {"handed_over_at": now, "handed_over_by_id": principal.user_id},
    )
    return redemption


async def cancel(
    session: AsyncSession,
    principal: Principal,
    redemption_id: uuid.UUID,
    reason: str | None,
    now: datetime,
) -> Redemption:
    """Cancel a purchase not yet handed over: the item goes back on the shelf and the points to
    the buyer (a ``redemption_refunded`` row; none when the buyer's account was cancelled
    meanwhile: its ledger is closed)."""
    redemption = await get_visible_redemption(session, principal, redemption_id)
    _check(
        redemption.status, RedemptionAction.cancel, await _actors(session, principal, redemption)
    )
    await lock_ledger(session, redemption.user_id)
    await _undo(session, redemption, principal.user_id, reason, now)
    return redemption


async def _undo(
    session: AsyncSession,
    redemption: Redemption,
    by: uuid.UUID | None,
    reason: str | None,
    now: datetime,
) -> None:
    """Cancel a pending purchase under its buyer's ledger lock: the item back on the shelf,
    the points back to the buyer — unless the account was cancelled (its ledger is closed)."""
    await _move(
        session,
        redemption,
        RedemptionAction.cancel,
        {"cancelled_at": now, "cancelled_by_id": by, "cancel_reason": reason},
    )
    reward = (
        await session.execute(
            update(Reward)
            .where(Reward.id == redemption.reward_id)
            .values(stock=Reward.stock + 1, updated_at=now)
            .returning(Reward.community_id, Reward.company_id)
            .execution_options(synchronize_session=False)
        )
    ).one()
    if await is_cancelled(session, redemption.user_id):
        return
    session.add(
        PointsEntry(
            user_id=redemption.user_id,
            redemption_id=redemption.id,
            rule=PointsRule.redemption_refunded.value,
            points=redemption.points,
            points_before_cap=redemption.points,
            community_id=reward.community_id,
            company_id=reward.company_id,
            created_at=now,
        )
    )
    await session.flush()


async def cancel_pending_of(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    """A cancelled account's purchases not yet handed over: cancelled, their items back on the
    shelf (the points go with the closing of the ledger: the account is cancelled first).
    Returns how many."""
    # The ledger's lock first, as a purchase takes it: then the rows of the purchases.
    await lock_ledger(session, user_id)
    pending = (
        await session.scalars(
            select(Redemption).where(
                Redemption.user_id == user_id, Redemption.status == RedemptionStatus.pending
            )
        )
    ).all()
    for redemption in pending:
        await _undo(session, redemption, None, "账号注销", now)
    return len(pending)


async def list_redemptions(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    status: RedemptionStatus | None = None,
    reward_id: uuid.UUID | None = None,
    mine: bool = False,
) -> Page[RedemptionRead]:
    stmt = select(Redemption).where(visible_redemptions(principal))
    if mine:
        stmt = stmt.where(Redemption.user_id == principal.user_id)
    if status is not None:
        stmt = stmt.where(Redemption.status == status)
    if reward_id is not None:
        stmt = stmt.where(Redemption.reward_id == reward_id)
    rows, cursor = await paginate(session, stmt, NEWEST_FIRST, params)
    return Page(items=await to_reads(session, principal, rows), next_cursor=cursor)


async def to_read(
    session: AsyncSession, principal: Principal, redemption: Redemption
) -> RedemptionRead:
    return (await to_reads(session, principal, [redemption]))[0]


async def to_reads(
    session: AsyncSession, principal: Principal, redemptions: list[Redemption]
) -> list[RedemptionRead]:
    if not redemptions:
        return []
    rows = await session.execute(
        select(
            Redemption.id,
            Reward.id.label("reward_id"),
            Reward.name.label("reward_name"),
            Community.id.label("community_id"),
            Community.name.label("community_name"),
            CourierCompany.id.label("company_id"),
            CourierCompany.name.label("company_name"),
            User.display_name,
        )
        .join(Reward, Reward.id == Redemption.reward_id)
        .join(User, User.id == Redemption.user_id)
        .outerjoin(Community, Community.id == Reward.community_id)
        .outerjoin(CourierCompany, CourierCompany.id == Reward.company_id)
        .where(Redemption.id.in_([r.id for r in redemptions]))
    )
    facts = {row.id: row for row in rows}
    balance = (
        await balance_of(session, principal.user_id) if principal.user_id is not None else None
    )
    reads = []
    for r in redemptions:
        row = facts[r.id]
        reads.append(
            RedemptionRead(
                id=r.id,
                # The code is the buyer's proof at the counter: the shop reads it from the
                # buyer, never from the list.
                code=r.code if r.user_id == principal.user_id else None,
                status=r.status,
                points=r.points,
                reward=Ref(id=row.reward_id, name=row.reward_name),
                community=Ref(id=row.community_id, name=row.community_name)
                if row.community_id
                else None,
                company=Ref(id=row.company_id, name=row.company_name) if row.company_id else None,
                buyer=BuyerRef(id=r.user_id, display_name=row.display_name),
                created_at=r.created_at,
                handed_over_at=r.handed_over_at,
                cancelled_at=r.cancelled_at,
                cancel_reason=r.cancel_reason,
                balance=balance if r.user_id == principal.user_id else None,
            )
        )
    return reads
