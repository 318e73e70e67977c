"""LISTEN for PostgreSQL notifications on a connection of one's own, kept open and opened again
when lost.

The connection goes straight to the server (``SSP_DATABASE_DIRECT_URL``, app/core/db.py): behind
PgBouncer in transaction mode a LISTEN on a pooled connection would be heard by whichever client
the server connection serves next, or by nobody. While the connection is down the caller is told
(``on_lost``) so that it falls back to polling; once it listens again (``on_listening``) it
should catch up with what it may have missed meanwhile."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from app.core.config import Settings
from app.core.db import create_engine

log = logging.getLogger("app.listen")

RETRY_SECONDS = 5.0
Handler = Callable[[Any, int, str, str], None]  # asyncpg's: connection, pid, channel, payload


async def keep_listening(
    settings: Settings,
    channel: str,
    on_notify: Handler,
    *,
    on_listening: Callable[[], None] | None = None,
    on_lost: Callable[[], None] | None = None,
    retry_seconds: float = RETRY_SECONDS,
) -> None:
    """Run until cancelled: listen, and after a lost or failed connection wait a little and
    listen again."""
    while True:
        try:
            await _listen_until_lost(settings, channel, on_notify, on_listening)
            log.warning("the LISTEN %s connection was lost; polling for now", channel)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("LISTEN %s failed; polling for now", channel, exc_info=True)
        finally:
            if on_lost is not None:
                on_lost()
        await asyncio.sleep(retry_seconds)


async def _listen_until_lost(
    settings: Settings,
    channel: str,
    on_notify: Handler,
    on_listening: Callable[[], None] | None,
) -> None:
    engine = create_engine(settings, direct=True)
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection  # the asyncpg connection
            lost = asyncio.Event()
            driver.add_termination_listener(lambda _conn: lost.set())
            await driver.add_listener(channel, on_notify)
            if on_listening is not None:
                on_listening()
            try:
                await lost.wait()
            finally:
                if not driver.is_closed():
                    await driver.remove_listener(channel, on_notify)
    finally:
        await engine.dispose()
