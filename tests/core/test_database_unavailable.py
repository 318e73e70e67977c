"""A server whose database is down, missing or not migrated answers 503 problem+json with
Retry-After on every call that needs it (not a 500), says so on /readyz, and answers again as
soon as the database is there."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings
from app.core.migrations import upgrade
from app.core.security import create_access_token
from app.main import create_app
from tests.conftest import PG_URL

LOGIN = {"username": "staff1", "password": "suishoupai-demo"}


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
    finally:
        await app.state.engine.dispose()


def bearer(settings: Settings) -> dict[str, str]:
    """A well-signed access token: checking who it names needs the database."""
    token, _ = create_access_token(settings, uuid.uuid4(), uuid.uuid4(), datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


async def assert_unavailable(http: httpx.AsyncClient, settings: Settings) -> None:
    answers = [
        await http.post("/api/v1/auth/token", data=LOGIN),
        await http.get("/api/v1/reports", headers=bearer(settings)),
        await http.get("/api/v1/me", headers=bearer(settings)),
    ]
    for response in answers:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) > 0
        body = response.json()
        assert body["code"] == "database_unavailable"
        assert body["status"] == 503
        assert body["request_id"] == response.headers["x-request-id"]
    ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    # What needs no database still answers.
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/openapi.json")).status_code == 200


async def assert_answering(http: httpx.AsyncClient) -> None:
    ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    # The database answers: an unknown account is refused by the login itself.
    refused = await http.post("/api/v1/auth/token", data=LOGIN)
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "unauthorized"


async def test_a_closed_postgresql_port_is_503(settings_for: Callable[..., Settings]) -> None:
    settings = settings_for("postgresql+asyncpg://suishoupai@127.0.0.1:1/suishoupai")
    async with served(settings) as http:
        await assert_unavailable(http, settings)


async def test_an_unknown_database_host_is_503(settings_for: Callable[..., Settings]) -> None:
    settings = settings_for("postgresql+asyncpg://suishoupai@database.invalid:5432/suishoupai")
    async with served(settings) as http:
        await assert_unavailable(http, settings)


async def test_a_sqlite_file_that_cannot_be_opened_is_503_until_it_can(
    settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    # The folder of the file cannot be made (a volume not mounted yet, say): a file is in the way.
    blocker = tmp_path / "volume"
    blocker.write_text("not a folder")
    url = f"sqlite+aiosqlite:///{blocker / 'suishoupai.db'}"
    settings = settings_for(url)
    async with served(settings) as http:
        await assert_unavailable(http, settings)
        blocker.unlink()
        blocker.mkdir()
        await asyncio.to_thread(upgrade, url)
        await assert_answering(http)


async def test_a_sqlite_file_in_a_missing_folder_is_503_until_migrated(
    settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'not' / 'yet' / 'suishoupai.db'}"
    settings = settings_for(url)
    async with served(settings) as http:
        await assert_unavailable(http, settings)
        await asyncio.to_thread(upgrade, url)
        await assert_answering(http)


async def test_an_unmigrated_database_is_503_until_migrated(
    empty_database: str, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(empty_database)
    async with served(settings) as http:
        await assert_unavailable(http, settings)
        await asyncio.to_thread(upgrade, empty_database)
        await assert_answering(http)


@pytest.mark.skipif(not PG_URL, reason="a PostgreSQL server is needed")
async def test_a_database_missing_on_the_server_is_503_until_created(
    settings_for: Callable[..., Settings],
) -> None:
    assert PG_URL is not None
    name = f"ssp_missing_{uuid.uuid4().hex[:12]}"
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    settings = settings_for(url)
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with served(settings) as http:
            await assert_unavailable(http, settings)
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            await asyncio.to_thread(upgrade, url)
            await assert_answering(http)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
