"""Real processes: API servers (``python -m app serve``) and workers (``python -m app worker``)
started as the operator starts them, on one PostgreSQL database (a clone of the demo for each
test) and one S3 store (moto's server on loopback), and killed however a test likes: SIGKILL in
the middle of work, as the OOM killer or a power cut would.

PostgreSQL only: several processes sharing a database is the production shape (README,
*Running it for real*: two API replicas and a worker), and SQLite is one process's file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.config import Settings
from app.core.storage import PhotoStorage, build_storage
from tests import pgbouncer
from tests.conftest import DEMO_PASSWORD, PG_URL
from tests.integrations.conftest import RECEIVER_HOSTS

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "processes-test-secret-" + "x" * 32
S3_ACCESS_KEY = "suishoupai-test"
S3_SECRET_KEY = "suishoupai-test-secret"
STARTUP_SECONDS = 60.0
STOP_SECONDS = 10.0
API = "/api/v1"

Headers = dict[str, str]


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if not PG_URL:
        pytest.skip(
            "several processes share a PostgreSQL database (README: Running it for real); "
            "SQLite is one process's file, not a deployment for several: "
            "set SSP_TEST_DATABASE_URL to run these"
        )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port, in this test process (one per xdist worker)."""
    # One access-log line per request would bury a failing test's output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class Service:
    """One ``python -m app …`` process; its output goes to a file of the test's tmp_path,
    shown when something about it fails."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        assert self.port is not None, f"{self.name} serves no HTTP"
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(self) -> None:
        assert not self.running, f"{self.name} is already running"
        self.starts += 1
        args = list(self.command)
        if self.port is not None:
            # A restarted server gets a fresh port: the old one may linger in TIME_WAIT, and
            # clients only need to know where it is now.
            self.port = free_port()
            args += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}: {' '.join(args)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", *args],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def ready(self) -> None:
        """Wait for ``/readyz`` (a server) or the worker's start line (a worker)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                assert self.running, f"{self.name} exited:\n{self.tail()}"
                if self.port is None:
                    if "worker started" in self.output(self.starts):
                        return
                else:
                    with contextlib.suppress(httpx.TransportError):
                        if (await http.get(f"{self.url}/readyz")).status_code == 200:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not ready in {STARTUP_SECONDS:g} s:\n{self.tail()}")

    async def start(self) -> None:
        for _ in range(3):
            self.spawn()
            try:
                await self.ready()
                return
            except AssertionError:
                # The free port was taken by someone else before the server bound it.
                if self.running or "address already in use" not in self.output(self.starts):
                    raise
        raise AssertionError(f"{self.name} found no free port:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed, connections just drop."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def terminate(self) -> None:
        """SIGTERM, as an orchestrator stops a process (``stop`` waits for it)."""
        if self.running:
            assert self.process is not None
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT)  # a paused process cannot end
                self.process.terminate()

    def stop(self, seconds: float = STOP_SECONDS) -> None:
        """Terminate, then SIGKILL if it has not ended in time; always waits for the process."""
        self.terminate()
        if self.process is None:
            return
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def output(self, start: int | None = None) -> str:
        """What the process wrote (since its ``start``-th start if given)."""
        try:
            content = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        if start is not None:
            marker = f"--- start {start}:"
            content = content[content.find(marker) :] if marker in content else ""
        return content

    def tail(self) -> str:
        """The end of its output, for a failure's message."""
        return self.output()[-6000:]


