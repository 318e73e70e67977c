"""Fixtures: a real database per test (SQLite file, or PostgreSQL when SSP_TEST_DATABASE_URL is
set), made by the migrations and seeded with the demo data once, then cloned for every test."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.migrations import upgrade
from app.core.security import hash_password, use_password_hash_cost
from app.demo.seed import seed_demo
from app.main import create_app

DEMO_PASSWORD = "suishoupai-demo"
# The least argon2 allows: a sign-in costs microseconds instead of a fifth of a second.
CHEAP_PASSWORD_HASHING: dict[str, Any] = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 32,
}
PG_URL = os.environ.get("SSP_TEST_DATABASE_URL")
RUN_ID = uuid.uuid4().hex[:8]


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


def make_test_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "photo_dir": tmp_path / "photos",
        "log_json": False,
        "embedded_worker": False,
        "demo_password": DEMO_PASSWORD,
        **CHEAP_PASSWORD_HASHING,
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
    """Makes empty or demo-seeded databases for tests, and removes them afterwards."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.counter = 0
        self.template_url: str | None = None

    def _next_name(self, stem: str) -> str:
        self.counter += 1
        return f"ssp_{stem}_{RUN_ID}_{self.counter}"

    async def _pg_admin(self, sql: str) -> None:
        assert PG_URL is not None
        engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    async def empty(self) -> str:
        name = self._next_name("db")
        if PG_URL:
            await self._pg_admin(f'CREATE DATABASE "{name}"')
            return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        return f"sqlite+aiosqlite:///{self.workdir / name}.db"

    async def clone_template(self) -> str:
        if self.template_url is None:
            self.template_url = await self._build_template()
        name = self._next_name("db")
        if PG_URL:
            template = make_url(self.template_url).database
            await self._pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        target = self.workdir / f"{name}.db"
        shutil.copyfile(make_url(self.template_url).database or "", target)
        return f"sqlite+aiosqlite:///{target}"

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
        if PG_URL:
            name = make_url(url).database
            await self._pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm"):
                # A local file of a few hundred kB: not worth a thread.
                Path(f"{make_url(url).database}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    if PG_URL and factory.template_url:
        asyncio.run(factory.drop(factory.template_url))


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
