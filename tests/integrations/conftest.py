"""Fixtures for the integration tests: a real HTTP receiver for webhooks, an SSE reader on the
app served by a real uvicorn (``live_server``, tests/conftest.py: ASGITransport buffers streamed
responses), and the demo's ids."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.demo.seed import demo_id
from app.integrations import outbox
from app.integrations.signing import verify_signature
from app.models import Community, Job, OutboxEvent, Report
from app.models.enums import JobStatus
from tests.reports.conftest import submit  # noqa: F401  (the fixture, used here too)

Headers = dict[str, str]

EAST_STREET = demo_id("community", "陕坝镇", "东街社区")  # staff1, grid1; paired with unit1, unit2
NORTH_STREET = demo_id("community", "陕坝镇", "北街社区")  # staff2
BANNER = demo_id("region", "杭锦后旗")
UNIT_1 = demo_id("unit", "旗农牧和科技局")
UNIT_2 = demo_id("unit", "旗红十字会")
TOUDAOQIAO_TOWN = demo_id("region", "头道桥镇")  # a township without 陕坝镇's communities


# The tests' webhook receivers listen on loopback, which webhooks may reach only when an
# administrator allowed it: every test that delivers to one allows exactly this.
RECEIVER_HOSTS = ["127.0.0.1"]


@pytest.fixture
def settings(database_url: str, settings_for: Callable[..., Settings]) -> Settings:
    """Fast streams (the broker polls every 50 ms), three delivery attempts, and webhooks
    allowed to the receivers on 127.0.0.1."""
    return settings_for(
        database_url,
        sse_poll_seconds=0.05,
        sse_keepalive_seconds=0.5,
        webhook_max_attempts=3,
        webhook_timeout_seconds=2.0,
        webhook_allowed_hosts=RECEIVER_HOSTS,
    )


# --- A webhook receiver ------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery_id(self) -> str:
        return self.headers["x-suishoupai-delivery"]


@dataclass
class Receiver:
    """An HTTP server (on 127.0.0.1 unless said otherwise) that records every request.
    ``answers`` (status codes) are used up one per request, then ``default_status``; ``delay``
    slows each answer down; a non-204 answer carries ``reply_body`` (by default "answer <status>")
    and ``reply_headers``."""

    base_url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    default_status: int = 204
    delay: float = 0.0
    reply_body: bytes | None = None
    reply_headers: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return httpx.URL(self.base_url).port or 80

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path

    def verified(self, secret: str, now: float | None = None) -> list[Received]:
        """The requests whose signature checks out, as a receiver would check it."""
        return [
            r
            for r in self.requests
            if verify_signature(
                secret,
                r.headers.get("x-suishoupai-timestamp", ""),
                r.body,
                r.headers.get("x-suishoupai-signature", ""),
                time.time() if now is None else now,
            )
        ]


@contextlib.contextmanager
def serve_receiver(
    host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> Iterator[Receiver]:
    """A receiver listening on ``host`` and ``port`` (0: a free one) while the block runs;
    over https with the ``tls`` context's certificate."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests.append(
                    Received(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        received_at=time.time(),
                    )
                )
                status = state.answers.pop(0) if state.answers else state.default_status
            if state.delay:
                time.sleep(state.delay)
            reply = b""
            if status != 204:
                reply = state.reply_body or f"answer {status}".encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            for name, value in state.reply_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # two workers' batches connect at once

    server = Server((host, port), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "http" if tls is None else "https"
    state.base_url = f"{scheme}://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as state:
        yield state


# --- API helpers ---------------------------------------------------------------------------------


async def create_webhook(
    client: httpx.AsyncClient,
    headers: Headers,
    url: str,
    events: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": events or ["*"], **fields},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def dashboard_key(client: httpx.AsyncClient, admin: Headers, region_id: uuid.UUID) -> Headers:
    """The Authorization header of a new read-only dashboard key for a region."""
    response = await client.post(
        "/api/v1/api-keys", json={"name": "数据大屏", "region_id": str(region_id)}, headers=admin
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


async def deliveries(
    client: httpx.AsyncClient, headers: Headers, webhook_id: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/webhooks/{webhook_id}/deliveries?limit=200", headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def outbox_ids(session: AsyncSession, type: str | None = None) -> list[int]:
    stmt = select(OutboxEvent.id).order_by(OutboxEvent.id)
    if type is not None:
        stmt = stmt.where(OutboxEvent.type == type)
    session.expire_all()
    return list((await session.scalars(stmt)).all())


async def dispatch_directly(app: FastAPI, report_id: str, unit_id: uuid.UUID = UNIT_1) -> None:
    """A lead job for ``unit_id`` on the report and its outbox event, written as the whistle
    writes them (without going through the whistle's rules)."""
    async with app.state.sessionmaker() as db:
        row = await db.get_one(Report, uuid.UUID(report_id))
        job = Job(report_id=row.id, unit_id=unit_id, is_lead=True, status=JobStatus.pending)
        db.add(job)
        await db.flush()
        await outbox.record(db, "job.dispatched", row, now=datetime.now(UTC), job=job)
        await db.commit()


async def community_point(session: AsyncSession, community_id: uuid.UUID) -> tuple[float, float]:
    """A point inside the community (its centre), WGS-84."""
    community = await session.get_one(Community, community_id)
    assert community.center_lat is not None
    assert community.center_lng is not None
    return community.center_lat, community.center_lng


# --- An SSE reader --------------------------------------------------------------------------------


@dataclass
class SSEEvent:
    id: int | None
    event: str | None
    data: Any


class SSEStream:
    """An open ``GET /api/v1/events/stream``, parsed in the background as a browser would."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.events: asyncio.Queue[SSEEvent] = asyncio.Queue()
        self.comments: list[str] = []
        self.retry: list[int] = []
        self.ended = asyncio.Event()
        self.connected = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if "data" in fields:
                        self.events.put_nowait(
                            SSEEvent(
                                id=int(fields["id"]) if "id" in fields else None,
                                event=fields.get("event"),
                                data=json.loads(fields["data"]),
                            )
                        )
                    fields = {}
                elif line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    self.connected.set()
                else:
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "retry":
                        self.retry.append(int(value))
                    else:
                        fields[name] = value
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    async def next(self, wait_seconds: float = 5.0) -> SSEEvent:
        return await asyncio.wait_for(self.events.get(), wait_seconds)

    async def collect_until(self, predicate: Callable[[SSEEvent], bool]) -> list[SSEEvent]:
        """Events up to and including the first that satisfies ``predicate``."""
        seen: list[SSEEvent] = []
        while True:
            event = await self.next()
            seen.append(event)
            if predicate(event):
                return seen

    def pending(self) -> list[SSEEvent]:
        out: list[SSEEvent] = []
        while not self.events.empty():
            out.append(self.events.get_nowait())
        return out

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.response.aclose()


@pytest.fixture
async def open_stream(
    live_server: str,
) -> AsyncIterator[Callable[..., Any]]:
    """``await open_stream(headers, last_event_id=None, query="")`` → a connected SSEStream."""
    streams: list[SSEStream] = []
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:

        async def _open(
            headers: Headers, last_event_id: int | None = None, query: str = ""
        ) -> SSEStream:
            extra = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
            request = http.build_request(
                "GET", f"/api/v1/events/stream{query}", headers={**headers, **extra}
            )
            response = await http.send(request, stream=True)
            assert response.status_code == 200, (await response.aread()).decode()
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = SSEStream(response)
            streams.append(stream)
            await asyncio.wait_for(stream.connected.wait(), 5)
            return stream

        yield _open
        for stream in streams:
            await stream.close()
