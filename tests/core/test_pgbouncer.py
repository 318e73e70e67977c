"""Connections behind PgBouncer in transaction mode: what the settings say, and, with
SSP_TEST_PGBOUNCER=1, what a real PgBouncer does with the service's connections."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.config import Settings
from app.core.db import create_engine
from tests import pgbouncer

behind_pgbouncer = pytest.mark.skipif(
    not pgbouncer.WANTED, reason="a real PgBouncer (set SSP_TEST_PGBOUNCER=1)"
)
POOLED = "postgresql+asyncpg://ssp@pgbouncer:6432/suishoupai"
DIRECT = "postgresql+asyncpg://ssp@postgres:5432/suishoupai"


def test_the_pooler_needs_a_direct_url_for_listen_and_the_migrations() -> None:
    with pytest.raises(ValidationError, match="SSP_DATABASE_DIRECT_URL"):
        Settings(env="test", database_url=POOLED, database_pooler="pgbouncer-transaction")


def test_behind_the_pooler_the_statement_caches_are_off_unless_said_otherwise() -> None:
    direct = Settings(env="test", database_url=DIRECT)
    assert direct.statement_cache
    assert direct.direct_database_url == DIRECT
    pooled = Settings(
        env="test",
        database_url=POOLED,
        database_pooler="pgbouncer-transaction",
        database_direct_url=DIRECT,
    )
    assert not pooled.statement_cache
    assert pooled.direct_database_url == DIRECT
    # PgBouncer 1.21 and later, with max_prepared_statements, keeps them for the client.
    assert pooled.model_copy(update={"database_statement_cache": True}).statement_cache


async def _reuse_a_statement_in_a_later_transaction(settings: Settings) -> None:
    """Client ``a`` runs a statement, ends its transaction, and runs it again while client ``b``
    holds the server connection ``a`` had: in transaction mode ``a`` gets another one."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as a, engine.connect() as b:
            statement = text("SELECT count(*) FROM reports WHERE status = :status")
            assert await a.scalar(statement, {"status": "closed"}) is not None
            await a.commit()
            assert await b.scalar(text("SELECT 1")) == 1  # PgBouncer's last idle one: a's
            assert await a.scalar(statement, {"status": "closed"}) is not None
            await a.commit()
            await b.commit()
    finally:
        await engine.dispose()


@behind_pgbouncer
async def test_behind_pgbouncer_no_statement_waits_on_a_server_connection(
    settings: Settings,
) -> None:
    assert settings.database_pooler == "pgbouncer-transaction"
    await _reuse_a_statement_in_a_later_transaction(settings)
    # What the caches would do there: PgBouncer 1.18 sends the cached statement to a server
    # connection that never prepared it.
    cached = settings.model_copy(update={"database_statement_cache": True})
    with pytest.raises(DBAPIError, match=r"prepared statement .* does not exist"):
        await _reuse_a_statement_in_a_later_transaction(cached)


@behind_pgbouncer
async def test_behind_pgbouncer_no_startup_parameter_is_sent(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()
    # The JIT setting a direct connection starts with is one PgBouncer refuses.
    as_if_direct = settings.model_copy(update={"database_pooler": "none"})
    engine = create_engine(as_if_direct)
    try:
        with pytest.raises(DBAPIError, match="unsupported startup parameter: jit"):
            async with engine.connect():
                pass
    finally:
        await engine.dispose()


@behind_pgbouncer
async def test_behind_pgbouncer_the_direct_connection_is_postgresqls_own(
    settings: Settings,
) -> None:
    assert settings.database_direct_url == pgbouncer.direct_url(settings.database_url)
    assert settings.database_direct_url != settings.database_url
    engine = create_engine(settings, direct=True)
    try:
        async with engine.connect() as conn:
            # A session's own setting, from the startup parameters PgBouncer would refuse.
            assert await conn.scalar(text("SHOW jit")) == "off"
    finally:
        await engine.dispose()