@dataclass
class Stack:
    """The processes of one test, on the test's database and its own bucket."""

    database_url: str
    s3_endpoint: str
    workdir: Path
    bucket: str = field(default_factory=lambda: f"photos-{uuid.uuid4().hex[:16]}")
    services: list[Service] = field(default_factory=list)

    def env(self, **overrides: str) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SSP_")}
        return {
            **inherited,
            "SSP_ENV": "test",
            "SSP_DATABASE_URL": self.database_url,
            "SSP_DATABASE_POOL_SIZE": "5",
            "SSP_SECRET_KEY": SECRET_KEY,
            "SSP_PHOTO_STORAGE": "s3",
            "SSP_S3_ENDPOINT_URL": self.s3_endpoint,
            "SSP_S3_BUCKET": self.bucket,
            "SSP_S3_ACCESS_KEY": S3_ACCESS_KEY,
            "SSP_S3_SECRET_KEY": S3_SECRET_KEY,
            "SSP_S3_ADDRESSING_STYLE": "path",
            # The production shape: workers apart from the API processes.
            "SSP_EMBEDDED_WORKER": "false",
            "SSP_WEBHOOK_ALLOWED_HOSTS": json.dumps(RECEIVER_HOSTS),
            "SSP_PHOTO_WORKERS": "1",
            "SSP_LOG_JSON": "false",
            "SSP_LOG_LEVEL": "WARNING",
            **{
                f"SSP_{name.upper()}": str(value)
                for name, value in pgbouncer.connection_settings(self.database_url).items()
            },
            **overrides,
        }

    def settings(self) -> Settings:
        """The settings the processes run with, for reading their store from the test."""
        return Settings(
            env="test",
            database_url=self.database_url,
            secret_key=SECRET_KEY,
            photo_storage="s3",
            s3_endpoint_url=self.s3_endpoint,
            s3_bucket=self.bucket,
            s3_access_key=S3_ACCESS_KEY,
            s3_secret_key=S3_SECRET_KEY,
            s3_addressing_style="path",
            **pgbouncer.connection_settings(self.database_url),
        )

    def storage(self) -> PhotoStorage:
        return build_storage(self.settings())

    def api(self, name: str, **env: str) -> Service:
        return self._add(Service(name, ["serve"], self.env(**env), self._log(name), port=0))

    def worker(self, name: str, **env: str) -> Service:
        # Its start and its passes are logged at INFO: a test waits for the one and may count
        # the others.
        env = {"SSP_LOG_LEVEL": "INFO", **env}
        return self._add(Service(name, ["worker"], self.env(**env), self._log(name)))

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A one-off command (``gc-photos``, …) against the stack's database and store."""
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=ROOT,
            env=self.env(COLUMNS="200"),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _add(self, service: Service) -> Service:
        self.services.append(service)
        return service

    def _log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def stop_all(self) -> None:
        """All at once: each one's graceful shutdown overlaps the others'."""
        for service in self.services:
            service.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for service in self.services:
            service.stop(max(deadline - time.monotonic(), 0.1))


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
async def stack(
    database_url: str, s3_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Stack]:
    """The test's processes, every one of them ended afterwards, whatever happened."""
    result = Stack(database_url, s3_server, tmp_path)
    # Made here, as an operator makes it: the processes do not create buckets (production).
    store = build_storage(result.settings().model_copy(update={"s3_create_bucket": True}))
    await store.prepare()
    try:
        yield result
    finally:
        result.stop_all()
        if request.node.stash.get(FAILED, False):
            for service in result.services:
                print(f"\n===== {service.name} =====\n{service.tail()}")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's database, for what only the database can tell (while a process is frozen)."""
    engine = create_async_engine(pgbouncer.direct_url(database_url), pool_size=2)
    yield engine
    await engine.dispose()


async def sign_in(http: httpx.AsyncClient, base_url: str, username: str) -> Headers:
    response = await http.post(
        f"{base_url}{API}/auth/token", data={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def report_form(
    description: str, lat: float, lng: float, category_code: str = "chaotic_parking"
) -> dict[str, str]:
    return {
        "category_code": category_code,
        "description": description,
        "lat": str(lat),
        "lng": str(lng),
        "coord_system": "wgs84",
    }


async def wait_until(
    condition: Callable[[], Any], seconds: float, what: str, interval: float = 0.05
) -> None:
    """Poll ``condition`` (a function or coroutine function) until it is true."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")
        await asyncio.sleep(interval)


async def delivery_log(api_url: str, headers: Headers, webhook_id: str) -> list[dict[str, Any]]:
    """The webhook's whole delivery log, page by page."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 200}
    async with httpx.AsyncClient(base_url=api_url + API, timeout=30) as http:
        while True:
            page = await http.get(
                f"/webhooks/{webhook_id}/deliveries", params=params, headers=headers
            )
            assert page.status_code == 200, page.text
            items += page.json()["items"]
            if not page.json()["next_cursor"]:
                return items
            params["cursor"] = page.json()["next_cursor"]


async def referenced_keys(engine: AsyncEngine) -> set[str]:
    """Every store key a photo row references."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT display_key, thumbnail_key, original_key FROM photos")
        )
        return {key for row in rows for key in row if key}


async def stored_keys(storage: PhotoStorage) -> set[str]:
    return {stored.key async for stored in storage.list_keys()}
