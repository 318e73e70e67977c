"""The schema is made by the migrations alone: they agree with the models and downgrade."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import cast

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import String, Uuid, column, insert, inspect, select, table, text, update
from sqlalchemy.engine import Connection

from app.cases import clock_timers
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.migrations import alembic_config, downgrade, upgrade
from app.models import Base, ClockTimer, OutboxEvent, PointsEntry, Report
from app.models.base import UTCDateTime
from app.models.enums import JobStatus
from app.models.ids import id_moment
from app.models.partitioning import compared_with, is_partition_name
from tests import pgbouncer
from tests.conftest import DatabaseFactory
from tests.workflow.test_overdue import COURIER, LEAD_UNIT, T0, add_job, add_report

# The revision before the case tables were partitioned (8c4d5e6f7a81).
BEFORE_CASE_PARTITIONS = "7a2b3c4d5e6f"
COUNTS = ("SELECT count(*) FROM reports", "SELECT count(*) FROM jobs")


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


async def _diff_and_tables(url: str) -> tuple[list[object], set[str]]:
    engine = create_engine(Settings(env="test", database_url=url))
    try:
        async with engine.connect() as conn:

            def inspect_sync(sync_conn: Connection) -> tuple[list[object], set[str]]:
                context = MigrationContext.configure(
                    sync_conn,
                    opts={
                        "compare_type": True,
                        "include_object": compared_with(sync_conn.dialect.name),
                    },
                )
                tables = {
                    name
                    for name in inspect(sync_conn).get_table_names()
                    if not is_partition_name(name)
                } - {"alembic_version"}
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
                    if is_partition_name(table):
                        continue  # a partition's copies of its table's indexes
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
        assert {"ix_reports_open_lat_lng", "ix_reports_open_category_lat_lng"} <= set(migrated)
    finally:
        await database_factory.drop(from_models)


async def test_the_last_migration_downgrades_without_losing_rows(database_url: str) -> None:
    """A downgrade drops columns in place: copying a table to drop them would drop the old
    table, and with foreign keys on, SQLite deletes every row referring to it (a case's jobs,
    photos, timeline)."""
    # Migrations run straight on the server (SSP_DATABASE_DIRECT_URL), not through a pooler.
    database_url = pgbouncer.direct_url(database_url)
    engine = create_engine(Settings(env="test", database_url=database_url))
    try:
        async with create_sessionmaker(engine)() as session:
            report = await add_report(session, accept_due_at=T0)
            await add_job(session, report, LEAD_UNIT, status=JobStatus.pending, accept_due_at=T0)
            counts = [await session.scalar(text(q)) for q in COUNTS]
    finally:
        await engine.dispose()
    await asyncio.to_thread(downgrade, database_url, _revisions()[-2])
    engine = create_engine(Settings(env="test", database_url=database_url))
    try:
        async with engine.connect() as conn:
            assert [await conn.scalar(text(q)) for q in COUNTS] == counts
    finally:
        await engine.dispose()
    assert counts[1] == 1


async def test_cases_made_before_the_partitions_keep_every_row_that_names_them(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrading a database that holds cases: a case whose id does not carry its filing moment
    (made before ids did) gets one that does on PostgreSQL, and its job, the job's request for
    more time, its event in the outbox and its points follow; on SQLite the ids stay. Either
    way the request for more time now carries its case's id, and the case's running accept
    clock a timer for the overdue sweep, made by the migration that made the timers."""
    database_url = pgbouncer.direct_url(database_url)
    await asyncio.to_thread(downgrade, database_url, BEFORE_CASE_PARTITIONS)
    # The rows are written as the database was then: without the sweep's timers.
    monkeypatch.setattr(clock_timers, "wake", lambda *_: None)
    legacy = uuid.uuid4()
    engine = create_engine(Settings(env="test", database_url=database_url))
    try:
        async with create_sessionmaker(engine)() as session:
            report = await add_report(session, accept_due_at=T0)
            await session.execute(update(Report).where(Report.id == report.id).values(id=legacy))
            job = await add_job(
                session,
                cast(Report, SimpleNamespace(id=legacy)),
                LEAD_UNIT,
                status=JobStatus.accepted,
            )
            # The table as it was: no case id yet.
            extensions = table(
                "job_extensions",
                *(column(name, Uuid()) for name in ("id", "job_id")),
                *(column(name, UTCDateTime()) for name in ("requested_until", "requested_at")),
                *(column(name, String()) for name in ("reason", "status")),
            )
            await session.execute(
                insert(extensions).values(
                    id=uuid.uuid4(),
                    job_id=job.id,
                    requested_until=T0 + timedelta(days=3),
                    requested_at=T0,
                    reason="雨天施工困难",
                    status="pending",
                )
            )
            session.add(
                OutboxEvent(type="report.accepted", report_id=legacy, job_id=job.id, payload={})
            )
            session.add(
                PointsEntry(
                    user_id=COURIER,
                    report_id=legacy,
                    rule="valid_report",
                    points=2,
                    points_before_cap=2,
                )
            )
            await session.commit()
    finally:
        await engine.dispose()
    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(Settings(env="test", database_url=database_url))
    try:
        async with engine.connect() as conn:
            case_id = await conn.scalar(select(Report.id))
            assert case_id is not None
            named = [
                uuid.UUID(str(await conn.scalar(text(f"SELECT report_id FROM {table}"))))
                for table in (
                    "jobs",
                    "job_extensions",
                    "outbox_events",
                    "points_entries",
                    "clock_timers",
                )
            ]
            timer = await conn.scalar(select(ClockTimer.due_at))
    finally:
        await engine.dispose()
    if engine.dialect.name == "postgresql":
        assert case_id != legacy
        assert id_moment(case_id) == T0
    else:
        assert case_id == legacy
    assert named == [case_id] * 5
    assert timer == T0
