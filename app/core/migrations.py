"""Run Alembic from the application (CLI, tests, readiness) with the app's database URL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The advisory lock every migration run holds on PostgreSQL: "SSP_MIGR" in ASCII, a fixed key
# that no other lock of the application uses.
MIGRATION_LOCK_KEY = 0x5353505F4D494752
log = logging.getLogger("app.migrations")


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(script.get_heads())


def upgrade(database_url: str, revision: str = "head") -> None:
    """Blocking: call from a thread or a CLI, never from a running event loop."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, database_url, revision)


@asynccontextmanager
async def migration_lock(connection: AsyncConnection) -> AsyncIterator[None]:
    """Hold the migration lock (PostgreSQL) while migrating on ``connection``.

    Replicas that start together and each run ``migrate`` would otherwise all find the schema
    behind and create the same tables at once: all but one fail. With the lock the others wait,
    then find the schema at head and do nothing. A session lock rather than a transaction's:
    it is held across every transaction the migrations commit, and the server releases it if
    the process dies. SQLite is one process's file: nothing to take there."""
    if connection.dialect.name != "postgresql":
        yield
        return
    key = {"key": MIGRATION_LOCK_KEY}
    if not await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key):
        log.info("another process is migrating this database; waiting for it")
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
    await connection.commit()  # the lock outlives this transaction; the migrations start afresh
    try:
        yield
    finally:
        if connection.in_transaction():
            await connection.rollback()  # a migration failed: let its transaction go first
        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        await connection.commit()


@asynccontextmanager
async def foreign_keys_held_off(connection: AsyncConnection) -> AsyncIterator[None]:
    """SQLite: foreign keys off while migrating on ``connection``, as SQLite prescribes for
    changes it makes by copying a table (a new key, a foreign key changed): dropping the old
    copy would otherwise delete or empty every row pointing at it (a case's jobs, photos and
    timeline). ``check_foreign_keys`` verifies the result before the commit. Elsewhere
    nothing."""
    if connection.dialect.name != "sqlite":
        yield
        return
    # Outside any transaction, where SQLite takes the setting (inside one it ignores it).
    await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    await connection.commit()
    try:
        yield
    finally:
        if connection.in_transaction():
            await connection.rollback()
        await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        await connection.commit()


def check_foreign_keys(connection: Connection) -> None:
    """SQLite: refuse to commit migrations that left a row pointing at nothing."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:10]}")


async def current_revisions(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync_conn: set(MigrationContext.configure(sync_conn).get_current_heads())
        )
