"""Micro-wishes (微心愿): posted, reviewed, claimed, fulfilled, confirmed — each step asked of
the state machine (app/wishes/transitions.py) before anything is touched, and announced on the
outbox in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.config import Settings
from app.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from app.core.pagination import Page, PageParams, SortKey, paginate
from app.core.schemas import Ref
from app.core.sql import names_by_id
from app.core.workcalendar import CHINA_TZ
from app.models import CheckIn, Community, User, Wish
from app.models.enums import CheckInStatus, Role, WishStatus
from app.photos.pictures import claim_picture, picture_links
from app.points.service import award_wish
from app.wishes import events
from app.wishes.schemas import PersonName, WishContact, WishCreate, WishRead
from app.wishes.scope import Standing, actors_of, sees_contact, standing_of, wish_scope
from app.wishes.transitions import WISH_TRANSITIONS, WishAction, WishActor

NEWEST_FIRST = [SortKey(Wish.created_at, descending=True), SortKey(Wish.id, descending=True)]


async def create_wish(
    session: AsyncSession, principal: Principal, body: WishCreate, now: datetime
) -> Wish:
    assert principal.user_id is not None
    if await session.get(Community, body.community_id) is None:
        raise ValidationFailed.at(["body", "community_id"], "no such community")
    if body.needed_by is not None and body.needed_by < now.astimezone(CHINA_TZ).date():
        raise ValidationFailed.at(["body", "needed_by"], "needed_by is already past")
    on_behalf = body.resident_name is not None
    if on_behalf:
        # For a resident without an account: only the community's staff take such a wish.
        if not (
            principal.is_admin or body.community_id in principal.scope_ids(Role.community_staff)
        ):
            raise Forbidden("Only the community's staff post a wish for someone else")
        if body.phone is None:
            raise ValidationFailed.at(["body", "phone"], "give the resident's phone")
    me = await session.get_one(User, principal.user_id)
    wish = Wish(
        community_id=body.community_id,
        title=body.title,
        description=body.description,
        needed_by=body.needed_by,
        status=WishStatus.submitted,
        resident_id=None if on_behalf else me.id,
        posted_by_id=me.id,
        resident_name=body.resident_name if on_behalf else me.display_name,
        resident_phone=body.phone if on_behalf else body.phone or me.phone,
        address=body.address,
        created_at=now,
        updated_at=now,
    )
    if body.photo_id is not None:
        picture = await claim_picture(session, me.id, body.photo_id, "wish", now)
        wish.picture_id = picture.id
    session.add(wish)
    await session.flush()
    await events.record(session, "wish.submitted", wish, now)
    return wish


async def get_visible_wish(
    session: AsyncSession, standing: Standing, wish_id: uuid.UUID, *, for_update: bool = False
) -> Wish:
    stmt = select(Wish).where(Wish.id == wish_id, wish_scope(standing))
    if for_update:
        # Two volunteers claiming at once: the second waits, then finds it claimed.
        stmt = stmt.with_for_update()
    wish: Wish | None = await session.scalar(stmt)
    if wish is None:
        raise NotFound("No such wish")
    return wish


async def list_wishes(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    settings: Settings,
    now: datetime,
    *,
    status: WishStatus | None = None,
    community_id: uuid.UUID | None = None,
    mine: bool = False,
) -> Page[WishRead]:
    standing = await standing_of(session, principal)
    stmt = select(Wish).where(wish_scope(standing))
    if status is not None:
        stmt = stmt.where(Wish.status == status)
    if community_id is not None:
        stmt = stmt.where(Wish.community_id == community_id)
    if mine:
        stmt = stmt.where(
            (Wish.resident_id == principal.user_id) | (Wish.claimant_id == principal.user_id)
        )
    rows, cursor = await paginate(session, stmt, NEWEST_FIRST, params)
    return Page(items=await to_reads(session, standing, rows, settings, now), next_cursor=cursor)


@dataclass(frozen=True)
class ActionInput:
    reason: str | None = None
    note: str | None = None
    photo_id: uuid.UUID | None = None


async def act(
    session: AsyncSession,
    principal: Principal,
    wish_id: uuid.UUID,
    action: WishAction,
    given: ActionInput,
    settings: Settings,
    now: datetime,
) -> Wish:
    standing = await standing_of(session, principal)
    wish = await get_visible_wish(session, standing, wish_id, for_update=True)
    rule = WISH_TRANSITIONS.get((wish.status, action))
    if rule is None:
        raise InvalidTransition(f"cannot {action.value} a wish that is {wish.status.value}")
    refused = _refusal(standing, wish, action, settings, now)
    if refused is not None:
        raise refused
    await _apply(session, principal, wish, action, given, settings, now)
    wish.status = rule.to
    wish.updated_at = now
    await session.flush()
    reason = {"reason": given.reason} if given.reason else None
    await events.record(session, f"wish.{action.value}", wish, now, data=reason)
    return wish


def _refusal(
    standing: Standing, wish: Wish, action: WishAction, settings: Settings, now: datetime
) -> DomainError | None:
    """Why the caller may not take ``action`` on the wish in its status (None: they may)."""
    rule = WISH_TRANSITIONS[(wish.status, action)]
    actors = actors_of(standing, wish)
    user_id = standing.principal.user_id
    if rule.actors.isdisjoint(actors):
        if action is WishAction.claim and user_id in (wish.posted_by_id, wish.reviewed_by_id):
            return Forbidden("You posted or reviewed this wish: another volunteer takes it")
        allowed = ", ".join(sorted(a.value for a in rule.actors))
        return Forbidden(f"only the {allowed} may {action.value} this wish")
    if action is WishAction.confirm and WishActor.resident not in actors:
        # Staff confirming for the resident: never their own work, nor (for a resident
        # without an account) a wish they posted themselves — a second person sees to it.
        if user_id == wish.claimant_id:
            return Forbidden("A volunteer does not confirm their own work")
        if wish.resident_id is None and user_id == wish.posted_by_id:
            return Forbidden("Another member of staff confirms a wish you posted for a resident")
        allowed_from = staff_confirm_from(wish, settings)
        if allowed_from is not None and now < allowed_from:
            return Conflict(
                f"the resident has until {china_minute(allowed_from)} to confirm; staff may "
                "after that"
            )
    if action is WishAction.thank and wish.thanks_note is not None:
        return Conflict("The resident has already thanked the volunteer")
    return None


async def forget_person(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    """For a cancelled account: its wishes lose the contact, those not yet claimed are
    withdrawn (nobody is left to help), those under way become wishes of a resident without an
    account (the community's staff confirm them when done), and the wishes it had claimed are
    published again for another volunteer."""
    own = (await session.scalars(select(Wish).where(Wish.resident_id == user_id))).all()
    for wish in own:
        wish.resident_name = wish.resident_phone = wish.address = None
        if (wish.status, WishAction.withdraw) in WISH_TRANSITIONS:
            wish.status, wish.withdrawn_at, wish.updated_at = WishStatus.withdrawn, now, now
            await events.record(session, "wish.withdraw", wish, now)
        wish.resident_id = None
    claimed = (
        await session.scalars(
            select(Wish).where(Wish.claimant_id == user_id, Wish.status == WishStatus.claimed)
        )
    ).all()
    for wish in claimed:
        wish.status, wish.claimant_id, wish.claimed_at, wish.updated_at = (
            WishStatus.published,
            None,
            None,
            now,
        )
        await events.record(session, "wish.release", wish, now)
    await session.flush()


def china_minute(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def staff_confirm_from(wish: Wish, settings: Settings) -> datetime | None:
    """When staff may confirm a fulfilled wish for its resident: at once for a resident without
    an account, else once the resident let ``wish_confirm_days`` pass."""
    if wish.fulfilled_at is None:
        return None
    if wish.resident_id is None:
        return wish.fulfilled_at
    return wish.fulfilled_at + timedelta(days=settings.wish_confirm_days)


async def _apply(
    session: AsyncSession,
    principal: Principal,
    wish: Wish,
    action: WishAction,
    given: ActionInput,
    settings: Settings,
    now: datetime,
) -> None:
    """What each action records besides the status."""
    user_id = principal.user_id
    if action in (WishAction.publish, WishAction.decline):
        wish.reviewed_at, wish.reviewed_by_id = now, user_id
        if action is WishAction.decline:
            wish.decline_reason = given.reason
    elif action is WishAction.withdraw:
        wish.withdrawn_at, wish.withdraw_reason = now, given.reason
    elif action is WishAction.claim:
        wish.claimant_id, wish.claimed_at, wish.reopen_reason = user_id, now, None
    elif action is WishAction.release:
        wish.claimant_id, wish.claimed_at = None, None
        _forget_fulfilment(wish)
    elif action is WishAction.fulfil:
        assert user_id is not None
        assert given.photo_id is not None
        picture = await claim_picture(session, user_id, given.photo_id, "wish_fulfilment", now)
        wish.fulfilment_picture_id = picture.id
        wish.fulfilment_note, wish.fulfilled_at = given.note, now
    elif action is WishAction.reopen:
        wish.reopen_reason = given.reason
        _forget_fulfilment(wish)
    elif action is WishAction.confirm:
        wish.confirmed_at, wish.confirmed_by_id = now, user_id
        assert wish.claimant_id is not None
        await award_wish(
            session,
            wish.id,
            wish.claimant_id,
            wish.community_id,
            await _branch_of(session, wish.claimant_id, wish.community_id),
            now,
            settings,
        )
    elif action is WishAction.thank:
        wish.thanks_note = given.note


def _forget_fulfilment(wish: Wish) -> None:
    """A fulfilment the resident found wanting, or a volunteer gave up: whoever fulfils the
    wish next starts afresh (the photo stays in storage, its row kept)."""
    wish.fulfilled_at = None
    wish.fulfilment_note = None
    wish.fulfilment_picture_id = None


async def _branch_of(
    session: AsyncSession, courier_id: uuid.UUID, community_id: uuid.UUID
) -> uuid.UUID | None:
    """The branch a courier is checked in with at the community (for leaderboards by branch)."""
    branch: uuid.UUID | None = await session.scalar(
        select(CheckIn.branch_id).where(
            CheckIn.courier_id == courier_id,
            CheckIn.community_id == community_id,
            CheckIn.status == CheckInStatus.approved,
        )
    )
    return branch


async def read_wish(
    session: AsyncSession,
    principal: Principal,
    wish_id: uuid.UUID,
    settings: Settings,
    now: datetime,
) -> WishRead:
    """One wish as the caller sees it (404 when they may not)."""
    standing = await standing_of(session, principal)
    wish = await get_visible_wish(session, standing, wish_id)
    return (await to_reads(session, standing, [wish], settings, now))[0]


async def answer(
    session: AsyncSession, principal: Principal, wish: Wish, settings: Settings, now: datetime
) -> WishRead:
    """A wish just changed, as the caller who changed it sees it."""
    standing = await standing_of(session, principal)
    return (await to_reads(session, standing, [wish], settings, now))[0]


async def to_reads(
    session: AsyncSession,
    standing: Standing,
    wishes: Sequence[Wish],
    settings: Settings,
    now: datetime,
) -> list[WishRead]:
    communities = await names_by_id(
        session, Community.id, Community.name, {w.community_id for w in wishes}
    )
    names = await names_by_id(
        session,
        User.id,
        User.display_name,
        {w.claimant_id for w in wishes if w.claimant_id is not None},
    )
    return [_to_read(standing, w, communities, names, settings, now) for w in wishes]


def _to_read(
    standing: Standing,
    wish: Wish,
    communities: dict[uuid.UUID, str],
    names: dict[uuid.UUID, str],
    settings: Settings,
    now: datetime,
) -> WishRead:
    return WishRead(
        id=wish.id,
        title=wish.title,
        description=wish.description,
        needed_by=wish.needed_by,
        status=wish.status,
        community=Ref(id=wish.community_id, name=communities[wish.community_id]),
        contact=WishContact(
            name=wish.resident_name, phone=wish.resident_phone, address=wish.address
        )
        if sees_contact(standing.principal, wish)
        else None,
        picture=picture_links(wish.picture_id, now),
        claimant=PersonName(id=wish.claimant_id, display_name=names[wish.claimant_id])
        if wish.claimant_id is not None
        else None,
        decline_reason=wish.decline_reason,
        fulfilment_note=wish.fulfilment_note,
        fulfilment_picture=picture_links(wish.fulfilment_picture_id, now),
        thanks_note=wish.thanks_note,
        created_at=wish.created_at,
        reviewed_at=wish.reviewed_at,
        claimed_at=wish.claimed_at,
        fulfilled_at=wish.fulfilled_at,
        confirmed_at=wish.confirmed_at,
        withdrawn_at=wish.withdrawn_at,
        staff_may_confirm_at=staff_confirm_from(wish, settings)
        if wish.status is WishStatus.fulfilled
        else None,
        reopen_reason=wish.reopen_reason,
        withdraw_reason=wish.withdraw_reason,
        actions=[
            action
            for (status, action) in WISH_TRANSITIONS
            if status is wish.status and _refusal(standing, wish, action, settings, now) is None
        ],
    )
