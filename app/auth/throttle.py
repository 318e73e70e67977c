"""Login throttling: too many failures for one account or one client address → 429 for a while.

The counters live in the database so that every API replica sees the same ones, and they are
written in their own short transaction: the failed login's request rolls back, they must not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.sql import upsert_insert
from app.models import LoginThrottle


@dataclass(frozen=True)
class ThrottleKeys:
    account: str
    address: str

    @classmethod
    def of(cls, username: str, address: str) -> ThrottleKeys:
        return cls(account=f"account:{username.strip().lower()}", address=f"address:{address}")


def _limits(settings: Settings, keys: ThrottleKeys) -> dict[str, int]:
    return {
        keys.account: settings.login_max_failures_per_account,
        keys.address: settings.login_max_failures_per_address,
    }


async def seconds_locked(session: AsyncSession, keys: ThrottleKeys, now: datetime) -> int:
    """How long the caller must still wait (0 when not locked)."""
    rows = await session.scalars(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_([keys.account, keys.address]),
            LoginThrottle.locked_until > now,
        )
    )
    waits = [(until - now).total_seconds() for until in rows if until is not None]
    return int(max(waits, default=0)) + (1 if waits else 0)


async def record_failure(
    factory: async_sessionmaker[AsyncSession], settings: Settings, keys: ThrottleKeys, now: datetime
) -> None:
    window_start = now - timedelta(seconds=settings.login_failure_window_seconds)
    locked_until = now + timedelta(seconds=settings.login_lockout_seconds)
    async with factory() as session, session.begin():
        insert = upsert_insert(session.get_bind().dialect.name)
        for key, limit in _limits(settings, keys).items():
            stmt = insert(LoginThrottle).values(
                key=key, failures=1, window_started_at=now, locked_until=None
            )
            table = LoginThrottle.__table__
            stale = table.c.window_started_at < window_start
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[LoginThrottle.key],
                    set_={
                        "failures": case((stale, 1), else_=table.c.failures + 1),
                        "window_started_at": case((stale, now), else_=table.c.window_started_at),
                    },
                )
            )
            await session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.key == key, LoginThrottle.failures >= limit)
                .values(locked_until=locked_until, failures=0, window_started_at=now)
            )


async def clear_account(session: AsyncSession, keys: ThrottleKeys) -> None:
    await session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == keys.account)
        .values(failures=0, locked_until=None)
    )
