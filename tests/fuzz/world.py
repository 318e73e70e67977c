"""What the fuzzer runs against: the app served by a real uvicorn on a free loopback port (in a
thread with its own event loop, since the fuzzer's requests are blocking calls), on a database
cloned from the demo, with a few cases filed and worked on so that reports, jobs, photos,
webhooks and keys exist; and the ids of everything in it, so that generated requests can name
real things instead of only ever meeting 404s."""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from app.demo.seed import demo_id
from app.main import create_app
from app.models import (
    ApiKey,
    Category,
    CheckIn,
    Community,
    CourierBranch,
    CourierCompany,
    Grid,
    Job,
    Pairing,
    Photo,
    Region,
    Report,
    RoleAssignment,
    Unit,
    User,
    Webhook,
)
from tests import pgbouncer
from tests.conftest import DEMO_PASSWORD, make_test_settings

PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "Canon_40D.jpg"
# Inside 东街社区 (community 1 of the demo: staff1, grid1; paired with unit1), WGS-84.
EAST_STREET_POINT = ("40.8436", "107.1499")
BANNER = demo_id("region", "杭锦后旗")
LEAD_UNIT = demo_id("unit", "旗农牧和科技局")  # unit1
SCIENCE_UNIT = demo_id("unit", "旗科协")  # unit4, also paired with 东街社区
# Webhooks of the scenario point here; the worker is off, so nothing is ever sent.
HOOK_URL = "http://127.0.0.1:9/hook"

# Which model's ids a parameter or body field named so takes (path, query and body alike).
ID_SOURCES: dict[str, Any] = {
    "report_id": Report.id,
    "duplicate_of": Report.id,
    "job_id": Job.id,
    "photo_id": Photo.id,
    "user_id": User.id,
    "assignee_id": User.id,
    "actor_id": User.id,
    "subject_id": User.id,
    "assignment_id": RoleAssignment.id,
    "key_id": ApiKey.id,
    "region_id": Region.id,
    "parent_id": Region.id,
    "community_id": Community.id,
    "grid_id": Grid.id,
    "unit_id": Unit.id,
    "lead_unit_id": Unit.id,
    "pairing_id": Pairing.id,
    "company_id": CourierCompany.id,
    "branch_id": CourierBranch.id,
    "check_in_id": CheckIn.id,
    "webhook_id": Webhook.id,
    "code": Category.code,
    "category_code": Category.code,
    "category_codes": Category.code,
}
ORDER_KEYS = ("created_at", "unit_id")
# Fields that name one thing of several kinds: the role's region, community, unit or branch.
SCOPE_SOURCES = ("region_id", "community_id", "unit_id", "branch_id")
# A point in 东街社区, for the fields of a position.
POSITIONS = {"lat": [float(EAST_STREET_POINT[0])], "lng": [float(EAST_STREET_POINT[1])]}
# Values that make a field valid beyond its schema: a webhook target allowed here, event
# patterns, the caller's own password where it is asked to confirm a change (not to cancel the
# account: the rest of the run would meet 401s).
VALUES: dict[str, list[Any]] = {
    "url": [HOOK_URL],
    "events": ["*", "report.*", "job.*", "report.submitted"],
    "current_password": [DEMO_PASSWORD],
}
# Per operation: signing in works as resident1 (whose sessions the fuzzer never needs).
OPERATION_VALUES: dict[str, dict[str, list[Any]]] = {
    "/api/v1/auth/token": {"username": ["resident1"], "password": [DEMO_PASSWORD]},
}
# Days and years the demo's calendar and cases live in.
CALENDAR_DAYS = ["2026-10-01", "2026-10-10", "2027-02-10", "2027-05-01"]
CALENDAR_YEARS = [2026, 2027]


