"""Helpers for job tests: a case the community accepted, the whistle, and snapshots that show
a refused request changed nothing."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.reports.conftest import (  # noqa: F401
    SubmitFn,
    community_1_point,
    photo_bytes,
    submit,
)

# The units of the demo, by the account of their staff.
LEAD = "旗农牧和科技局"  # unit1, paired with 东街社区 for every category
RED_CROSS = "旗红十字会"  # unit2, paired with 东街社区 for every category
SCIENCE = "旗科协"  # unit4, paired with 东街社区 for every category
TRANSPORT = "旗交通运输局"  # unit3, not paired with 东街社区
CITY_ORDER = "旗城管执法局"  # unit6, paired with 东街社区 for street-order categories only
POWER = "国网杭锦后旗供电公司"  # unit7, paired with 东街社区 for street lights only
UNIT_NAMES = {LEAD, RED_CROSS, SCIENCE, TRANSPORT, CITY_ORDER, POWER}
PHOTO = ("after.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")


def unit_id(name: str) -> str:
    return str(demo_id("unit", name))


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ok_list(response: httpx.Response) -> list[dict[str, Any]]:
    """The body of a 200 answer that is a list (a timeline)."""
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


CaseFn = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def accepted_case(client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn) -> CaseFn:  # noqa: F811
    """``await accepted_case()``: grid1 reports chaotic parking in 东街社区, staff1 accepts it
    (立案). Returns the report as the accept answered it."""

    async def _make(**fields: Any) -> dict[str, Any]:
        submitted = await submit("grid1", **fields)
        assert submitted.status_code == 201, submitted.text
        report_id = submitted.json()["id"]
        accepted = await client.post(
            f"/api/v1/reports/{report_id}/accept", json={}, headers=await login("staff1")
        )
        return ok(accepted)

    return _make


WhistleFn = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def whistle(client: httpx.AsyncClient, login: LoginFn) -> WhistleFn:
    """``await whistle(report_id, [LEAD, SCIENCE], as_user="staff1", **body)``."""

    async def _whistle(
        report_id: str,
        units: list[str],
        *,
        as_user: str = "staff1",
        headers: dict[str, str] | None = None,
        **body: Any,
    ) -> httpx.Response:
        return await client.post(
            f"/api/v1/reports/{report_id}/whistle",
            json={"unit_ids": [unit_id(u) if u in UNIT_NAMES else u for u in units], **body},
            headers={**(await login(as_user)), **(headers or {})},
        )

    return _whistle


async def jobs_by_unit(
    client: httpx.AsyncClient, headers: dict[str, str], report_id: str
) -> dict[str, dict[str, Any]]:
    """The case's jobs as ``headers`` see them, keyed by unit name."""
    listed = ok(await client.get(f"/api/v1/jobs?report_id={report_id}", headers=headers))
    return {job["unit"]["name"]: job for job in listed["items"]}


SnapshotFn = Callable[[str], Awaitable[dict[str, Any]]]


@pytest.fixture
def snapshot(client: httpx.AsyncClient, login: LoginFn) -> SnapshotFn:
    """What a refused request must leave alone: the report's status and version, its timeline,
    and every job's status and version (as the banner's supervisor sees them)."""

    async def _snapshot(report_id: str) -> dict[str, Any]:
        headers = await login("supervisor")
        report = ok(await client.get(f"/api/v1/reports/{report_id}", headers=headers))
        timeline = ok(await client.get(f"/api/v1/reports/{report_id}/timeline", headers=headers))
        jobs = await jobs_by_unit(client, headers, report_id)
        return {
            "status": report["status"],
            "version": report["version"],
            "timeline": len(timeline),
            "jobs": {name: (j["status"], j["version"]) for name, j in jobs.items()},
        }

    return _snapshot


def new_id() -> str:
    return str(uuid.uuid4())
