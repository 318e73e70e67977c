"""The whole loop of the seed story, through the HTTP API with the demo accounts.

A grid worker reports chaotic parking in 东街社区; the community whistles to three paired units;
one declines (wrong area), the lead accepts and completes with photos; verification fails once
(rework), then passes; the reporter rates. Then the points, the timeline, the lights and the
webhooks must all be as expected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.demo.seed import demo_id
from app.integrations.delivery import new_http_client
from app.worker import run_once
from tests.conftest import LoginFn
from tests.integrations.conftest import (  # noqa: F401
    RECEIVER_HOSTS,
    Receiver,
    create_webhook,
    receiver,
)
from tests.reports.conftest import SubmitFn, photo_bytes, submit  # noqa: F401

LEAD = str(demo_id("unit", "旗农牧和科技局"))  # unit1
RED_CROSS = str(demo_id("unit", "旗红十字会"))  # unit2
SCIENCE = str(demo_id("unit", "旗科协"))  # unit4
PHOTO = ("after.jpg", photo_bytes("DSCN0010.jpg"), "image/jpeg")


@pytest.fixture
def settings(database_url: str, settings_for: Callable[..., Settings]) -> Settings:
    """Webhooks allowed to the test's receiver, on loopback."""
    return settings_for(database_url, webhook_allowed_hosts=RECEIVER_HOSTS)


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ok_list(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


async def _job_of(
    client: httpx.AsyncClient, headers: dict[str, str], report_id: str
) -> dict[str, Any]:
    jobs: list[dict[str, Any]] = ok(
        await client.get(f"/api/v1/jobs?report_id={report_id}", headers=headers)
    )["items"]
    [job] = jobs
    return job


@pytest.mark.usefixtures("receiver")
async def test_the_seed_story(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,  # noqa: F811
    app: FastAPI,
    receiver: Receiver,  # noqa: F811
) -> None:
    admin, staff, grid = await login("admin"), await login("staff1"), await login("grid1")
    unit1, unit2 = await login("unit1"), await login("unit2")
    hook = await create_webhook(client, admin, receiver.url(), ["report.*", "job.*"])
    unit_hook = await create_webhook(client, unit1, receiver.url("/unit1"), ["job.*"], unit_id=LEAD)

    # A grid worker reports chaotic parking.
    filed = await submit("grid1", description="平房区巷口乱停车，消防车进不去")
    assert filed.status_code == 201, filed.text
    report = filed.json()
    rid = report["id"]
    assert report["community"]["name"] == "东街社区"
    assert report["source"] == "grid_patrol"

    # The community accepts it and whistles to three paired units, the first leading.
    ok(await client.post(f"/api/v1/reports/{rid}/accept", json={}, headers=staff))
    dispatched = ok(
        await client.post(
            f"/api/v1/reports/{rid}/whistle",
            json={"unit_ids": [LEAD, RED_CROSS, SCIENCE], "note": "请三家单位报到"},
            headers=staff,
        )
    )
    assert dispatched["status"] == "dispatched"
    jobs = dispatched["jobs"]
    assert (jobs[0]["unit"]["id"], jobs[0]["is_lead"]) == (LEAD, True)
    assert {(j["unit"]["id"], j["is_lead"]) for j in jobs[1:]} == {
        (RED_CROSS, False),
        (SCIENCE, False),
    }

    # One declines: wrong area.
    declined_job = await _job_of(client, unit2, rid)
    declined = ok(
        await client.post(
            f"/api/v1/jobs/{declined_job['id']}/decline",
            json={"reason_code": "wrong_area", "reason": "该巷道属另一社区"},
            headers=unit2,
        )
    )
    assert declined["status"] == "declined"

    # The lead accepts (报到) and completes with a photo: the case is resolved.
    lead_job = await _job_of(client, unit1, rid)
    # Until it accepts, only its answer clock runs; the completion clock starts on accepting.
    assert [(d["kind"], d["light"]) for d in lead_job["deadlines"]] == [("accept", "green")]
    ok(await client.post(f"/api/v1/jobs/{lead_job['id']}/accept", json={}, headers=unit1))
    completed = ok(
        await client.post(
            f"/api/v1/jobs/{lead_job['id']}/complete",
            data={"note": "已清理并划线"},
            files=[("photos", PHOTO)],
            headers=unit1,
        )
    )
    assert completed["report_status"] == "resolved"

    # Verification fails once: the lead's job is reopened for rework …
    failed = ok(
        await client.post(
            f"/api/v1/reports/{rid}/verify",
            data={"passed": "false", "note": "巷口仍有车辆"},
            headers=grid,
        )
    )
    assert failed["status"] == "dispatched"
    assert failed["rework_count"] == 1
    reworked = await _job_of(client, unit1, rid)
    assert reworked["status"] == "accepted"
    assert reworked["rework_count"] == 1

    # … the lead completes again, and verification passes: closed on time.
    ok(
        await client.post(
            f"/api/v1/jobs/{lead_job['id']}/complete",
            data={"note": "已加装隔离桩"},
            files=[("photos", PHOTO)],
            headers=unit1,
        )
    )
    closed = ok(
        await client.post(
            f"/api/v1/reports/{rid}/verify",
            data={"passed": "true"},
            files=[("photos", PHOTO)],
            headers=staff,
        )
    )
    assert closed["status"] == "closed"
    assert closed["closure_type"] == "normal"
    assert [(d["kind"], d["light"]) for d in closed["deadlines"]] == [
        ("accept", None),
        ("resolve", None),
    ]
    assert all(d["met_at"] for d in closed["deadlines"])

    # The reporter rates it.
    rated = ok(
        await client.post(
            f"/api/v1/reports/{rid}/rate", json={"satisfaction": "satisfied"}, headers=grid
        )
    )
    assert rated["rating"]["satisfaction"] == "satisfied"

    # Points: the valid report and the closure bonus, once each.
    points = ok(await client.get("/api/v1/points/me", headers=grid))
    assert points["balance"] == 15
    assert sorted(e["rule"] for e in points["items"]) == ["accepted", "closed_bonus"]

    # The timeline tells the whole story to the case's people, and nothing to others.
    staff_view = ok_list(await client.get(f"/api/v1/reports/{rid}/timeline", headers=staff))
    assert [e["type"] for e in staff_view] == [
        "submitted",
        "accept",
        "whistle",
        "job_decline",
        "job_accept",
        "job_complete",
        "lead_completed",
        "verify_fail",
        "job_rework",
        "job_complete",
        "lead_completed",
        "verify_pass",
        "job_cancel",
        "rate",
    ]
    decline = staff_view[3]
    assert decline["reason"] == "该巷道属另一社区"
    outsider = await client.get(f"/api/v1/reports/{rid}/timeline", headers=await login("unit3"))
    assert outsider.status_code == 404
    assert len(staff_view[5]["photos"]) == 1

    # The assisting unit that never answered did not hold the case up; closing the case
    # withdrew its job, so no clock of a closed case runs on.
    final = ok(await client.get(f"/api/v1/reports/{rid}", headers=staff))
    assert {j["unit"]["id"]: j["status"] for j in final["jobs"]} == {
        LEAD: "completed",
        RED_CROSS: "declined",
        SCIENCE: "cancelled",
    }
    assert staff_view[-2]["reason"] == "The case was closed: nothing is left to do"

    # Webhooks: the worker delivers every event, signed; the unit's hook only job events …
    settings = app.state.settings
    async with new_http_client(settings) as http:
        result = await run_once(
            app.state.sessionmaker,
            settings,
            FrozenClock(datetime.now(UTC)),
            app.state.calendar,
            http,
        )
    assert result.failed_steps == []
    admin_events = [r.json["type"] for r in receiver.verified(hook["secret"]) if r.path == "/hook"]
    assert len(admin_events) == len(receiver.requests) - len(
        [r for r in receiver.requests if r.path == "/unit1"]
    )
    assert {
        "report.submitted",
        "report.accept",
        "report.whistle",
        "job.dispatched",
        "job.decline",
        "job.complete",
        "report.lead_completed",
        "report.verify_fail",
        "job.rework",
        "report.verify_pass",
        "job.cancel",
        "report.rate",
    } <= set(admin_events)
    unit_events = [r.json for r in receiver.verified(unit_hook["secret"]) if r.path == "/unit1"]
    assert unit_events
    assert all(e["type"].startswith("job.") for e in unit_events)
    # … of the cases the unit works on (the other units' jobs on them included, as in the
    # report detail the unit sees), and nothing else.
    assert {e["report"]["id"] for e in unit_events} == {rid}
    assert LEAD in {e["job"]["unit_id"] for e in unit_events}
