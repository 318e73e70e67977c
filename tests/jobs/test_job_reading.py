"""Who sees which jobs and cases, the inbox filters, lights and pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.clock import FrozenClock
from tests.conftest import LoginFn
from tests.jobs.conftest import (
    LEAD,
    RED_CROSS,
    SCIENCE,
    CaseFn,
    WhistleFn,
    jobs_by_unit,
    ok,
    problem,
    unit_id,
)


@pytest.fixture
async def two_cases(
    accepted_case: CaseFn, whistle: WhistleFn, client: httpx.AsyncClient, login: LoginFn
) -> dict[str, Any]:
    """Case A whistled to 旗农牧和科技局 (lead) and 旗红十字会; case B to 旗科协 alone."""
    a = await accepted_case()
    b = await accepted_case(description="又一处乱停车，堵住了幼儿园门口")
    ok(await whistle(a["id"], [LEAD, RED_CROSS]))
    ok(await whistle(b["id"], [SCIENCE]))
    supervisor = await login("supervisor")
    return {
        "a": a,
        "b": b,
        "a_jobs": await jobs_by_unit(client, supervisor, a["id"]),
        "b_jobs": await jobs_by_unit(client, supervisor, b["id"]),
    }


async def _job_ids(client: httpx.AsyncClient, headers: dict[str, str], query: str = "") -> set[str]:
    listed = ok(await client.get(f"/api/v1/jobs?limit=200{query}", headers=headers))
    return {job["id"] for job in listed["items"]}


async def test_each_caller_sees_the_jobs_of_their_place(
    client: httpx.AsyncClient, login: LoginFn, two_cases: dict[str, Any]
) -> None:
    lead = two_cases["a_jobs"][LEAD]["id"]
    red_cross = two_cases["a_jobs"][RED_CROSS]["id"]
    science = two_cases["b_jobs"][SCIENCE]["id"]
    everything = {lead, red_cross, science}
    assert await _job_ids(client, await login("unit1")) == {lead}
    assert await _job_ids(client, await login("unit2")) == {red_cross}
    assert await _job_ids(client, await login("unit3")) == set()
    assert await _job_ids(client, await login("staff1")) == everything
    assert await _job_ids(client, await login("staff2")) == set()
    assert await _job_ids(client, await login("supervisor")) == everything
    assert await _job_ids(client, await login("admin")) == everything

    for user in ("unit3", "unit2", "staff2"):
        problem(
            await client.get(f"/api/v1/jobs/{lead}", headers=await login(user)), 404, "not_found"
        )
    problem(await client.get("/api/v1/jobs", headers=await login("courier1")), 403, "forbidden")
    shown = await client.get(f"/api/v1/jobs/{lead}", headers=await login("unit1"))
    assert shown.headers["ETag"] == f'"{lead}-v{ok(shown)["version"]}"'


async def test_units_see_the_cases_they_work_on(
    client: httpx.AsyncClient, login: LoginFn, two_cases: dict[str, Any]
) -> None:
    a, b = two_cases["a"]["id"], two_cases["b"]["id"]
    unit1 = await login("unit1")
    report = ok(await client.get(f"/api/v1/reports/{a}", headers=unit1))
    assert report["status"] == "dispatched"
    assert report["description"]
    reporter_phone = ok(await client.get("/api/v1/me", headers=await login("grid1")))["phone"]
    assert reporter_phone
    # Units see the case, never the reporter's phone number in full.
    assert reporter_phone not in (await client.get(f"/api/v1/reports/{a}", headers=unit1)).text
    problem(await client.get(f"/api/v1/reports/{b}", headers=unit1), 404, "not_found")
    problem(
        await client.get(f"/api/v1/reports/{a}", headers=await login("unit3")), 404, "not_found"
    )

    listed = ok(await client.get("/api/v1/reports?limit=200", headers=unit1))
    assert {r["id"] for r in listed["items"]} == {a}
    by_unit = ok(await client.get(f"/api/v1/reports?unit_id={unit_id(LEAD)}", headers=unit1))
    assert [r["id"] for r in by_unit["items"]] == [a]
    supervisor = await login("supervisor")
    science = ok(
        await client.get(f"/api/v1/reports?unit_id={unit_id(SCIENCE)}", headers=supervisor)
    )
    assert [r["id"] for r in science["items"]] == [b]
    # The filter narrows what the caller sees; it never widens it.
    assert (
        ok(await client.get(f"/api/v1/reports?unit_id={unit_id(SCIENCE)}", headers=unit1))["items"]
        == []
    )


async def test_inbox_filters(
    client: httpx.AsyncClient, login: LoginFn, two_cases: dict[str, Any]
) -> None:
    supervisor = await login("supervisor")
    lead = two_cases["a_jobs"][LEAD]
    red_cross = two_cases["a_jobs"][RED_CROSS]
    science = two_cases["b_jobs"][SCIENCE]
    ok(
        await client.post(
            f"/api/v1/jobs/{lead['id']}/accept", json={}, headers=await login("unit1")
        )
    )
    ok(
        await client.post(
            f"/api/v1/jobs/{red_cross['id']}/decline",
            json={"reason_code": "other", "reason": "人手不足"},
            headers=await login("unit2"),
        )
    )
    assert await _job_ids(client, supervisor, f"&unit_id={unit_id(LEAD)}") == {lead["id"]}
    assert await _job_ids(client, supervisor, f"&report_id={two_cases['b']['id']}") == {
        science["id"]
    }
    assert await _job_ids(client, supervisor, "&status=pending") == {science["id"]}
    assert await _job_ids(client, supervisor, "&status=accepted&status=declined") == {
        lead["id"],
        red_cross["id"],
    }
    problem(
        await client.get("/api/v1/jobs?status=lost", headers=supervisor), 422, "validation_error"
    )


async def test_overdue_jobs_and_their_lights(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, two_cases: dict[str, Any]
) -> None:
    supervisor = await login("supervisor")
    lead = ok(
        await client.post(
            f"/api/v1/jobs/{two_cases['a_jobs'][LEAD]['id']}/accept",
            json={},
            headers=await login("unit1"),
        )
    )
    assert await _job_ids(client, supervisor, "&overdue=true") == set()

    accept_due = datetime.fromisoformat(lead["deadlines"][0]["due_at"])
    app.state.clock = FrozenClock(accept_due + timedelta(minutes=1))
    # The pending ones missed their answer time; the accepted lead still has time to finish.
    overdue = await _job_ids(client, supervisor, "&overdue=true")
    assert overdue == {two_cases["a_jobs"][RED_CROSS]["id"], two_cases["b_jobs"][SCIENCE]["id"]}
    science = ok(
        await client.get(f"/api/v1/jobs/{two_cases['b_jobs'][SCIENCE]['id']}", headers=supervisor)
    )
    # Not accepted: only the answer clock runs, and it ran out.
    assert [(d["kind"], d["light"]) for d in science["deadlines"]] == [("accept", "red")]

    complete_due = datetime.fromisoformat(lead["deadlines"][1]["due_at"])
    app.state.clock = FrozenClock(complete_due + timedelta(minutes=1))
    assert lead["id"] in await _job_ids(client, supervisor, "&overdue=true")
    shown = ok(await client.get(f"/api/v1/jobs/{lead['id']}", headers=supervisor))
    assert shown["deadlines"][0]["light"] is None  # answered in time: that clock stopped
    assert shown["deadlines"][1]["light"] == "red"


async def test_pages_follow_cursors_newest_first(
    client: httpx.AsyncClient, login: LoginFn, two_cases: dict[str, Any]
) -> None:
    supervisor = await login("supervisor")
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = "/api/v1/jobs?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = ok(await client.get(query, headers=supervisor))
        assert len(page["items"]) <= 1
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 3
    assert len({job["id"] for job in seen}) == 3
    created = [job["created_at"] for job in seen]
    assert created == sorted(created, reverse=True)
