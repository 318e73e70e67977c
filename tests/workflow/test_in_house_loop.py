"""The community handles a case itself: accept, start, resolve, verify (fail, then pass), rate,
reopen; and every refusal along the way changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import OutboxEvent, ReportEvent
from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn, photo_bytes

PHOTO = [("after.jpg", photo_bytes("DSCN0010.jpg"))]


async def _act(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    report_id: str,
    action: str,
    json: dict[str, Any] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    if json is not None or not kwargs:
        return await client.post(
            f"/api/v1/reports/{report_id}/{action}", json=json or {}, headers=headers
        )
    return await client.post(f"/api/v1/reports/{report_id}/{action}", headers=headers, **kwargs)


@pytest.fixture
async def report(submit: SubmitFn) -> dict[str, Any]:
    response = await submit("courier1")
    assert response.status_code == 201
    filed: dict[str, Any] = response.json()
    return filed


async def test_in_house_loop(
    client: httpx.AsyncClient, login: LoginFn, report: dict[str, Any], session: AsyncSession
) -> None:
    staff, grid = await login("staff1"), await login("grid1")
    rid = report["id"]

    accepted = await _act(client, staff, rid, "accept", {"priority": "high", "note": "属实"})
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted"
    assert body["priority"] == "high"
    assert body["accepted_at"]
    assert accepted.headers["etag"] == f'"{rid}-v2"'
    assert [d["kind"] for d in body["deadlines"]] == ["accept", "resolve"]
    assert body["deadlines"][0]["met_at"] == body["accepted_at"]

    grid_id = (await client.get("/api/v1/me", headers=grid)).json()["id"]
    started = await _act(client, staff, rid, "start", {"assignee_id": grid_id})
    assert started.json()["status"] == "in_progress"

    no_photo = await _act(client, grid, rid, "resolve", data={"note": "已挪走"})
    assert no_photo.status_code == 422
    resolved = await _act(
        client, grid, rid, "resolve", data={"note": "已挪走"}, files=[("photos", PHOTO[0])]
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"

    failed = await _act(client, staff, rid, "verify", data={"passed": "false", "note": "还有"})
    assert failed.json()["status"] == "in_progress"
    resolved = await _act(
        client, grid, rid, "resolve", data={"note": "清完了"}, files=[("photos", PHOTO[0])]
    )
    passed = await _act(client, staff, rid, "verify", data={"passed": "true"})
    assert passed.status_code == 200
    closed = passed.json()
    assert closed["status"] == "closed"
    assert closed["closed_at"]

    rating = await _act(client, await login("courier1"), rid, "rate", {"satisfaction": "satisfied"})
    assert rating.status_code == 200
    again = await _act(client, await login("courier1"), rid, "rate", {"satisfaction": "satisfied"})
    assert again.status_code == 422

    timeline = (await client.get(f"/api/v1/reports/{rid}/timeline", headers=staff)).json()
    assert [e["type"] for e in timeline] == [
        "submitted",
        "accept",
        "start",
        "resolve",
        "verify_fail",
        "resolve",
        "verify_pass",
        "rate",
    ]
    assert len(timeline[3]["photos"]) == 1
    outbox = await session.execute(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type.like("report.%"))
    )
    assert outbox.scalar_one() >= 7

    reopened = await _act(client, staff, rid, "reopen", {"reason": "居民不满意"})
    assert reopened.json()["status"] == "accepted"


@pytest.mark.parametrize(
    ("username", "action", "body", "status", "code"),
    [
        ("staff1", "start", {}, 409, "invalid_transition"),  # not accepted yet
        ("staff1", "reject", {}, 422, "validation_error"),  # reason required
        ("staff2", "accept", {}, 404, "not_found"),  # another community
        ("courier1", "accept", {}, 403, "forbidden"),  # the reporter cannot triage
        ("grid1", "accept", {}, 403, "forbidden"),
        ("staff1", "rate", {"satisfaction": "satisfied"}, 409, "invalid_transition"),
        ("supervisor", "resume", {}, 409, "invalid_transition"),
        ("staff1", "hold", {"reason": "冬季"}, 409, "invalid_transition"),
        ("staff1", "accept", {"category_code": "component_public_facilities"}, 422, None),
    ],
)
async def test_refusals_change_nothing(
    client: httpx.AsyncClient,
    login: LoginFn,
    report: dict[str, Any],
    session: AsyncSession,
    username: str,
    action: str,
    body: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    rid = report["id"]
    events = (
        select(func.count()).select_from(ReportEvent).where(ReportEvent.report_id == uuid.UUID(rid))
    )
    before = await session.scalar(events)
    response = await _act(client, await login(username), rid, action, body)
    assert response.status_code == status, response.text
    if code:
        assert response.json()["code"] == code
    detail = (await client.get(f"/api/v1/reports/{rid}", headers=await login("admin"))).json()
    assert detail["status"] == "submitted"
    assert detail["version"] == 1
    assert await session.scalar(events) == before


async def test_stale_if_match_is_412(
    client: httpx.AsyncClient, login: LoginFn, report: dict[str, Any]
) -> None:
    staff = await login("staff1")
    rid = report["id"]
    stale = {**staff, "If-Match": f'"{rid}-v0"'}
    response = await client.post(f"/api/v1/reports/{rid}/accept", json={}, headers=stale)
    assert response.status_code == 412
    fresh = {**staff, "If-Match": f'"{rid}-v1"'}
    assert (
        await client.post(f"/api/v1/reports/{rid}/accept", json={}, headers=fresh)
    ).status_code == 200
