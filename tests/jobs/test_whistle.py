"""The whistle: who may call which unit, the lead, deadlines, and every refusal changing
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import LoginFn
from tests.jobs.conftest import (
    CITY_ORDER,
    LEAD,
    POWER,
    RED_CROSS,
    SCIENCE,
    TRANSPORT,
    CaseFn,
    SnapshotFn,
    WhistleFn,
    jobs_by_unit,
    new_id,
    ok,
    ok_list,
    problem,
    unit_id,
)
from tests.reports.conftest import SubmitFn


@pytest.fixture
async def case(accepted_case: CaseFn) -> dict[str, Any]:
    return await accepted_case()


@pytest.mark.parametrize(
    ("units", "extra", "loc"),
    [
        pytest.param([], {}, ["body", "unit_ids"], id="empty-list"),
        pytest.param([LEAD, LEAD], {}, ["body"], id="same-unit-twice"),
        pytest.param([LEAD, SCIENCE], {"lead_unit_id": unit_id(RED_CROSS)}, ["body"], id="lead"),
        pytest.param(
            [LEAD], {"complete_by": "2030-01-01T12:00:00"}, ["body", "complete_by"], id="naive"
        ),
        pytest.param(
            [LEAD], {"complete_by": "2020-01-01T12:00:00+08:00"}, ["body", "complete_by"], id="past"
        ),
        pytest.param([LEAD, "no-such-unit"], {}, ["body", "unit_ids", 1], id="not-a-uuid"),
    ],
)
async def test_bad_bodies_are_refused_and_change_nothing(
    case: dict[str, Any],
    whistle: WhistleFn,
    snapshot: SnapshotFn,
    units: list[str],
    extra: dict[str, str],
    loc: list[str | int],
) -> None:
    before = await snapshot(case["id"])
    body = problem(await whistle(case["id"], units, **extra), 422, "validation_error")
    assert any(e["loc"][: len(loc)] == loc for e in body["errors"]), body
    assert await snapshot(case["id"]) == before


async def test_an_unknown_unit_is_named(
    case: dict[str, Any], whistle: WhistleFn, snapshot: SnapshotFn
) -> None:
    before = await snapshot(case["id"])
    missing = new_id()
    body = problem(await whistle(case["id"], [LEAD, missing]), 422, "validation_error")
    assert body["errors"] == [{"loc": ["body", "unit_ids", 1], "msg": f"no unit with id {missing}"}]
    assert await snapshot(case["id"]) == before


async def test_community_staff_call_only_units_paired_for_the_category(
    client: httpx.AsyncClient,
    login: LoginFn,
    case: dict[str, Any],
    whistle: WhistleFn,
    snapshot: SnapshotFn,
) -> None:
    before = await snapshot(case["id"])
    # 旗交通运输局 is not paired with 东街社区; the power company only for street lights.
    body = problem(await whistle(case["id"], [LEAD, TRANSPORT, POWER]), 422, "validation_error")
    assert [e["loc"] for e in body["errors"]] == [
        ["body", "unit_ids", 1],
        ["body", "unit_ids", 2],
    ]
    assert TRANSPORT in body["errors"][0]["msg"]
    assert "not paired with this community for chaotic_parking" in body["errors"][0]["msg"]
    assert POWER in body["errors"][1]["msg"]
    assert await snapshot(case["id"]) == before

    # 旗城管执法局's pairing lists the street-order categories, chaotic parking among them.
    report = ok(await whistle(case["id"], [CITY_ORDER]))
    assert report["status"] == "dispatched"
    jobs = await jobs_by_unit(client, await login("staff1"), case["id"])
    assert jobs[CITY_ORDER]["is_lead"] is True


async def test_supervisors_call_any_unit_of_their_region(
    client: httpx.AsyncClient, login: LoginFn, case: dict[str, Any], whistle: WhistleFn
) -> None:
    # The banner's supervisor: the banner's units, paired with the community or not.
    ok(await whistle(case["id"], [TRANSPORT], as_user="supervisor"))
    # A township's supervisor: the banner's units sit above the township, and serve it.
    ok(await whistle(case["id"], [POWER], as_user="supervisor2"))
    jobs = await jobs_by_unit(client, await login("supervisor"), case["id"])
    assert {name: job["is_lead"] for name, job in jobs.items()} == {TRANSPORT: True, POWER: False}
    # The staff of the community now see the jobs the supervisors made.
    assert set(await jobs_by_unit(client, await login("staff1"), case["id"])) == set(jobs)


async def test_who_may_not_whistle(
    client: httpx.AsyncClient,
    login: LoginFn,
    case: dict[str, Any],
    whistle: WhistleFn,
    snapshot: SnapshotFn,
) -> None:
    before = await snapshot(case["id"])
    # Another community's staff do not see the case at all.
    problem(await whistle(case["id"], [LEAD], as_user="staff2"), 404, "not_found")
    # Grid workers, units and reporters may not whistle.
    for user in ("grid1", "unit1", "courier1"):
        problem(await whistle(case["id"], [LEAD], as_user=user), 403, "forbidden")
    assert await snapshot(case["id"]) == before


async def test_only_accepted_cases_in_handling_can_be_whistled(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    whistle: WhistleFn,
    snapshot: SnapshotFn,
) -> None:
    submitted = await submit("grid1")
    report_id = submitted.json()["id"]
    before = await snapshot(report_id)
    body = problem(await whistle(report_id, [LEAD]), 409, "invalid_transition")
    assert "whistle" in body["detail"]
    assert "submitted" in body["detail"]
    assert await snapshot(report_id) == before


async def test_a_stale_if_match_is_refused(
    case: dict[str, Any], whistle: WhistleFn, snapshot: SnapshotFn
) -> None:
    before = await snapshot(case["id"])
    stale = f'"{case["id"]}-v{case["version"] - 1}"'
    body = problem(
        await whistle(case["id"], [LEAD], headers={"If-Match": stale}), 412, "precondition_failed"
    )
    assert str(case["version"]) in body["detail"]
    assert await snapshot(case["id"]) == before
    current = f'"{case["id"]}-v{case["version"]}"'
    assert (
        ok(await whistle(case["id"], [LEAD], headers={"If-Match": current}))["version"]
        > (case["version"])
    )


async def test_complete_by_sets_every_jobs_completion_time(
    client: httpx.AsyncClient, login: LoginFn, case: dict[str, Any], whistle: WhistleFn
) -> None:
    complete_by = (datetime.now(UTC) + timedelta(hours=6)).replace(microsecond=0)
    ok(
        await whistle(
            case["id"],
            [LEAD, SCIENCE],
            lead_unit_id=unit_id(SCIENCE),
            complete_by=complete_by.isoformat(),
        )
    )
    jobs = await jobs_by_unit(client, await login("staff1"), case["id"])
    assert jobs[SCIENCE]["is_lead"] is True
    assert jobs[LEAD]["is_lead"] is False
    for job in jobs.values():
        accept, complete = job["deadlines"]
        assert datetime.fromisoformat(complete["due_at"]) == complete_by
        assert job["complete_by_explicit"] is True
        # Answering is due no later than finishing.
        assert datetime.fromisoformat(accept["due_at"]) <= complete_by


async def test_whistling_again_adds_assisting_units_and_refuses_a_second_lead(
    client: httpx.AsyncClient,
    login: LoginFn,
    case: dict[str, Any],
    whistle: WhistleFn,
    snapshot: SnapshotFn,
) -> None:
    ok(await whistle(case["id"], [LEAD]))
    before = await snapshot(case["id"])
    # A unit that is already on the case cannot be called again.
    body = problem(await whistle(case["id"], [SCIENCE, LEAD]), 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "unit_ids", 1]
    assert LEAD in body["errors"][0]["msg"]
    # While the lead's job is open, nobody else can be named lead.
    body = problem(
        await whistle(case["id"], [SCIENCE], lead_unit_id=unit_id(SCIENCE)),
        422,
        "validation_error",
    )
    assert body["errors"][0]["loc"] == ["body", "lead_unit_id"]
    assert await snapshot(case["id"]) == before

    # Without naming a lead, the units called now assist.
    report = ok(await whistle(case["id"], [SCIENCE, RED_CROSS]))
    assert report["status"] == "dispatched"
    jobs = await jobs_by_unit(client, await login("staff1"), case["id"])
    assert {name: job["is_lead"] for name, job in jobs.items()} == {
        LEAD: True,
        SCIENCE: False,
        RED_CROSS: False,
    }
    timeline = ok_list(
        await client.get(f"/api/v1/reports/{case['id']}/timeline", headers=await login("staff1"))
    )
    whistles = [e for e in timeline if e["type"] == "whistle"]
    assert [(e["from_status"], e["to_status"]) for e in whistles] == [
        ("accepted", "dispatched"),
        ("dispatched", "dispatched"),
    ]
