"""What tests that go beyond one in-process client share: a client arriving from a given address,
free ports, and the service's own command (`python -m app …`) run as a separate process."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from app.core.config import Settings
from app.demo.seed import demo_id
from app.main import create_app
from tests import pgbouncer
from tests.conftest import CHEAP_PASSWORD_HASHING

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A port nobody listens on now (the OS picks it, so parallel test processes do not clash)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@asynccontextmanager
async def client_from(settings: Settings, peer: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a new app whose connections come from the address ``peer``."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=(peer, 40123))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
    finally:
        app.state.photo_pool.shutdown()
        await app.state.engine.dispose()


def command_env(database_url: str, **variables: str) -> dict[str, str]:
    """The environment of a `python -m app` process on ``database_url``: this one's, in the test
    mode, plain-text logs on wide lines, plus ``variables`` (full names: ``SSP_…``)."""
    return {
        **os.environ,
        "SSP_ENV": "test",
        "SSP_DATABASE_URL": database_url,
        "SSP_LOG_JSON": "false",
        "COLUMNS": "300",
        **{f"SSP_{name.upper()}": str(value) for name, value in CHEAP_PASSWORD_HASHING.items()},
        **_as_variables(pgbouncer.connection_settings(database_url)),
        **variables,
    }


def _as_variables(settings: dict[str, Any]) -> dict[str, str]:
    return {f"SSP_{name.upper()}": str(value) for name, value in settings.items()}


async def start_command(
    *args: str,
    env: dict[str, str],
    stdout: int = asyncio.subprocess.PIPE,
    stderr: int = asyncio.subprocess.STDOUT,
) -> asyncio.subprocess.Process:
    """`python -m app *args` started from the repository's root."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", *args, cwd=ROOT, env=env, stdout=stdout, stderr=stderr
    )


async def run_command(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """`python -m app *args` to its end: its exit status and what it printed."""
    process = await start_command(*args, env=env)
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


CITY = demo_id("region", "巴彦淖尔市")
# 东风社区 of 磴口县: a county of the city outside the banner, a square 50 km south of the
# banner's communities; only the administrator reaches it.
FAR_POINT = (40.33, 107.0)
FAR_BOUNDARY = {
    "type": "Polygon",
    "coordinates": [
        [[106.99, 40.32], [107.01, 40.32], [107.01, 40.34], [106.99, 40.34], [106.99, 40.32]]
    ],
}


async def make_far_community(client: httpx.AsyncClient, admin: dict[str, str]) -> tuple[str, str]:
    """The administrator makes 磴口县, a township and 东风社区 (around ``FAR_POINT``): the
    community's id and the county's."""
    made: list[dict[str, str]] = []
    for path, body in (
        (
            "regions",
            {"name": "磴口县", "code": "150822", "parent_id": str(demo_id("region", "巴彦淖尔市"))},
        ),
        ("regions", {"name": "巴彦高勒镇", "code": "150822100"}),
        ("communities", {"name": "东风社区", "boundary": FAR_BOUNDARY}),
    ):
        if made:
            parent = "parent_id" if path == "regions" else "region_id"
            body = {**body, parent: made[-1]["id"]}
        response = await client.post(f"/api/v1/{path}", json=body, headers=admin)
        assert response.status_code == 201, response.text
        made.append(response.json())
    return str(made[2]["id"]), str(made[0]["id"])


Json = dict[str, Any]


def problem(response: httpx.Response, status: int, code: str) -> Json:
    """The body of an RFC 9457 problem answer with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: Json = response.json()
    assert body["code"] == code, body
    return body


def answer(response: httpx.Response, status: int = 200) -> Json:
    assert response.status_code == status, response.text
    body: Json = response.json()
    return body
