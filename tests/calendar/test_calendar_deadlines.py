"""Working-hour deadlines on a calendar administrators set: new deadlines follow it at once,
deadlines already set stay until an admin recomputes them, and the recomputation tells each
case's timeline what moved."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.demo.seed import demo_id
from app.models import ClockTimer
from tests.calendar.conftest import at, china, import_spring_festival, ok, problem
from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn
from tests.workflow.clock_timer_checks import assert_timers_cover, set_exactly

LEAD_UNIT = str(demo_id("unit", "旗农牧和科技局"))  # unit1, paired with 东街社区
RED_CROSS_UNIT = str(demo_id("unit", "旗红十字会"))  # unit2, paired with 东街社区
RECOMPUTE = "/api/v1/admin/calendar/recompute-deadlines"


def deadline(report: dict[str, Any], kind: str) -> object:
    (found,) = [d for d in report["deadlines"] if d["kind"] == kind]
    return at(found["due_at"])


async def test_the_spring_festival_moves_a_deadline_past_the_holiday(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    # Tokens first: a token from a frozen clock in the future would not be valid yet.
    admin, staff = await login("admin"), await login("staff1")
    await login("courier1")
    # Friday 5 February 2027, 10:00, the eve of the (test) Spring Festival week. Chaotic parking
    # must be accepted within 24 working hours.
    app.state.clock = FrozenClock(china(2027, 2, 5, 10, 0))
    before = ok(await submit("courier1"), 201)
    # On the weekday rule the holiday week counts: Friday 7 h, Monday and Tuesday 8 h each,
    # Wednesday 10 February 09:00–10:00.
    assert deadline(before, "accept") == china(2027, 2, 10, 10, 0)

    await import_spring_festival(client, admin)
    after = ok(await submit("courier1"), 201)
    # With 6–14 February off, the last hour falls on Wednesday 17 February.
    assert deadline(after, "accept") == china(2027, 2, 17, 10, 0)
    # The first report keeps the deadline it was given.
    first = ok(await client.get(f"/api/v1/reports/{before['id']}", headers=staff))
    assert deadline(first, "accept") == china(2027, 2, 10, 10, 0)


async def test_a_make_up_saturday_counts_as_working(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    admin = await login("admin")
    await login("courier1")
    await import_spring_festival(client, admin)
    # Friday 19 February 2027, 17:00: one hour that evening, eight on the make-up Saturday
    # (调休), eight on Monday, seven on Tuesday.
    app.state.clock = FrozenClock(china(2027, 2, 19, 17, 0))
    report = ok(await submit("courier1"), 201)
    assert deadline(report, "accept") == china(2027, 2, 23, 17, 0)

    # The same evening on the weekday rule: the Saturday is a rest day, Wednesday 17:00.
    removed = await client.delete("/api/v1/admin/calendar/2027-02-20", headers=admin)
    assert removed.status_code == 204
    report = ok(await submit("courier1"), 201)
    assert deadline(report, "accept") == china(2027, 2, 24, 17, 0)


async def test_only_admins_recompute(client: httpx.AsyncClient, login: LoginFn) -> None:
    problem(await client.post(RECOMPUTE), 401, "unauthorized")
    problem(await client.post(RECOMPUTE, headers=await login("supervisor")), 403, "forbidden")


async def test_recomputing_moves_open_clocks_and_tells_each_case(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    admin, staff, courier = await login("admin"), await login("staff1"), await login("courier1")
    await login("grid1")
    app.state.clock = FrozenClock(china(2027, 2, 5, 10, 0))
    waiting = ok(await submit("grid1"), 201)
    dispatched = ok(await submit("courier1"), 201)
    # Calendar hours: the calendar does not count for them.
    fire_lane = ok(await submit("grid1", category_code="blocked_fire_lane"), 201)
    rid = dispatched["id"]
    ok(await client.post(f"/api/v1/reports/{rid}/accept", json={}, headers=staff))
    ok(
        await client.post(
            f"/api/v1/reports/{rid}/whistle", json={"unit_ids": [LEAD_UNIT]}, headers=staff
        )
    )
    detail = ok(await client.get(f"/api/v1/reports/{rid}", headers=staff))
    # 40 working hours from Friday 10:00 on the weekday rule: Friday 12 February 10:00.
    assert deadline(detail, "resolve") == china(2027, 2, 12, 10, 0)
    (job,) = detail["jobs"]
    (job_accept,) = [d for d in job["deadlines"] if d["kind"] == "accept"]
    assert at(job_accept["due_at"]) == china(2027, 2, 10, 10, 0)

    await import_spring_festival(client, admin)
    # Changing the calendar moved nothing.
    assert deadline(
        ok(await client.get(f"/api/v1/reports/{waiting['id']}", headers=staff)), "accept"
    ) == china(2027, 2, 10, 10, 0)

    preview = ok(await client.post(f"{RECOMPUTE}?dry_run=true", headers=admin))
    assert preview["dry_run"] is True
    assert preview["clocks_moved"] == 3
    unchanged = ok(await client.get(f"/api/v1/reports/{waiting['id']}", headers=staff))
    assert deadline(unchanged, "accept") == china(2027, 2, 10, 10, 0)

    result = ok(await client.post(RECOMPUTE, headers=admin))
    assert result["dry_run"] is False
    assert result["clocks_moved"] == 3
    moved = {
        (case["number"], clock["clock"]): (at(clock["previous_due_at"]), at(clock["due_at"]))
        for case in result["cases"]
        for clock in case["clocks"]
    }
    assert moved == {
        (waiting["number"], "report_accept"): (
            china(2027, 2, 10, 10, 0),
            china(2027, 2, 17, 10, 0),
        ),
        (dispatched["number"], "report_resolve"): (
            china(2027, 2, 12, 10, 0),
            china(2027, 2, 19, 10, 0),
        ),
        (dispatched["number"], "job_accept"): (
            china(2027, 2, 10, 10, 0),
            china(2027, 2, 17, 10, 0),
        ),
    }
    assert fire_lane["number"] not in {case["number"] for case in result["cases"]}

    detail = ok(await client.get(f"/api/v1/reports/{rid}", headers=staff))
    assert deadline(detail, "resolve") == china(2027, 2, 19, 10, 0)
    (job_accept,) = [d for d in detail["jobs"][0]["deadlines"] if d["kind"] == "accept"]
    assert at(job_accept["due_at"]) == china(2027, 2, 17, 10, 0)
    waiting_now = ok(await client.get(f"/api/v1/reports/{waiting['id']}", headers=staff))
    assert deadline(waiting_now, "accept") == china(2027, 2, 17, 10, 0)

    timeline = ok(await client.get(f"/api/v1/reports/{rid}/timeline", headers=staff))
    recomputed = [e for e in timeline if e["type"] == "deadlines_recomputed"]
    assert len(recomputed) == 1
    assert recomputed[0]["actor_role"] == "admin"
    assert "resolve due 2027-02-12 10:00 → 2027-02-19 10:00" in recomputed[0]["note"]
    assert "job accept due 2027-02-10 10:00 → 2027-02-17 10:00" in recomputed[0]["note"]
    # Staff's business: the courier who reported it does not see it.
    reporter_view = ok(await client.get(f"/api/v1/reports/{rid}/timeline", headers=courier))
    assert "deadlines_recomputed" not in {e["type"] for e in reporter_view}

    again = ok(await client.post(RECOMPUTE, headers=admin))
    assert (again["clocks_moved"], again["cases"]) == (0, [])
    assert again["clocks_checked"] == 3


async def test_clocks_already_run_out_keep_their_deadline(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    admin, staff = await login("admin"), await login("staff1")
    await login("courier1")
    app.state.clock = FrozenClock(china(2027, 2, 5, 10, 0))
    report = ok(await submit("courier1"), 201)
    await import_spring_festival(client, admin)
    # Thursday 11 February: the weekday-rule deadline (Wednesday 10:00) has passed; the overdue
    # sweep may have raised it to the supervisors already.
    app.state.clock = FrozenClock(china(2027, 2, 11, 9, 0))
    result = ok(await client.post(RECOMPUTE, headers=admin))
    assert (result["clocks_checked"], result["clocks_moved"]) == (0, 0)
    detail = ok(await client.get(f"/api/v1/reports/{report['id']}", headers=staff))
    assert deadline(detail, "accept") == china(2027, 2, 10, 10, 0).astimezone(UTC)


async def test_recomputing_counts_holds_and_starts_a_units_clock_at_its_acceptance(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    admin, staff, supervisor = (
        await login("admin"),
        await login("staff1"),
        await login("supervisor"),
    )
    unit1, unit2 = await login("unit1"), await login("unit2")
    await login("grid1")
    clock = FrozenClock(china(2027, 2, 3, 10, 0))  # Wednesday
    app.state.clock = clock
    rid = ok(await submit("grid1"), 201)["id"]
    ok(await client.post(f"/api/v1/reports/{rid}/accept", json={}, headers=staff))
    whistle = f"/api/v1/reports/{rid}/whistle"
    ok(await client.post(whistle, json={"unit_ids": [LEAD_UNIT]}, headers=staff))
    # The assisting unit is given a completion time by name: it is not the calendar's to move.
    named = china(2027, 2, 12, 18, 0)
    ok(
        await client.post(
            whistle,
            json={"unit_ids": [RED_CROSS_UNIT], "complete_by": named.isoformat()},
            headers=staff,
        )
    )
    jobs = ok(await client.get(f"/api/v1/jobs?report_id={rid}", headers=staff))["items"]
    lead_job = next(j["id"] for j in jobs if j["unit"]["id"] == LEAD_UNIT)
    assist_job = next(j["id"] for j in jobs if j["unit"]["id"] == RED_CROSS_UNIT)
    clock.at = china(2027, 2, 3, 11, 0)
    ok(await client.post(f"/api/v1/jobs/{lead_job}/accept", json={}, headers=unit1))
    ok(await client.post(f"/api/v1/jobs/{assist_job}/accept", json={}, headers=unit2))
    # On hold Thursday 09:00–13:00: three working hours held, added on resuming.
    clock.at = china(2027, 2, 4, 9, 0)
    hold = {"reason": "等待供电部门停电检修"}
    ok(await client.post(f"/api/v1/reports/{rid}/hold", json=hold, headers=supervisor))
    clock.at = china(2027, 2, 4, 13, 0)
    ok(await client.post(f"/api/v1/reports/{rid}/resume", json={}, headers=supervisor))
    detail = ok(await client.get(f"/api/v1/reports/{rid}", headers=staff))
    # 40 working hours from Wednesday 10:00 on the weekday rule, plus the three held.
    assert deadline(detail, "resolve") == china(2027, 2, 10, 14, 0)

    clock.at = china(2027, 2, 4, 14, 0)
    await import_spring_festival(client, admin)
    result = ok(await client.post(RECOMPUTE, headers=admin))
    (case,) = result["cases"]
    moved = {
        (c["clock"], c["job_id"]): (at(c["previous_due_at"]), at(c["due_at"]))
        for c in case["clocks"]
    }
    assert moved == {
        ("report_resolve", None): (china(2027, 2, 10, 14, 0), china(2027, 2, 17, 14, 0)),
        # The lead's completion clock started at its acceptance, Wednesday 11:00.
        ("job_complete", lead_job): (china(2027, 2, 10, 15, 0), china(2027, 2, 17, 15, 0)),
    }
    jobs = ok(await client.get(f"/api/v1/jobs?report_id={rid}", headers=staff))["items"]
    completes = {
        j["id"]: at(next(d["due_at"] for d in j["deadlines"] if d["kind"] == "complete"))
        for j in jobs
    }
    # The named time moved by the hold alone (resuming adds the hours held), not by the calendar.
    assert completes == {lead_job: china(2027, 2, 17, 15, 0), assist_job: china(2027, 2, 15, 12, 0)}


async def test_a_recompute_that_brings_deadlines_forward_wakes_their_cases(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Filed before the Spring Festival, a case's accept clock runs out after it; the holiday
    taken out of the calendar and the deadlines recomputed, it runs out a week earlier, and the
    overdue sweep's timer for the case follows it there."""
    admin = await login("admin")
    await login("grid1")
    await import_spring_festival(client, admin)
    app.state.clock = FrozenClock(china(2027, 2, 5, 10, 0))
    waiting = ok(await submit("grid1"), 201)
    assert deadline(waiting, "accept") == china(2027, 2, 17, 10, 0)
    ok(await client.put("/api/v1/admin/calendar/2027", json={"days": []}, headers=admin))
    await set_exactly(session, settings)  # at the deadline as it stands: 17 February
    result = ok(await client.post(RECOMPUTE, headers=admin))
    assert result["clocks_moved"] == 1
    await assert_timers_cover(session, settings)
    timer = await session.get_one(ClockTimer, uuid.UUID(waiting["id"]))
    assert timer.due_at == china(2027, 2, 10, 10, 0)
