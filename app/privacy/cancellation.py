"""Account cancellation (账号注销): the person's data erased, the cases they filed kept without
their name, every way in closed, all in one transaction and recorded in the audit log.

What is erased: the display name, phone and password hash; the username becomes a tombstone and
only a hash of it is kept (so nobody can sign up under it); the roles; unused refresh tokens;
the stored answers to retried requests (they repeat the person's name and phone); the file
names of the photos they sent. What ends: every sign-in session, the dashboard keys and
webhooks they made, their check-ins, their points ledger (closed with a closing entry).

What is kept, and why: the reports as cases with their descriptions, positions and photos (the
hazard and the community's work on it are public-interest records, and the statistics count
them); comments and ratings on those cases, shown under the tombstone name; the points entries
(leaderboards and places' totals of past months); the sign-in log of sessions (time, address,
user agent), as network logs must be kept for at least six months; the audit log."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import security
from app.core.errors import NotFound, ValidationFailed
from app.models import (
    ApiKey,
    AuthSession,
    CheckIn,
    IdempotencyRecord,
    LoginThrottle,
    Photo,
    RefreshToken,
    Report,
    RoleAssignment,
    User,
    Webhook,
)
from app.models.audit import AuditAction
from app.models.enums import CheckInStatus
from app.points.service import close_ledger
from app.privacy.administrators import refuse_last_administrator
from app.privacy.audit import AuditContext, record_personal_data_access
from app.privacy.schemas import CancellationRead
from app.privacy.usernames import (
    CANCELLED_DISPLAY_NAME,
    UNUSABLE_PASSWORD_HASH,
    retired_username_hash,
    tombstone_username,
)
from app.store.redemptions import cancel_pending_of
from app.wishes.service import forget_person

REVOKE_REASON = "account_cancelled"
CHECK_IN_END_REASON = "账号已注销 (account cancelled)"


async def cancel_own_account(
    session: AsyncSession,
    user_id: uuid.UUID,
    password: str,
    reason: str | None,
    audit: AuditContext,
) -> CancellationRead:
    """The person cancels their own account, confirming it with their password."""
    user = await session.get_one(User, user_id)
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    if not await asyncio.to_thread(security.verify_password, password, user.password_hash):
        raise ValidationFailed.at(["body", "password"], "the password is wrong")
    return await _cancel(session, user_id, audit, {"by": "self", "reason": reason})


async def cancel_account_on_request(
    session: AsyncSession, user_id: uuid.UUID, reason: str, audit: AuditContext
) -> CancellationRead:
    """An administrator cancels an account on the person's request (or a lawful order)."""
    return await _cancel(session, user_id, audit, {"by": "administrator", "reason": reason})


def _count(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def _cancel(
    session: AsyncSession, user_id: uuid.UUID, audit: AuditContext, detail: dict[str, Any]
) -> CancellationRead:
    # The row lock makes a second cancellation at the same moment wait, then find it done.
    user = await session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None:
        raise NotFound("No such user")
    already = user.cancelled_at is not None
    if not already:
        await refuse_last_administrator(session, user)
        await _erase_identity(session, user, audit.now)
    # Each step below finds nothing left to do the second time: cancelling twice is harmless,
    # and an account cancelled by an older version gets what that version missed.
    now = audit.now
    roles_removed = _count(
        await session.execute(delete(RoleAssignment).where(RoleAssignment.user_id == user_id))
    )
    sessions_revoked = await _end_sign_ins(session, user_id, now)
    api_keys_revoked = _count(
        await session.execute(
            update(ApiKey)
            .where(ApiKey.created_by_id == user_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    )
    check_ins_ended = await _end_check_ins(session, user_id, audit)
    webhooks_disabled = _count(
        await session.execute(
            update(Webhook)
            .where(Webhook.created_by_id == user_id, Webhook.is_active.is_(True))
            .values(is_active=False)
        )
    )
    await _forget_request_traces(session, user_id)
    # Before the ledger closes: the items go back to the shelves, the points with the rest.
    await cancel_pending_of(session, user_id, now)
    await forget_person(session, user_id, now)
    points_forfeited = await close_ledger(session, user_id, now)
    reports_kept = int(
        await session.scalar(select(func.count()).where(Report.reporter_id == user_id)) or 0
    )
    receipt = CancellationRead(
        user_id=user_id,
        cancelled_at=user.cancelled_at or now,
        already_cancelled=already,
        roles_removed=roles_removed,
        sessions_revoked=sessions_revoked,
        api_keys_revoked=api_keys_revoked,
        check_ins_ended=check_ins_ended,
        webhooks_disabled=webhooks_disabled,
        points_forfeited=points_forfeited,
        reports_kept=reports_kept,
    )
    await _record(session, audit, receipt, detail)
    return receipt


async def _erase_identity(session: AsyncSession, user: User, now: datetime) -> None:
    """The name, phone and password go; the username becomes a tombstone kept only as a hash."""
    former_username = user.username
    user.username = tombstone_username(user.id)
    user.retired_username_hash = retired_username_hash(former_username)
    user.display_name = CANCELLED_DISPLAY_NAME
    user.phone = None
    user.password_hash = UNUSABLE_PASSWORD_HASH
    user.is_active = False
    user.cancelled_at = now
    await session.flush()
    await session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.key == f"account:{former_username.strip().lower()}"
        )
    )


async def _end_sign_ins(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    """Revoke every open session and drop every refresh token; how many sessions were open."""
    revoked = _count(
        await session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason=REVOKE_REASON)
        )
    )
    await session.execute(
        delete(RefreshToken).where(
            RefreshToken.session_id.in_(
                select(AuthSession.id).where(AuthSession.user_id == user_id)
            )
        )
    )
    return revoked


async def _end_check_ins(session: AsyncSession, user_id: uuid.UUID, audit: AuditContext) -> int:
    """End the courier's pending and approved check-ins; how many there were."""
    return _count(
        await session.execute(
            update(CheckIn)
            .where(
                CheckIn.courier_id == user_id,
                CheckIn.status.in_([CheckInStatus.pending, CheckInStatus.approved]),
            )
            .values(
                status=CheckInStatus.ended,
                decided_at=audit.now,
                decided_by_id=audit.actor_id,
                decision_reason=CHECK_IN_END_REASON,
            )
        )
    )


async def _forget_request_traces(session: AsyncSession, user_id: uuid.UUID) -> None:
    """The stored answers to retried requests and the photos' file names: both can name them."""
    await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id))
    await session.execute(
        update(Photo)
        .where(Photo.uploaded_by_id == user_id, Photo.original_filename.is_not(None))
        .values(original_filename=None)
    )


async def _record(
    session: AsyncSession, audit: AuditContext, receipt: CancellationRead, detail: dict[str, Any]
) -> None:
    """The audit log's entry: who asked and why, and what each step did."""
    counts = receipt.model_dump(
        include={
            "already_cancelled",
            "roles_removed",
            "sessions_revoked",
            "api_keys_revoked",
            "check_ins_ended",
            "webhooks_disabled",
            "points_forfeited",
            "reports_kept",
        }
    )
    await record_personal_data_access(
        session,
        audit,
        AuditAction.account_cancel,
        [receipt.user_id],
        {**{k: v for k, v in detail.items() if v is not None}, **counts},
    )
