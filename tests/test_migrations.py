"""The schema is made by the migrations alone: they agree with the models and downgrade."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from app.core.config import Settings
from app.core.db import create_engine
from app.core.migrations import alembic_config, downgrade, upgrade
from app.models import Base
from tests.conftest import DatabaseFactory


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


async def _diff_and_tables(url: str) -> tuple[list[object], set[str]]:
    engine = create_engine(Settings(env="test", database_url=url))
    try:
        async with engine.connect() as conn:

            def inspect_sync(sync_conn: Connection) -> tuple[list[object], set[str]]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                tables = set(inspect(sync_conn).get_table_names()) - {"alembic_version"}
                return compare_metadata(context, Base.metadata), tables

            return await conn.run_sync(inspect_sync)
    finally:
        await engine.dispose()


async def test_models_match_the_migrations(empty_database: str) -> None:
    await asyncio.to_thread(upgrade, empty_database)
    diff, tables = await _diff_and_tables(empty_database)
    assert diff == []
    assert tables == set(Base.metadata.tables)


async def test_every_migration_upgrades_and_downgrades_step_by_step(empty_database: str) -> None:
    revisions = _revisions()
    assert revisions, "no migrations found"
    for revision in revisions:
        await asyncio.to_thread(upgrade, empty_database, revision)
    for previous in [*reversed(revisions[:-1]), "base"]:
        await asyncio.to_thread(downgrade, empty_database, previous)
    _, tables = await _diff_and_tables(empty_database)
    assert tables == set()
    await asyncio.to_thread(upgrade, empty_database)
    diff, _ = await _diff_and_tables(empty_database)
    assert diff == []


async def _partial_indexes(url: str) -> dict[str, str]:
    """Each partial index of the database and its predicate, as the database spells it."""
    engine = create_engine(Settings(env="test", database_url=url))
    try:
        async with engine.connect() as conn:

            def read(sync_conn: Connection) -> dict[str, str]:
                inspector = inspect(sync_conn)
                found = {}
                for table in inspector.get_table_names():
                    for index in inspector.get_indexes(table):
                        options = index.get("dialect_options", {})
                        where = options.get("postgresql_where") or options.get("sqlite_where")
                        if where is not None:
                            found[str(index["name"])] = str(where)
                return found

            return await conn.run_sync(read)
    finally:
        await engine.dispose()


async def test_partial_indexes_are_the_models(
    empty_database: str, database_factory: DatabaseFactory
) -> None:
    """Alembic does not compare index predicates: a migration whose partial index leaves out a
    status the queries name would go unnoticed, and the queries would read the whole table."""
    await asyncio.to_thread(upgrade, empty_database)
    from_models = await database_factory.empty()
    try:
        engine = create_engine(Settings(env="test", database_url=from_models))
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await engine.dispose()
        migrated = await _partial_indexes(empty_database)
        assert migrated == await _partial_indexes(from_models)
        assert {"ix_reports_open_lat_lng", "ix_jobs_complete_due_at_unswept"} <= set(migrated)
    finally:
        await database_factory.drop(from_models)
