"""A case that ends leaves no unit's clock running: closing it cancels the jobs still pending
or accepted (an assisting unit still at work when the lead's result passed), with the reason
in the timeline and a ``job.cancel`` event for the unit; the overdue sweep finds nothing to
mark weeks later; reopening the case leaves them cancelled."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.workcalendar import WorkingCalendar
from app.models import OutboxEvent, OverdueMark, Report
from app.workflow.overdue import sweep_overdue
from tests.conftest import LoginFn
from tests.jobs.conftest import (
    LEAD,
    PHOTO,
    RED_CROSS,
    SCIENCE,
    CaseFn,
    WhistleFn,
    jobs_by_unit,
    ok,
    ok_list,
    problem,
)

CLOSED_REASON = "The case was closed: nothing is left to do"


async def _closed_with_assisting_units_still_open(
    client: httpx.AsyncClient, login: LoginFn, accepted_case: CaseFn, whistle: WhistleFn
) -> dict[str, Any]:
    """The README's story: three units called; 旗红十字会 accepts and is still at work, 旗科协
    never answers; the lead finishes and the check passes."""
    case = await accepted_case()
    report_id = case["id"]
    ok(await whistle(report_id, [LEAD, RED_CROSS, SCIENCE]))
    jobs = await jobs_by_unit(client, await login("staff1"), report_id)
    unit1, unit2 = await login("unit1"), await login("unit2")
    ok(await client.post(f"/api/v1/jobs/{jobs[RED_CROSS]['id']}/accept", json={}, headers=unit2))
    lead_url = f"/api/v1/jobs/{jobs[LEAD]['id']}"
    ok(await client.post(f"{lead_url}/accept", json={}, headers=unit1))
    ok(
        await client.post(
            f"{lead_url}/complete",
            data={"note": "已清理"},
            files=[("photos", PHOTO)],
            headers=unit1,
        )
    )
    closed = ok(
        await client.post(
            f"/api/v1/reports/{report_id}/verify",
            data={"passed": "true"},
            headers=await login("staff1"),
        )
    )
    assert closed["status"] == "closed"
    return {"report": closed, "jobs": jobs}


async def test_closing_a_case_cancels_the_jobs_still_open(
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    accepted_case: CaseFn,
    whistle: WhistleFn,
) -> None:
    story = await _closed_with_assisting_units_still_open(client, login, accepted_case, whistle)
    report_id, closed = story["report"]["id"], story["report"]
    staff1 = await login("staff1")

    jobs = await jobs_by_unit(client, staff1, report_id)
    assert {name: job["status"] for name, job in jobs.items()} == {
        LEAD: "completed",
        RED_CROSS: "cancelled",
        SCIENCE: "cancelled",
    }
    for name in (RED_CROSS, SCIENCE):
        assert jobs[name]["cancelled_at"] == closed["closed_at"]
        assert [d["light"] for d in jobs[name]["deadlines"]] == [None] * len(
            jobs[name]["deadlines"]
        )
    # The report's detail shows the same.
    assert {j["unit"]["name"]: j["status"] for j in closed["jobs"]} == {
        LEAD: "completed",
        RED_CROSS: "cancelled",
        SCIENCE: "cancelled",
    }

    # The timeline says why, to the case's staff (an internal note), in the closer's role.
    timeline = ok_list(await client.get(f"/api/v1/reports/{report_id}/timeline", headers=staff1))
    assert [e["type"] for e in timeline][-3:] == ["verify_pass", "job_cancel", "job_cancel"]
    for event in timeline[-2:]:
        assert event["reason"] == CLOSED_REASON
        assert event["is_internal"] is True
        assert event["actor_role"] == "community_staff"

    # Each unit is told (job.cancel, the event a withdrawn job always sends).
    cancelled = (
        await session.scalars(
            select(OutboxEvent.job_id).where(
                OutboxEvent.report_id == uuid.UUID(report_id), OutboxEvent.type == "job.cancel"
            )
        )
    ).all()
    assert {str(job_id) for job_id in cancelled} == {
        jobs[RED_CROSS]["id"],
        jobs[SCIENCE]["id"],
    }

    # The units have nothing left to do on it.
    problem(
        await client.post(
            f"/api/v1/jobs/{jobs[RED_CROSS]['id']}/progress",
            data={"note": "继续清理"},
            headers=await login("unit2"),
        ),
        409,
        "invalid_transition",
    )
    problem(
        await client.post(
            f"/api/v1/jobs/{jobs[SCIENCE]['id']}/accept", json={}, headers=await login("unit4")
        ),
        409,
        "invalid_transition",
    )


async def test_weeks_after_closing_nothing_of_the_case_is_overdue(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    accepted_case: CaseFn,
    whistle: WhistleFn,
) -> None:
    story = await _closed_with_assisting_units_still_open(client, login, accepted_case, whistle)
    report_id = uuid.UUID(story["report"]["id"])
    supervisor = await login("supervisor")
    weeks_later = datetime.fromisoformat(story["report"]["closed_at"]) + timedelta(weeks=3)

    recorded = await sweep_overdue(
        app.state.sessionmaker, weeks_later, WorkingCalendar(), app.state.settings
    )
    assert recorded == 0
    marks = await session.scalar(
        select(func.count()).select_from(OverdueMark).where(OverdueMark.report_id == report_id)
    )
    assert marks == 0
    report = await session.get_one(Report, report_id, populate_existing=True)
    assert report.supervision_level is None

    app.state.clock = FrozenClock(weeks_later)
    overdue = ok(await client.get("/api/v1/jobs?overdue=true&limit=200", headers=supervisor))
    assert str(report_id) not in {job["report_id"] for job in overdue["items"]}
    shown = ok(await client.get(f"/api/v1/reports/{report_id}", headers=supervisor))
    assert [d["light"] for d in shown["deadlines"]] == [None, None]
    assert shown["supervision_level"] is None


async def test_a_reopened_case_keeps_its_cancelled_jobs_cancelled(
    client: httpx.AsyncClient, login: LoginFn, accepted_case: CaseFn, whistle: WhistleFn
) -> None:
    story = await _closed_with_assisting_units_still_open(client, login, accepted_case, whistle)
    report_id = story["report"]["id"]
    staff1 = await login("staff1")
    reopened = ok(
        await client.post(
            f"/api/v1/reports/{report_id}/reopen",
            json={"reason": "居民反映巷口又被堵"},
            headers=staff1,
        )
    )
    # Back with the community, which whistles again if it needs units.
    assert reopened["status"] == "accepted"
    jobs = await jobs_by_unit(client, staff1, report_id)
    assert {name: job["status"] for name, job in jobs.items()} == {
        LEAD: "completed",
        RED_CROSS: "cancelled",
        SCIENCE: "cancelled",
    }
    again = ok(await whistle(report_id, [SCIENCE]))
    assert again["status"] == "dispatched"
    science_jobs = [j for j in again["jobs"] if j["unit"]["name"] == SCIENCE]
    assert sorted(j["status"] for j in science_jobs) == ["cancelled", "pending"]
