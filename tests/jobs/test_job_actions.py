"""What units and the case's staff do with jobs: refusals that change nothing, declines and
cancellations sending the case back, extensions, and rework after a failed verification."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.clock import FrozenClock
from app.core.workcalendar import WorkingCalendar
from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.jobs.conftest import (
    CITY_ORDER,
    LEAD,
    PHOTO,
    RED_CROSS,
    SCIENCE,
    CaseFn,
    SnapshotFn,
    WhistleFn,
    jobs_by_unit,
    ok,
    ok_list,
    problem,
)

DECLINE = {"reason_code": "wrong_area", "reason": "不属于本单位职责片区"}


@pytest.fixture
async def dispatched(
    accepted_case: CaseFn, whistle: WhistleFn, client: httpx.AsyncClient, login: LoginFn
) -> dict[str, Any]:
    """A case whistled to 旗农牧和科技局 (lead), 旗红十字会 and 旗科协: the report id and
    the jobs by unit name."""
    case = await accepted_case()
    ok(await whistle(case["id"], [LEAD, RED_CROSS, SCIENCE]))
    jobs = await jobs_by_unit(client, await login("staff1"), case["id"])
    return {"report_id": case["id"], "jobs": jobs}


async def _act(
    client: httpx.AsyncClient,
    login: LoginFn,
    user: str,
    job: dict[str, Any],
    action: str,
    **kwargs: Any,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/jobs/{job['id']}/{action}", headers=await login(user), **kwargs
    )


async def _report(client: httpx.AsyncClient, login: LoginFn, report_id: str) -> dict[str, Any]:
    return ok(await client.get(f"/api/v1/reports/{report_id}", headers=await login("staff1")))


async def _timeline_types(client: httpx.AsyncClient, login: LoginFn, report_id: str) -> list[str]:
    timeline = ok_list(
        await client.get(f"/api/v1/reports/{report_id}/timeline", headers=await login("staff1"))
    )
    return [e["type"] for e in timeline]


def _later(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"reason_code": "wrong_area"}, id="no-reason"),
        pytest.param({"reason_code": "wrong_area", "reason": "   "}, id="blank-reason"),
        pytest.param({"reason": "不归我们管"}, id="no-code"),
        pytest.param({"reason_code": "too_busy", "reason": "忙"}, id="unknown-code"),
    ],
)
async def test_a_decline_needs_a_known_reason_code_and_a_reason(
    client: httpx.AsyncClient,
    login: LoginFn,
    dispatched: dict[str, Any],
    snapshot: SnapshotFn,
    body: dict[str, str],
) -> None:
    before = await snapshot(dispatched["report_id"])
    response = await _act(
        client, login, "unit2", dispatched["jobs"][RED_CROSS], "decline", json=body
    )
    problem(response, 422, "validation_error")
    assert await snapshot(dispatched["report_id"]) == before


async def test_completing_needs_a_note_and_a_photo(
    client: httpx.AsyncClient, login: LoginFn, dispatched: dict[str, Any], snapshot: SnapshotFn
) -> None:
    lead = dispatched["jobs"][LEAD]
    ok(await _act(client, login, "unit1", lead, "accept", json={}))
    before = await snapshot(dispatched["report_id"])
    no_photo = await _act(client, login, "unit1", lead, "complete", data={"note": "已完成"})
    body = problem(no_photo, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "photos"]
    blank_note = await _act(
        client, login, "unit1", lead, "complete", data={"note": "  "}, files=[("photos", PHOTO)]
    )
    problem(blank_note, 422, "validation_error")
    not_a_photo = await _act(
        client,
        login,
        "unit1",
        lead,
        "complete",
        data={"note": "已完成"},
        files=[("photos", ("a.jpg", b"not an image", "image/jpeg"))],
    )
    problem(not_a_photo, 422, "photo_rejected")
    assert await snapshot(dispatched["report_id"]) == before


async def test_actions_the_status_does_not_allow(
    client: httpx.AsyncClient, login: LoginFn, dispatched: dict[str, Any], snapshot: SnapshotFn
) -> None:
    lead = dispatched["jobs"][LEAD]
    before = await snapshot(dispatched["report_id"])
    for action, kwargs in (
        ("complete", {"data": {"note": "已完成"}, "files": [("photos", PHOTO)]}),
        ("progress", {"data": {"note": "进行中"}}),
        ("extension", {"json": {"until": _later(10), "reason": "材料未到"}}),
    ):
        body = problem(
            await _act(client, login, "unit1", lead, action, **kwargs), 409, "invalid_transition"
        )
        assert "pending" in body["detail"]
    grant = await _act(client, login, "staff1", lead, "extension/grant", json={})
    assert "decide_extension" in problem(grant, 409, "invalid_transition")["detail"]
    assert await snapshot(dispatched["report_id"]) == before

    ok(await _act(client, login, "unit1", lead, "accept", json={}))
    before = await snapshot(dispatched["report_id"])
    again = await _act(client, login, "unit1", lead, "accept", json={})
    body = problem(again, 409, "invalid_transition")
    assert body["detail"] == "cannot accept a job that is accepted"
    problem(
        await _act(client, login, "unit1", lead, "decline", json=DECLINE), 409, "invalid_transition"
    )
    assert await snapshot(dispatched["report_id"]) == before


async def test_only_the_jobs_unit_acts_as_the_unit(
    client: httpx.AsyncClient, login: LoginFn, dispatched: dict[str, Any], snapshot: SnapshotFn
) -> None:
    lead = dispatched["jobs"][LEAD]
    before = await snapshot(dispatched["report_id"])
    # 旗红十字会 has its own job on the case but cannot see the lead's; 旗交通运输局 has none.
    for user in ("unit2", "unit3"):
        problem(await _act(client, login, user, lead, "accept", json={}), 404, "not_found")
        problem(await _act(client, login, user, lead, "decline", json=DECLINE), 404, "not_found")
    # The community's staff see the job, but are not the unit.
    problem(await _act(client, login, "staff1", lead, "accept", json={}), 403, "forbidden")
    # Admins neither: what a unit did counts on its sheet.
    body = problem(await _act(client, login, "admin", lead, "accept", json={}), 403, "forbidden")
    assert "unit_staff" in body["detail"]
    assert await snapshot(dispatched["report_id"]) == before


async def test_a_stale_if_match_on_a_job_is_refused(
    client: httpx.AsyncClient, login: LoginFn, dispatched: dict[str, Any], snapshot: SnapshotFn
) -> None:
    lead = dispatched["jobs"][LEAD]
    before = await snapshot(dispatched["report_id"])
    stale = {"If-Match": f'"{lead["id"]}-v{lead["version"] + 1}"'}
    response = await client.post(
        f"/api/v1/jobs/{lead['id']}/accept", json={}, headers={**(await login("unit1")), **stale}
    )
    problem(response, 412, "precondition_failed")
    assert await snapshot(dispatched["report_id"]) == before
    current = {"If-Match": f'"{lead["id"]}-v{lead["version"]}"'}
    response = await client.post(
        f"/api/v1/jobs/{lead['id']}/accept", json={}, headers={**(await login("unit1")), **current}
    )
    assert ok(response)["status"] == "accepted"


async def test_when_every_unit_declines_the_case_goes_back_to_the_community(
    client: httpx.AsyncClient, login: LoginFn, dispatched: dict[str, Any]
) -> None:
    report_id, jobs = dispatched["report_id"], dispatched["jobs"]
    declined = ok(await _act(client, login, "unit2", jobs[RED_CROSS], "decline", json=DECLINE))
    assert declined["needs_redispatch"] is False
    # The lead declines while 旗科协 still assists: the case waits for a new lead.
    lead = ok(
        await _act(
            client,
            login,
            "unit1",
            jobs[LEAD],
            "decline",
            json={"reason_code": "unclear_ownership", "reason": "场地权属需先确认"},
        )
    )
    assert lead["needs_redispatch"] is True
    assert (await _report(client, login, report_id))["status"] == "dispatched"
    science = ok(
        await client.get(f"/api/v1/jobs/{jobs[SCIENCE]['id']}", headers=await login("unit4"))
    )
    assert science["needs_redispatch"] is True

    last = ok(
        await _act(
            client,
            login,
            "unit4",
            jobs[SCIENCE],
            "decline",
            json={"reason_code": "overlapping_duties", "reason": "应由城管执法局牵头"},
        )
    )
    assert last["status"] == "declined"
    assert last["report_status"] == "accepted"
    assert last["needs_redispatch"] is False
    report = await _report(client, login, report_id)
    assert report["status"] == "accepted"
    types = await _timeline_types(client, login, report_id)
    assert types[-4:] == ["job_decline", "job_decline", "job_decline", "all_declined"]

    # The community can whistle again, and the new unit leads.
    ok(await _whistle_again(client, login, report_id, [CITY_ORDER]))
    jobs = await jobs_by_unit(client, await login("staff1"), report_id)
    assert jobs[CITY_ORDER]["is_lead"] is True
    assert jobs[CITY_ORDER]["status"] == "pending"


async def _whistle_again(
    client: httpx.AsyncClient,
    login: LoginFn,
    report_id: str,
    units: list[str],
    **body: Any,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/reports/{report_id}/whistle",
        json={"unit_ids": [str(demo_id("unit", u)) for u in units], **body},
        headers=await login("staff1"),
    )


async def test_after_the_lead_declines_a_new_lead_can_be_named(
    client: httpx.AsyncClient, login: LoginFn, dispatched: dict[str, Any]
) -> None:
    report_id, jobs = dispatched["report_id"], dispatched["jobs"]
    ok(await _act(client, login, "unit1", jobs[LEAD], "decline", json=DECLINE))
    redispatched = await _whistle_again(
        client, login, report_id, [CITY_ORDER], lead_unit_id=str(demo_id("unit", CITY_ORDER))
    )
    assert ok(redispatched)["status"] == "dispatched"
    jobs = await jobs_by_unit(client, await login("staff1"), report_id)
    assert {name for name, job in jobs.items() if job["is_lead"]} == {LEAD, CITY_ORDER}
    assert {job["needs_redispatch"] for job in jobs.values()} == {False}


async def test_cancelling_the_last_open_job_sends_the_case_back(
    client: httpx.AsyncClient, login: LoginFn, dispatched: dict[str, Any], snapshot: SnapshotFn
) -> None:
    report_id, jobs = dispatched["report_id"], dispatched["jobs"]
    before = await snapshot(report_id)
    # Units cannot cancel; a cancellation needs a reason.
    problem(
        await _act(client, login, "unit1", jobs[LEAD], "cancel", json={"reason": "x"}),
        403,
        "forbidden",
    )
    problem(
        await _act(client, login, "staff1", jobs[LEAD], "cancel", json={}), 422, "validation_error"
    )
    assert await snapshot(report_id) == before

    ok(await _act(client, login, "unit1", jobs[LEAD], "accept", json={}))
    for name in (LEAD, RED_CROSS):
        cancelled = ok(
            await _act(
                client, login, "staff1", jobs[name], "cancel", json={"reason": "改由社区自办"}
            )
        )
        assert cancelled["status"] == "cancelled"
        assert cancelled["cancelled_at"] is not None
        assert {d["light"] for d in cancelled["deadlines"]} == {None}
    assert (await _report(client, login, report_id))["status"] == "dispatched"
    ok(
        await _act(
            client, login, "supervisor", jobs[SCIENCE], "cancel", json={"reason": "改由社区自办"}
        )
    )
    assert (await _report(client, login, report_id))["status"] == "accepted"
    assert (await _timeline_types(client, login, report_id))[-2:] == ["job_cancel", "all_declined"]


async def test_an_assisting_unit_completing_does_not_resolve_the_case(
    client: httpx.AsyncClient, login: LoginFn, dispatched: dict[str, Any]
) -> None:
    science = dispatched["jobs"][SCIENCE]
    ok(await _act(client, login, "unit4", science, "accept", json={}))
    done = ok(
        await _act(
            client,
            login,
            "unit4",
            science,
            "complete",
            data={"note": "科普宣传已到位"},
            files=[("photos", PHOTO)],
        )
    )
    assert done["status"] == "completed"
    assert done["report_status"] == "dispatched"


async def test_extensions_one_at_a_time_decided_by_the_community(
    client: httpx.AsyncClient, login: LoginFn, dispatched: dict[str, Any], snapshot: SnapshotFn
) -> None:
    report_id, lead = dispatched["report_id"], dispatched["jobs"][LEAD]
    accepted = ok(await _act(client, login, "unit1", lead, "accept", json={}))
    due = datetime.fromisoformat(accepted["deadlines"][1]["due_at"])
    before = await snapshot(report_id)
    for too_early in (_later(-1), (due - timedelta(hours=1)).isoformat(), due.isoformat()):
        response = await _act(
            client,
            login,
            "unit1",
            lead,
            "extension",
            json={"until": too_early, "reason": "材料未到"},
        )
        assert problem(response, 422, "validation_error")["errors"][0]["loc"] == ["body", "until"]
    problem(
        await _act(client, login, "unit1", lead, "extension", json={"until": _later(30)}),
        422,
        "validation_error",
    )
    problem(
        await _act(client, login, "staff1", lead, "extension/grant", json={}),
        409,
        "no_pending_extension",
    )
    assert await snapshot(report_id) == before

    until = (due + timedelta(days=3)).replace(microsecond=0)
    asked = ok(
        await _act(
            client,
            login,
            "unit1",
            lead,
            "extension",
            json={"until": until.isoformat(), "reason": "硬化材料需等待三天"},
        )
    )
    assert [(e["status"], e["reason"]) for e in asked["extensions"]] == [
        ("pending", "硬化材料需等待三天")
    ]
    before = await snapshot(report_id)
    second = await _act(
        client, login, "unit1", lead, "extension", json={"until": _later(60), "reason": "再等等"}
    )
    problem(second, 409, "extension_pending")
    # Units do not decide their own requests; staff of other communities do not see the job.
    problem(await _act(client, login, "unit1", lead, "extension/grant", json={}), 403, "forbidden")
    problem(await _act(client, login, "staff2", lead, "extension/grant", json={}), 404, "not_found")
    assert await snapshot(report_id) == before

    granted = ok(
        await _act(client, login, "staff1", lead, "extension/grant", json={"note": "同意延期"})
    )
    assert datetime.fromisoformat(granted["deadlines"][1]["due_at"]) == until
    assert granted["extension_count"] == 1
    (extension,) = granted["extensions"]
    assert extension["status"] == "granted"
    assert extension["decision_note"] == "同意延期"
    assert datetime.fromisoformat(extension["previous_due_at"]) == due
    assert extension["decided_at"] is not None

    # A second request, refused: the completion time stays.
    ok(
        await _act(
            client,
            login,
            "unit1",
            lead,
            "extension",
            json={"until": (until + timedelta(days=5)).isoformat(), "reason": "天气原因"},
        )
    )
    refused = ok(
        await _act(client, login, "supervisor", lead, "extension/refuse", json={"note": "按期完成"})
    )
    assert datetime.fromisoformat(refused["deadlines"][1]["due_at"]) == until
    assert refused["extension_count"] == 1
    assert [e["status"] for e in refused["extensions"]] == ["granted", "refused"]
    assert (await _timeline_types(client, login, report_id))[-4:] == [
        "job_extension_request",
        "job_extension_grant",
        "job_extension_request",
        "job_extension_refuse",
    ]


async def _verify_fails(
    client: httpx.AsyncClient, login: LoginFn, report_id: str
) -> dict[str, Any]:
    return ok(
        await client.post(
            f"/api/v1/reports/{report_id}/verify",
            data={"passed": "false", "note": "车辆仍占道，需返工"},
            files=[("photos", PHOTO)],
            headers=await login("staff1"),
        )
    )


async def test_a_failed_verification_reopens_the_lead_job(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, dispatched: dict[str, Any]
) -> None:
    report_id, lead = dispatched["report_id"], dispatched["jobs"][LEAD]
    ok(await _act(client, login, "unit1", lead, "accept", json={}))
    completed = ok(
        await _act(
            client,
            login,
            "unit1",
            lead,
            "complete",
            data={"note": "完成"},
            files=[("photos", PHOTO)],
        )
    )
    assert completed["report_status"] == "resolved"

    now = datetime.now(UTC).replace(microsecond=0)
    app.state.clock = FrozenClock(now)
    assert (await _verify_fails(client, login, report_id))["status"] == "dispatched"

    reopened = ok(await client.get(f"/api/v1/jobs/{lead['id']}", headers=await login("unit1")))
    assert reopened["status"] == "accepted"
    assert reopened["rework_count"] == 1
    assert reopened["completed_at"] is None
    assert reopened["accepted_at"] == completed["accepted_at"]
    assert reopened["version"] == completed["version"] + 1
    # A fresh completion time: the category's 40 working hours from the verification.
    new_due = datetime.fromisoformat(reopened["deadlines"][1]["due_at"])
    assert new_due == WorkingCalendar().add_working_hours(now, 40)
    assert (await _timeline_types(client, login, report_id))[-2:] == ["verify_fail", "job_rework"]
    # The unit finishes it again, and the case is resolved again.
    again = ok(
        await _act(
            client,
            login,
            "unit1",
            lead,
            "complete",
            data={"note": "已返工"},
            files=[("photos", PHOTO)],
        )
    )
    assert again["status"] == "completed"
    assert again["report_status"] == "resolved"


async def test_rework_of_a_case_handled_in_house_after_every_unit_declined(
    client: httpx.AsyncClient, login: LoginFn, dispatched: dict[str, Any]
) -> None:
    report_id, jobs = dispatched["report_id"], dispatched["jobs"]
    for user, name in (("unit1", LEAD), ("unit2", RED_CROSS), ("unit4", SCIENCE)):
        ok(await _act(client, login, user, jobs[name], "decline", json=DECLINE))
    staff1 = await login("staff1")
    ok(await client.post(f"/api/v1/reports/{report_id}/start", json={}, headers=staff1))
    resolved = await client.post(
        f"/api/v1/reports/{report_id}/resolve",
        data={"note": "社区已协调车主挪车"},
        files=[("photos", PHOTO)],
        headers=staff1,
    )
    assert ok(resolved)["status"] == "resolved"
    # The community did the work, so the rework is the community's; no declined job reopens.
    assert (await _verify_fails(client, login, report_id))["status"] == "in_progress"
    jobs = await jobs_by_unit(client, staff1, report_id)
    assert {job["status"] for job in jobs.values()} == {"declined"}
    assert "job_rework" not in await _timeline_types(client, login, report_id)


async def test_two_units_leaving_at_once_never_strand_the_case(
    client: httpx.AsyncClient, login: LoginFn, accepted_case: CaseFn, whistle: WhistleFn
) -> None:
    case = await accepted_case()
    ok(await whistle(case["id"], [LEAD, RED_CROSS]))
    jobs = await jobs_by_unit(client, await login("staff1"), case["id"])
    await login("unit1"), await login("unit2")
    responses = await asyncio.gather(
        _act(client, login, "unit1", jobs[LEAD], "decline", json=DECLINE),
        _act(client, login, "unit2", jobs[RED_CROSS], "decline", json=DECLINE),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([200, 200], [200, 409]), [r.text for r in responses]
    jobs = await jobs_by_unit(client, await login("staff1"), case["id"])
    still_open = [name for name, job in jobs.items() if job["status"] == "pending"]
    report = await _report(client, login, case["id"])
    # Whoever lost the race left its job as it was; the case is back with the community
    # exactly when no unit is left on it.
    assert len(still_open) == statuses.count(409)
    assert (report["status"] == "accepted") == (not still_open)
    if still_open:
        assert report["status"] == "dispatched"
