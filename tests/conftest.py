"""Fixtures: a real database per test (SQLite file, or PostgreSQL when SSP_TEST_DATABASE_URL is
set), made by the migrations and seeded with the demo data once, then cloned for every test."""

from __future__ import annotations

import asyncio
import functools
import gc
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import fastapi.routing
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.migrations import upgrade
from app.core.security import hash_password, use_password_hash_cost
from app.demo.seed import seed_demo
from app.main import create_app
from tests import pgbouncer

DEMO_PASSWORD = "suishoupai-demo"
# The least argon2 allows: a sign-in costs microseconds instead of a fifth of a second.
CHEAP_PASSWORD_HASHING: dict[str, Any] = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 32,
}
PG_URL = os.environ.get("SSP_TEST_DATABASE_URL")
RUN_ID = uuid.uuid4().hex[:8]
# PostgreSQL: how many dropped databases may still be on their way out (see DatabaseFactory).
PENDING_DROPS = 4
# What a test process has made by then is frozen after collection, after the tenth test (whose
# predecessors filled the caches) and after every hundredth (see pytest_runtest_logfinish).
FREEZE_AFTER_TESTS = 10
FREEZE_EVERY_TESTS = 100


def _build_routes_once_per_process() -> None:
    """FastAPI builds the routes of an included router again for every app that includes it,
    on the app's first request: each endpoint's dependency tree (signatures, a pydantic adapter
    per parameter) and response model, some 0.2 s of CPU for this app's hundred-odd routes. A
    served process pays that once; the suite makes an app per test and paid it two thousand
    times, more than the tests' own work. What is built depends only on the route's path,
    endpoint and dependencies (a response model: on its name and type), and nothing changes it
    once built, so each is built once per test process and shared by every app. A FastAPI
    without these internals just builds as before."""
    build = getattr(fastapi.routing, "_build_dependant_with_parameterless_dependencies", None)
    make_field = getattr(fastapi.routing, "create_model_field", None)
    if build is None or make_field is None:
        return
    dependants: dict[object, Any] = {}
    fields: dict[object, Any] = {}

    @functools.wraps(build)
    def build_once(*, path: str, call: Any, dependencies: Any) -> Any:
        key = (path, call, tuple(dependencies))
        if key not in dependants:
            dependants[key] = build(path=path, call=call, dependencies=dependencies)
        return dependants[key]

    @functools.wraps(make_field)
    def make_field_once(*args: Any, **kwargs: Any) -> Any:
        if args or kwargs.keys() != {"name", "type_", "mode"}:
            return make_field(*args, **kwargs)
        key = (kwargs["name"], kwargs["type_"], kwargs["mode"])
        try:
            if key not in fields:
                fields[key] = make_field(**kwargs)
        except TypeError:  # a type that cannot be a key: built each time
            return make_field(**kwargs)
        return fields[key]

    fastapi.routing._build_dependant_with_parameterless_dependencies = build_once
    # fastapi.routing imports it without exporting it; the routes look it up there.
    fastapi.routing.create_model_field = make_field_once  # type: ignore[attr-defined]


_build_routes_once_per_process()


def pytest_report_header() -> str:
    behind = ", behind PgBouncer in transaction mode" if pgbouncer.WANTED else ""
    return f"database: {'PostgreSQL ' + PG_URL + behind if PG_URL else 'SQLite'}"


def pytest_configure(config: pytest.Config) -> None:
    if pgbouncer.WANTED and not PG_URL:
        raise pytest.UsageError("SSP_TEST_PGBOUNCER needs SSP_TEST_DATABASE_URL")


def _freeze_what_lives() -> None:
    """Python's full garbage collections walk every object there is: some 400,000 in a test
    process (the framework, the caches, the session's worlds), 0.4 s each, every few tests.
    Between two tests, what is still alive after a collection lives on (a test's own objects
    are gone by then), so it is moved out of the collector's sight as a served process does
    (app.main.create_served_app); the full collections then walk what the tests make."""
    gc.collect()
    gc.freeze()