class LiveServer:
    """uvicorn serving ``app`` in a thread of its own, on a port the OS picked."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(
            app,
            lifespan="on",
            log_config=None,
            access_log=False,
            proxy_headers=False,  # as `python -m app serve` runs it
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    async def start(self) -> None:
        self._thread.start()
        for _ in range(1000):
            if self._server.started or not self._thread.is_alive():
                break
            await asyncio.sleep(0.01)
        assert self._server.started, "uvicorn did not start"

    async def stop(self) -> None:
        self._server.should_exit = True
        await asyncio.to_thread(self._thread.join, 15)
        self._socket.close()


@dataclass
class World:
    """A served app on its own database, as one caller sees it."""

    role: str | None  # the demo account the fuzzer acts as; None: anonymous
    server: LiveServer
    headers: dict[str, str] = field(default_factory=dict)
    # A second login of the same account, for ending a login without ending the fuzzer's.
    spare_headers: dict[str, str] = field(default_factory=dict)
    refresh_tokens: list[str] = field(default_factory=list)
    ids: dict[str, list[str]] = field(default_factory=dict)
    # What the fuzzer got, by operation: how many answers of each status.
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def url(self) -> str:
        return self.server.url

    def real(self, name: str, path: str) -> Sequence[Any]:
        """Real values for a parameter or field of this name in the operation at ``path``
        (none if it names nothing)."""
        if name in OPERATION_VALUES.get(path, {}):
            return OPERATION_VALUES[path][name]
        if name in VALUES:
            return VALUES[name]
        if name == "day":
            return CALENDAR_DAYS
        if name == "year":
            return CALENDAR_YEARS
        if name == "last_event_id":
            return [0]  # the stream replays every event the caller may see
        if name == "refresh_token":
            return self.refresh_tokens
        if name == "scope_id":
            return [value for source in SCOPE_SOURCES for value in self.ids[source]]
        return POSITIONS.get(name) or self.ids.get(name, [])

    def count(self, operation: str, status: int) -> None:
        self.statuses[operation][status] += 1


async def build_world(role: str | None, database_url: str, workdir: Path) -> World:
    settings = make_test_settings(
        database_url,
        workdir,
        # The scenario's webhooks point at loopback, which an administrator must allow.
        webhook_allowed_hosts=["127.0.0.1"],
    )
    server = LiveServer(create_app(settings))
    await server.start()
    world = World(role=role, server=server)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            if role is not None:
                await _play_scenario(http)
                world.headers = await _login(http, role)
                world.spare_headers = await _login(http, role)
            for _ in range(2):
                signed_in = await _sign_in(http, "resident1")
                world.refresh_tokens.append(signed_in["refresh_token"])
            me = (await http.get("/api/v1/me", headers=world.headers)).json() if role else None
        world.ids = await _collect_ids(database_url)
        if me is not None:
            # An administrator may deactivate or cancel a user, or reset their password, by
            # id: not themselves, or the rest of the run would meet only 401s.
            world.ids["user_id"].remove(me["id"])
    except BaseException:
        await server.stop()
        raise
    return world


async def _sign_in(http: httpx.AsyncClient, username: str) -> dict[str, Any]:
    response = await http.post(
        "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _login(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {(await _sign_in(http, username))['access_token']}"}


async def _play_scenario(http: httpx.AsyncClient) -> None:
    """A case waiting for the community, one whistled to two units (jobs pending), one the
    community works on itself; a dashboard key, an administrator's and a unit's webhook."""
    logins = {
        name: await _login(http, name) for name in ("courier1", "grid1", "staff1", "unit1", "admin")
    }

    async def submit(username: str, description: str) -> str:
        response = await http.post(
            "/api/v1/reports",
            data={
                "category_code": "chaotic_parking",
                "description": description,
                "lat": EAST_STREET_POINT[0],
                "lng": EAST_STREET_POINT[1],
            },
            files=[("photos", ("photo.jpg", PHOTO.read_bytes(), "image/jpeg"))],
            headers={**logins[username], "Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.text
        report_id: str = response.json()["id"]
        return report_id

    async def act(username: str, path: str, body: dict[str, Any]) -> None:
        response = await http.post(path, json=body, headers=logins[username])
        assert response.status_code in (200, 201), response.text

    await submit("courier1", "巷口乱停车，消防车进不去")
    whistled = await submit("grid1", "小区门口车辆乱停，堵住通道")
    await act("staff1", f"/api/v1/reports/{whistled}/accept", {})
    await act(
        "staff1",
        f"/api/v1/reports/{whistled}/whistle",
        {"unit_ids": [str(LEAD_UNIT), str(SCIENCE_UNIT)], "lead_unit_id": str(LEAD_UNIT)},
    )
    in_house = await submit("grid1", "路边停车占用盲道")
    await act("staff1", f"/api/v1/reports/{in_house}/accept", {})
    await act("staff1", f"/api/v1/reports/{in_house}/start", {})
    await act("admin", "/api/v1/api-keys", {"name": "数据大屏", "region_id": str(BANNER)})
    await act("admin", "/api/v1/webhooks", {"url": HOOK_URL, "events": ["*"]})
    await act("unit1", "/api/v1/webhooks", {"url": HOOK_URL, "events": ["job.*"]})


async def _collect_ids(database_url: str) -> dict[str, list[str]]:
    engine = create_async_engine(pgbouncer.direct_url(database_url))
    try:
        async with engine.connect() as conn:
            ids: dict[str, list[str]] = {}
            for name, column in ID_SOURCES.items():
                # In the order they were made (the seed's ids are fixed, the scenario's are
                # not), so that a derandomised run picks the same things each time.
                model = column.class_
                order = [getattr(model, key) for key in ORDER_KEYS if hasattr(model, key)]
                rows = await conn.execute(select(column).order_by(*order, column))
                ids[name] = [str(value) for value in rows.scalars()]
            return ids
    finally:
        await engine.dispose()
