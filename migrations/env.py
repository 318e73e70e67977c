"""Alembic environment: async engine, batch mode on SQLite, URL from the app settings."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection, make_url

from app.core.config import get_settings
from app.core.db import create_engine
from app.core.migrations import check_foreign_keys, foreign_keys_held_off, migration_lock
from app.models import Base
from app.models.base import UTCDateTime
from app.models.partitioning import compared_with

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().direct_database_url


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations stay independent of app code: the UTC type is a plain timezone-aware DateTime
    # in the database (the conversion happens in Python).
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    dialect = (
        connection.dialect.name
        if connection is not None
        else make_url(url or "").get_backend_name()
    )
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,
        render_item=_render_item,
        compare_type=True,
        literal_binds=connection is None,
        # Month partitions and per-partition uniqueness are made by the migrations and
        # app/core/partitions.py, not by the models.
        include_object=compared_with(dialect),
    )


def run_migrations_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
        check_foreign_keys(connection)


async def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
        return
    from app.core.config import Settings

    # The URL is one straight to PostgreSQL (`migrate` uses SSP_DATABASE_DIRECT_URL): the lock
    # below is a session's, which a transaction pooler would lose between two transactions.
    settings = Settings(database_url=_url(), env="dev", database_pooler="none")
    engine = create_engine(settings)
    try:
        async with (
            engine.connect() as conn,
            migration_lock(conn),
            foreign_keys_held_off(conn),
            conn.begin(),
        ):
            # The current revision is read after the lock: another process may have just
            # migrated.
            await conn.run_sync(_run_sync)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