def pytest_collection_finish(session: pytest.Session) -> None:
    _freeze_what_lives()


_tests_run = 0


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    global _tests_run
    _tests_run += 1
    if _tests_run == FREEZE_AFTER_TESTS or _tests_run % FREEZE_EVERY_TESTS == 0:
        _freeze_what_lives()


def make_test_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "photo_dir": tmp_path / "photos",
        "log_json": False,
        "embedded_worker": False,
        "demo_password": DEMO_PASSWORD,
        **CHEAP_PASSWORD_HASHING,
        **pgbouncer.connection_settings(database_url),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a given database URL, with any field overridden."""

    def _make(database_url: str, **overrides: object) -> Settings:
        return make_test_settings(database_url, tmp_path, **overrides)

    return _make


class DatabaseFactory:
    """Makes empty or demo-seeded databases for tests, and removes them afterwards.

    On PostgreSQL a database costs more than most tests. CREATE DATABASE … TEMPLATE takes a
    fifth of a second: the clone for the next test is made while this one runs. DROP DATABASE
    forces a checkpoint, which syncs every file the other databases wrote since the last one
    (a new clone is some 470 files): up to seconds on a busy disk. So a test hands its database
    over and goes on; the drops happen behind the tests, up to PENDING_DROPS at once (drops
    that wait for a checkpoint are all served by the next one), on connections kept for the
    session. ``close`` waits for them.

    Behind PgBouncer (tests/pgbouncer.py) the demo-seeded clones are reached through it; the
    empty databases, which tests migrate, and the suite's own admin work go straight to the
    server, as a deployment's migrations do."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.counter = 0
        self.template_url: str | None = None
        self._admin: AsyncEngine | None = None
        self._next_clone: asyncio.Task[str] | None = None
        self._drops: set[asyncio.Task[None]] = set()
        self._drop_slots = asyncio.Semaphore(PENDING_DROPS)
        self._drop_errors: list[Exception] = []

    def _next_name(self, stem: str) -> str:
        self.counter += 1
        return f"ssp_{stem}_{RUN_ID}_{self.counter}"

    def _pg_url(self, name: str) -> str:
        assert PG_URL is not None
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    async def _pg_admin(self, sql: str) -> None:
        if self._admin is None:
            assert PG_URL is not None
            # Connections for the clone being made, an empty database, and each drop on its way.
            self._admin = create_async_engine(
                PG_URL, isolation_level="AUTOCOMMIT", pool_size=PENDING_DROPS + 2, max_overflow=0
            )
        async with self._admin.connect() as conn:
            await conn.execute(text(sql))

    async def empty(self) -> str:
        name = self._next_name("db")
        if PG_URL:
            await self._pg_admin(f'CREATE DATABASE "{name}"')
            return self._pg_url(name)
        return f"sqlite+aiosqlite:///{self.workdir / name}.db"

    async def clone_template(self) -> str:
        if not PG_URL:
            if self.template_url is None:
                self.template_url = await self._build_template()
            target = self.workdir / f"{self._next_name('db')}.db"
            shutil.copyfile(make_url(self.template_url).database or "", target)
            return f"sqlite+aiosqlite:///{target}"
        clone = self._next_clone or asyncio.ensure_future(self._pg_clone())
        self._next_clone = None
        url = await asyncio.shield(clone)  # a test cancelled while waiting leaves it whole
        self._next_clone = asyncio.ensure_future(self._pg_clone())
        return pgbouncer.running.pooled(url) if pgbouncer.running else url

    async def _pg_clone(self) -> str:
        if self.template_url is None:
            self.template_url = await self._build_template()
        name = self._next_name("db")
        template = make_url(self.template_url).database
        await self._pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self._pg_url(name)

    async def _build_template(self) -> str:
        url = await self.empty()
        await asyncio.to_thread(upgrade, url)
        settings = Settings(env="test", database_url=url, **CHEAP_PASSWORD_HASHING)
        use_password_hash_cost(settings)
        engine = create_engine(settings)
        try:
            factory = create_sessionmaker(engine)
            async with factory() as session:
                await seed_demo(session, DEMO_PASSWORD, hash_password)
                await session.commit()
            if not PG_URL:
                async with engine.connect() as conn:  # fold the WAL into the file we copy
                    await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        finally:
            await engine.dispose()
        return url

    async def drop(self, url: str) -> None:
        if not PG_URL:
            for suffix in ("", "-wal", "-shm"):
                # A local file of a few hundred kB: not worth a thread.
                Path(f"{make_url(url).database}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240
            return
        await self._drop_slots.acquire()  # waits only while PENDING_DROPS are on their way
        drop = asyncio.ensure_future(self._pg_drop(make_url(url).database or ""))
        self._drops.add(drop)
        drop.add_done_callback(self._drops.discard)

    async def _pg_drop(self, name: str) -> None:
        try:
            await self._pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as exc:  # raised by close: no test is to blame
            self._drop_errors.append(exc)
        finally:
            self._drop_slots.release()

    async def close(self) -> None:
        """Drops what is left (the clone made for a test that never came, the template) once
        the drops on their way have ended; raises the first drop that failed."""
        try:
            if self._next_clone is not None:
                await self.drop(await self._next_clone)
            await asyncio.gather(*self._drops)
            if PG_URL and self.template_url:
                await self._drop_slots.acquire()
                await self._pg_drop(make_url(self.template_url).database or "")
        finally:
            if self._admin is not None:
                await self._admin.dispose()
        if self._drop_errors:
            raise self._drop_errors[0]


@pytest.fixture(scope="session")
async def database_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[DatabaseFactory]:
    if pgbouncer.WANTED:
        assert PG_URL is not None
        pgbouncer.running = pgbouncer.PgBouncer(PG_URL)
        pgbouncer.running.start()
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    try:
        yield factory
        await factory.close()
    finally:
        if pgbouncer.running is not None:
            pgbouncer.running.close()
            pgbouncer.running = None


@pytest.fixture
async def empty_database(database_factory: DatabaseFactory) -> AsyncIterator[str]:
    """The URL of a fresh database with no tables at all."""
    url = await database_factory.empty()
    yield url
    await database_factory.drop(url)


@pytest.fixture
async def database_url(database_factory: DatabaseFactory) -> AsyncIterator[str]:
    """The URL of a fresh database migrated to head and seeded with the demo data."""
    url = await database_factory.clone_template()
    yield url
    await database_factory.drop(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_test_settings(database_url, tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    # The transport runs no lifespan: end what its shutdown would, or every test leaves its
    # photo threads (and the memory their allocator arenas hold) behind.
    application.state.photo_pool.shutdown()
    await application.state.engine.dispose()


@pytest.fixture
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """The test's app served by uvicorn on a free loopback port, in the test's event loop
    (so that it shares the loop with the test's database and clients); its lifespan runs.
    For what an in-process client cannot show: a stream as it is sent, a browser's page."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="on", log_level="warning", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)
    sock.close()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session on the test's database, for checking what the API wrote."""
    async with app.state.sessionmaker() as db:
        yield db


LoginFn = Callable[[str], Awaitable[dict[str, str]]]


@pytest.fixture
def login(client: httpx.AsyncClient) -> LoginFn:
    """``await login("staff1")`` → the Authorization header of that demo account."""
    cache: dict[str, dict[str, str]] = {}

    async def _login(username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
        if username not in cache:
            response = await client.post(
                "/api/v1/auth/token", data={"username": username, "password": password}
            )
            assert response.status_code == 200, response.text
            cache[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return cache[username]

    return _login
