"""Personal data kept no longer than it serves (个人信息保护法 art. 19), deleted by the worker
in bounded batches, each its own short transaction:

- an ``Idempotency-Key``'s stored answer (the whole case as it was answered, the reporter's
  name and phone included), ``idempotency_key_hours`` after it was made: a phone retrying later
  than that files a new report;
- a sign-in session with its address and user agent (and its refresh tokens), once it ended
  more than ``retention_days`` ago: revoked then, or started then and not renewed since;
- a login-failure counter whose window and lock have both run out;
- the contact an integration filed a case for (name, email, phone, device, account), once the
  case has been over — closed, rejected or a duplicate, untouched since — ``retention_days``:
  the case and how it came in stay, the person's details are erased.

Cases, their timelines and the audit log are records of public work and stay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Delete, Update, delete, exists, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.metrics import RETENTION_PRUNED, count_on_commit
from app.models import (
    AuthSession,
    IdempotencyRecord,
    IntegrationFiling,
    LoginThrottle,
    RefreshToken,
    Report,
    Wish,
)
from app.models.enums import OPEN_REPORT_STATUSES
from app.wishes.transitions import FINAL_WISH_STATUSES

# Per table and pass: a large backlog is worked off over several passes of the worker.
MAX_BATCHES_PER_PASS = 20


@dataclass
class PersonalDataPruned:
    deleted: dict[str, int] = field(default_factory=dict)  # rows, by table


def _idempotency_records(settings: Settings, now: datetime, limit: int) -> Delete:
    cutoff = now - timedelta(hours=settings.idempotency_key_hours)
    key = tuple_(IdempotencyRecord.user_id, IdempotencyRecord.key)
    batch = (
        select(IdempotencyRecord.user_id, IdempotencyRecord.key)
        .where(IdempotencyRecord.created_at < cutoff)
        .limit(limit)
    )
    return delete(IdempotencyRecord).where(key.in_(batch))


def _sessions(settings: Settings, now: datetime, limit: int) -> Delete:
    cutoff = now - timedelta(days=settings.retention_days)
    # Never revoked: it ended when its last refresh token expired.
    expired = (
        (AuthSession.created_at < cutoff)
        & AuthSession.revoked_at.is_(None)
        & ~exists().where(
            RefreshToken.session_id == AuthSession.id, RefreshToken.expires_at >= cutoff
        )
    )
    batch = select(AuthSession.id).where(or_(AuthSession.revoked_at < cutoff, expired)).limit(limit)
    return delete(AuthSession).where(AuthSession.id.in_(batch))


def _login_throttles(settings: Settings, now: datetime, limit: int) -> Delete:
    window_start = now - timedelta(seconds=settings.login_failure_window_seconds)
    batch = (
        select(LoginThrottle.key)
        .where(
            LoginThrottle.window_started_at < window_start,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
        )
        .limit(limit)
    )
    return delete(LoginThrottle).where(LoginThrottle.key.in_(batch))


# The fields of an integration's contact (app/privacy/contacts.py).
CONTACT_COLUMNS = ("first_name", "last_name", "email", "phone", "device_id", "account_id")


def _integration_contacts(settings: Settings, now: datetime, limit: int) -> Update:
    cutoff = now - timedelta(days=settings.retention_days)
    batch = (
        select(IntegrationFiling.report_id)
        .join(Report, Report.id == IntegrationFiling.report_id)
        .where(
            IntegrationFiling.contact_erased_at.is_(None),
            Report.status.not_in(list(OPEN_REPORT_STATUSES)),
            Report.updated_at < cutoff,
        )
        .limit(limit)
    )
    erased = dict.fromkeys(CONTACT_COLUMNS)
    return (
        update(IntegrationFiling)
        .where(IntegrationFiling.report_id.in_(batch))
        .values(**erased, contact_erased_at=now)
    )


def _wish_contacts(settings: Settings, now: datetime, limit: int) -> Update:
    """A wish that ended (declined, withdrawn, confirmed) longer ago than the retention period
    keeps its story, not how to reach its resident."""
    cutoff = now - timedelta(days=settings.retention_days)
    batch = (
        select(Wish.id)
        .where(
            Wish.status.in_(list(FINAL_WISH_STATUSES)),
            Wish.updated_at < cutoff,
            or_(
                Wish.resident_name.is_not(None),
                Wish.resident_phone.is_not(None),
                Wish.address.is_not(None),
            ),
        )
        .limit(limit)
    )
    return (
        update(Wish)
        .where(Wish.id.in_(batch))
        .values(resident_name=None, resident_phone=None, address=None)
    )


# What each pass removes: rows deleted, or (contacts) personal fields erased from a row that stays.
PRUNED_TABLES: dict[str, Callable[[Settings, datetime, int], Delete | Update]] = {
    "idempotency_records": _idempotency_records,
    "auth_sessions": _sessions,
    "login_throttles": _login_throttles,
    "integration_contacts": _integration_contacts,
    "wish_contacts": _wish_contacts,
}
# Governed by ``retention_days`` (0 keeps everything it governs).
_BY_RETENTION_DAYS = frozenset({"auth_sessions", "integration_contacts", "wish_contacts"})


async def prune_personal_data(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> PersonalDataPruned:
    result = PersonalDataPruned()
    limit = settings.retention_batch_size
    for table, statement in PRUNED_TABLES.items():
        if table in _BY_RETENTION_DAYS and settings.retention_days <= 0:
            continue  # 0 keeps everything the retention period governs
        total = 0
        for _ in range(MAX_BATCHES_PER_PASS):
            async with sessionmaker() as session, session.begin():
                outcome = await session.execute(
                    statement(settings, now, limit).execution_options(synchronize_session=False)
                )
                deleted: int = outcome.rowcount  # type: ignore[attr-defined]  # a DELETE's (UPDATE's) result is a CursorResult; execute() is typed as Result
                if deleted:
                    count_on_commit(session, RETENTION_PRUNED.labels(table), deleted)
            total += deleted
            if deleted < limit:
                break
        if total:
            result.deleted[table] = total
    return result
