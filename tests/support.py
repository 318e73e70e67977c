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

import httpx

from app.core.config import Settings
from app.main import create_app
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
        **variables,
    }


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
