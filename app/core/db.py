"""Engine and sessions. The request's session dependency is the one place that commits."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from app.core.config import Settings


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer writes; the busy timeout makes a second writer
    # wait instead of failing at once with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(settings: Settings, *, direct: bool = False) -> AsyncEngine:
    """The engine of ``settings.database_url``; ``direct``: one without a pool on the direct URL,
    for what holds a session of its own (LISTEN), which a transaction pooler cannot keep."""
    url = make_url(settings.direct_database_url if direct else settings.database_url)
    kwargs: dict[str, Any] = {"echo": settings.database_echo}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            try:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                # A volume not mounted yet, say: the process still starts, answers 503 and
                # fails /readyz until the file can be opened.
                log.warning("cannot make the folder of the SQLite file: %s", exc)
        kwargs["connect_args"] = {"timeout": 10}
    elif direct:
        kwargs.update(poolclass=NullPool, connect_args=_postgresql_connect_args(pooled=False))
    else:
        kwargs.update(
            pool_size=settings.database_pool_size,
            max_overflow=10,
            pool_pre_ping=settings.database_pre_ping,
            connect_args=_postgresql_connect_args(
                pooled=settings.database_pooler != "none", cache=settings.statement_cache
            ),
        )
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    return engine


def _postgresql_connect_args(*, pooled: bool, cache: bool = True) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if not pooled:
        # No JIT: it compiles a statement's expressions each time it runs one the planner
        # thinks costly, some 100 ms for a statistic over a month of cases that then runs
        # in a few tens; the service's statements are all short. PgBouncer refuses startup
        # parameters it does not know: behind it the database says so instead (README,
        # "Connections and PgBouncer": ALTER DATABASE … SET jit = off).
        args["server_settings"] = {"jit": "off"}
    if not cache:
        # Each statement is then parsed again in the message that runs it (asyncpg's unnamed
        # statement), so it needs no server connection to remember it between transactions.
        args.update(statement_cache_size=0, prepared_statement_cache_size=0)
    return args


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


_ON_ROLLBACK = "ssp_on_rollback"
_AFTER_COMMIT = "ssp_after_commit"
log = logging.getLogger("app.db")


def after_commit(session: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Run ``callback`` once this unit of work has committed, before the answer goes out: for
    what this process must have in step with the committed change when the caller's next
    request comes (the locator of a boundary just edited). A callback that fails is logged:
    the change is committed, and the answer says so."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def on_rollback(session: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Run ``callback`` if this unit of work ends in a rollback (the work or the commit failed):
    for side effects outside the database, such as uploaded files, that must not outlive it."""
    session.info.setdefault(_ON_ROLLBACK, []).append(callback)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit when the work succeeded, roll back when it raised."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            session.info.pop(_AFTER_COMMIT, None)
            await session.rollback()
            for callback in session.info.pop(_ON_ROLLBACK, []):
                try:
                    await callback()
                except Exception:  # the original error matters more; log this one
                    log.exception("a rollback clean-up failed")
            raise
        for callback in session.info.pop(_AFTER_COMMIT, []):
            try:
                await callback()
            except Exception:
                log.exception("work after a commit failed")


async def insert_new(session: AsyncSession, rows: Sequence[Any]) -> None:
    """INSERT new mapped objects of one class as one plain Core statement (several rows as one
    executemany), without the unit of work: for hot paths that build rows they never read back.
    Only the attributes that were set are written; the columns' defaults fill in the rest (so a
    generated key stays unknown to the object). The objects stay out of the session."""
    if not rows:
        return
    mapper = sa_inspect(type(rows[0]))
    columns = [(attr.key, attr.columns[0].key) for attr in mapper.column_attrs]
    values = [
        {column: row.__dict__[key] for key, column in columns if key in row.__dict__}
        for row in rows
    ]
    await session.execute(insert(mapper.local_table), values if len(values) > 1 else values[0])
