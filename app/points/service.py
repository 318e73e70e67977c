"""Points (积分): awards into the append-only ledger, the caller's balance, leaderboards."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.pagination import (
    PageParams,
    SortKey,
    paginate,
)
from app.core.sql import upsert_insert
from app.core.workcalendar import CHINA_TZ
from app.models import (
    Category,
    CourierBranch,
    PointsEntry,
    Report,
    User,
)
from app.models.enums import ReportSource
from app.models.ids import new_id
from app.points.schemas import (
    EARNING_RULE_VALUES,
    PointsEntryRead,
    PointsLedger,
    PointsRule,
    ReportNumberRef,
)

# Reports filed by staff on someone else's behalf (a hotline call, a case assigned from above)
# earn nothing: points reward the people who went out and reported.
EARNING_SOURCES = frozenset({ReportSource.courier, ReportSource.grid_patrol, ReportSource.resident})

# First key of the PostgreSQL advisory lock that serialises one reporter's awards; the second
# key comes from the reporter's id.
POINTS_LOCK_NAMESPACE = 0x50_4F_49_4E  # "POIN"


async def award(
    session: AsyncSession,
    report: Report,
    rule: Literal["accepted", "closed_bonus", "self_resolved"],
    now: datetime,
    settings: Settings,
) -> PointsEntry | None:
    """Pay ``rule`` for ``report`` to its reporter, at most once per (report, rule).

    Call it after the transition that earns it: "accepted" when the report is accepted,
    "closed_bonus" when its case is closed; "self_resolved" (instead of both) when the check
    finds a hazard its reporter cleared on the spot done. The award is cut to what the
    reporter's daily and monthly caps still allow (possibly to 0, and recorded all the same,
    so that it is never paid later). Returns the new entry, or None when nothing was
    recorded: the source earns nothing, the category pays nothing, the rule was already paid
    for this report (a retry, a concurrent request, a case reopened and closed again), or the
    reporter's account was cancelled (its ledger is closed). Never aborts the caller's
    transaction on a duplicate; flushes only."""
    points_rule = PointsRule(rule)
    if report.source not in EARNING_SOURCES:
        return None
    amount = await _amount(session, report, points_rule, settings)
    if amount <= 0:
        return None
    return await _pay(
        session,
        report.reporter_id,
        points_rule,
        amount,
        now,
        settings,
        source={"report_id": report.id},
        place={
            "community_id": report.community_id,
            "branch_id": report.reporter_branch_id,
            "company_id": await _company_of(session, report.reporter_branch_id),
        },
    )


async def award_wish(
    session: AsyncSession,
    wish_id: uuid.UUID,
    volunteer_id: uuid.UUID,
    community_id: uuid.UUID,
    branch_id: uuid.UUID | None,
    now: datetime,
    settings: Settings,
) -> PointsEntry | None:
    """Pay ``wish_fulfilled`` to the volunteer who fulfilled a wish, once per wish, within the
    same caps as reports (None: nothing recorded, as for ``award``)."""
    if settings.points_wish_fulfilled <= 0:
        return None
    return await _pay(
        session,
        volunteer_id,
        PointsRule.wish_fulfilled,
        settings.points_wish_fulfilled,
        now,
        settings,
        source={"wish_id": wish_id},
        place={
            "community_id": community_id,
            "branch_id": branch_id,
            "company_id": await _company_of(session, branch_id),
        },
    )


async def _pay(
    session: AsyncSession,
    user_id: uuid.UUID,
    rule: PointsRule,
    amount: int,
    now: datetime,
    settings: Settings,
    *,
    source: dict[str, uuid.UUID],
    place: dict[str, uuid.UUID | None],
) -> PointsEntry | None:
    """Record an award of ``amount`` cut to the caps, unless the source (a report or a wish)
    was already paid under this rule."""
    dialect = session.get_bind().dialect.name
    # Two awards for one person at once would both read the caps before either wrote.
    await lock_ledger(session, user_id)
    # Read under the lock: an account cancelled at the same moment has its ledger closed
    # either after this award (and the award is forfeited with the rest) or before it.
    if await is_cancelled(session, user_id):
        return None
    remaining = await _cap_remaining(session, user_id, now, settings)
    insert = upsert_insert(dialect)
    stmt = (
        insert(PointsEntry)
        .values(
            id=new_id(),
            user_id=user_id,
            rule=rule.value,
            points=max(0, min(amount, remaining)),
            points_before_cap=amount,
            created_at=now,
            **source,
            **place,
        )
        # The unique (source, rule) key decides; a concurrent twin waits for the first one's
        # commit and then inserts nothing, without an error that would end the transaction.
        .on_conflict_do_nothing(index_elements=[*source, "rule"])
        .returning(PointsEntry)
    )
    return (await session.scalars(stmt)).one_or_none()


async def _amount(
    session: AsyncSession, report: Report, rule: PointsRule, settings: Settings
) -> int:
    category = await session.get_one(Category, report.category_code)
    if rule is PointsRule.accepted:
        override, default = category.points_on_accept, settings.points_on_accept
    elif rule is PointsRule.self_resolved:
        return settings.points_self_resolved
    else:
        override, default = category.points_close_bonus, settings.points_close_bonus
    return override if override is not None else default


def _lock_key(user_id: uuid.UUID) -> int:
    # The id's last bytes: random in every kind of id (a UUIDv7 starts with its time, which
    # people created in the same minute share).
    return int.from_bytes(user_id.bytes[-4:], "big", signed=True)


async def lock_ledger(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Serialise the writers of one person's ledger until the transaction ends, so that what
    is read after it (a balance, the caps, a monthly limit) stays true until the commit. On
    PostgreSQL an advisory lock: the second writer waits for the first's commit. On SQLite a
    write of the person's row (that changes nothing) starts the transaction with the
    database's one write lock, which other writers wait for; reads alone would run outside
    any transaction and see the balance as it was before a concurrent purchase."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(func.pg_advisory_xact_lock(POINTS_LOCK_NAMESPACE, _lock_key(user_id)))
        )
    else:
        await session.execute(
            update(User)
            .where(User.id == user_id)
            .values(is_active=User.is_active)
            .execution_options(synchronize_session=False)
        )


async def is_cancelled(session: AsyncSession, user_id: uuid.UUID) -> bool:
    cancelled_at = await session.scalar(select(User.cancelled_at).where(User.id == user_id))
    return cancelled_at is not None


async def balance_of(session: AsyncSession, user_id: uuid.UUID) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(PointsEntry.user_id == user_id)
    )
    return int(total or 0)


async def close_ledger(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    """Close a cancelled account's ledger: one ``account_closed`` entry takes the balance to
    zero (the points are forfeited: nobody is left to spend them). The earlier entries stay, so
    past leaderboards and the places' totals do not change. Returns the points forfeited;
    closing a closed ledger does nothing. Call it after the account is marked cancelled, in the
    same transaction: an award waiting for the lock then finds the account cancelled."""
    await lock_ledger(session, user_id)
    closed = await session.scalar(
        select(PointsEntry.id).where(
            PointsEntry.user_id == user_id, PointsEntry.rule == PointsRule.account_closed.value
        )
    )
    if closed is not None:
        return 0
    balance = await balance_of(session, user_id)
    session.add(
        PointsEntry(
            user_id=user_id,
            report_id=None,
            rule=PointsRule.account_closed.value,
            points=-balance,
            points_before_cap=-balance,
            created_at=now,
        )
    )
    await session.flush()
    return balance


async def _company_of(session: AsyncSession, branch_id: uuid.UUID | None) -> uuid.UUID | None:
    if branch_id is None:
        return None
    return await session.scalar(
        select(CourierBranch.company_id).where(CourierBranch.id == branch_id)
    )


def china_day(now: datetime) -> tuple[datetime, datetime]:
    """The China-time day containing ``now``, as [start, end)."""
    start = datetime.combine(now.astimezone(CHINA_TZ).date(), time(0), CHINA_TZ)
    return start, start + timedelta(days=1)


def china_month(year: int, month: int) -> tuple[datetime, datetime]:
    """A China-time month as [start, end)."""
    start = datetime(year, month, 1, tzinfo=CHINA_TZ)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=CHINA_TZ)
    return start, end


def month_of(now: datetime) -> tuple[datetime, datetime]:
    local = now.astimezone(CHINA_TZ)
    return china_month(local.year, local.month)


async def _earned_between(
    session: AsyncSession, user_id: uuid.UUID, bounds: tuple[datetime, datetime]
) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
            PointsEntry.user_id == user_id,
            PointsEntry.created_at >= bounds[0],
            PointsEntry.created_at < bounds[1],
            # What was earned: a purchase spends, and does not make room under the caps.
            PointsEntry.rule.in_(EARNING_RULE_VALUES),
        )
    )
    return int(total or 0)


async def _cap_remaining(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, settings: Settings
) -> int:
    today = await _earned_between(session, user_id, china_day(now))
    this_month = await _earned_between(session, user_id, month_of(now))
    return min(settings.points_daily_cap - today, settings.points_monthly_cap - this_month)


async def ledger(
    session: AsyncSession,
    user_id: uuid.UUID,
    params: PageParams,
    now: datetime,
    settings: Settings,
) -> PointsLedger:
    """The user's balance, this day's and month's earnings, and a page of their entries."""
    newest_first = [
        SortKey(PointsEntry.created_at, descending=True),
        SortKey(PointsEntry.id, descending=True),
    ]
    rows, cursor = await paginate(
        session, select(PointsEntry).where(PointsEntry.user_id == user_id), newest_first, params
    )
    report_ids = {entry.report_id for entry in rows if entry.report_id is not None}
    numbers: dict[uuid.UUID, str] = (
        {
            row.id: row.number
            for row in await session.execute(
                select(Report.id, Report.number).where(Report.id.in_(report_ids))
            )
        }
        if report_ids
        else {}
    )
    return PointsLedger(
        balance=await balance_of(session, user_id),
        earned_today=await _earned_between(session, user_id, china_day(now)),
        earned_this_month=await _earned_between(session, user_id, month_of(now)),
        daily_cap=settings.points_daily_cap,
        monthly_cap=settings.points_monthly_cap,
        items=[
            PointsEntryRead(
                id=entry.id,
                rule=PointsRule(entry.rule),
                points=entry.points,
                points_before_cap=entry.points_before_cap,
                capped=entry.points < entry.points_before_cap,
                report=ReportNumberRef(id=entry.report_id, number=numbers[entry.report_id])
                if entry.report_id is not None
                else None,
                wish_id=entry.wish_id,
                redemption_id=entry.redemption_id,
                created_at=entry.created_at,
            )
            for entry in rows
        ],
        next_cursor=cursor,
    )
