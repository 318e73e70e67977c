"""The role recorded in the timeline is the one that authorised the action, also for someone
holding several roles: never just any role they happen to hold."""

from __future__ import annotations

from typing import Any

import httpx

from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.jobs.conftest import LEAD, PHOTO, CaseFn, WhistleFn, jobs_by_unit, ok, ok_list
from tests.reports.conftest import SubmitFn

EAST = demo_id("community", "陕坝镇", "东街社区")
SHANBA = demo_id("region", "陕坝镇")  # the township above 东街社区
TUANJIE = demo_id("region", "团结镇")  # another township


async def grant(
    client: httpx.AsyncClient, login: Any, username: str, role: str, scope: Any
) -> None:
    response = await client.post(
        f"/api/v1/users/{demo_id('user', username)}/roles",
        json={"role": role, "scope_id": str(scope) if scope else None},
        headers=await login("admin"),
    )
    assert response.status_code == 201, response.text


async def roles_by_type(client: httpx.AsyncClient, login: Any, report_id: str) -> list[Any]:
    timeline = ok_list(
        await client.get(f"/api/v1/reports/{report_id}/timeline", headers=await login("supervisor"))
    )
    return [(e["type"], e["actor_role"]) for e in timeline]


async def test_staff_who_also_supervise_act_in_the_role_each_action_needs(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    await grant(client, login, "staff1", "supervisor", SHANBA)
    report_id = (await submit("courier1")).json()["id"]
    staff1 = await login("staff1")
    url = f"/api/v1/reports/{report_id}"
    ok(await client.post(f"{url}/accept", json={}, headers=staff1))  # staff or supervisor
    ok(await client.post(f"{url}/hold", json={"reason": "冬季施工暂停"}, headers=staff1))
    ok(await client.post(f"{url}/resume", json={}, headers=staff1))  # supervisors only
    comment = await client.post(f"{url}/comments", json={"body": "已协调"}, headers=staff1)
    assert comment.status_code == 201, comment.text
    assert comment.json()["actor_role"] == "community_staff"
    assert await roles_by_type(client, login, report_id) == [
        ("submitted", "courier"),
        ("accept", "community_staff"),
        ("hold", "supervisor"),
        ("resume", "supervisor"),
        ("comment", "community_staff"),
    ]


async def test_unit_staff_who_are_also_grid_workers_act_on_jobs_as_unit_staff(
    client: httpx.AsyncClient, login: LoginFn, accepted_case: CaseFn, whistle: WhistleFn
) -> None:
    await grant(client, login, "unit1", "grid_worker", EAST)
    case = await accepted_case()
    ok(await whistle(case["id"], [LEAD]))
    job = (await jobs_by_unit(client, await login("staff1"), case["id"]))[LEAD]
    unit1 = await login("unit1")
    ok(await client.post(f"/api/v1/jobs/{job['id']}/accept", json={}, headers=unit1))
    ok(
        await client.post(
            f"/api/v1/jobs/{job['id']}/complete",
            data={"note": "已清理"},
            files=[("photos", PHOTO)],
            headers=unit1,
        )
    )
    # The check is a grid worker's or the community's: as a grid worker, unit1 may make it.
    ok(
        await client.post(
            f"/api/v1/reports/{case['id']}/verify", data={"passed": "false"}, headers=unit1
        )
    )
    assert (await roles_by_type(client, login, case["id"]))[-6:] == [
        ("whistle", "community_staff"),
        ("job_accept", "unit_staff"),
        ("job_complete", "unit_staff"),
        # The case resolved as a consequence of the unit's completion.
        ("lead_completed", "unit_staff"),
        ("verify_fail", "grid_worker"),
        # The job reopened as a consequence of the grid worker's check.
        ("job_rework", "grid_worker"),
    ]


async def test_an_admin_acts_as_admin_where_their_other_roles_do_not_reach(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    await grant(client, login, "admin", "supervisor", TUANJIE)
    report_id = (await submit("courier1")).json()["id"]
    ok(
        await client.post(
            f"/api/v1/reports/{report_id}/accept", json={}, headers=await login("admin")
        )
    )
    assert (await roles_by_type(client, login, report_id))[-1] == ("accept", "admin")


async def test_a_report_is_filed_in_the_role_its_source_calls_for(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    await grant(client, login, "courier1", "reporter", None)
    as_resident = (await submit("courier1", source="resident")).json()["id"]
    as_courier = (await submit("courier1", description="另一处乱停车")).json()["id"]
    assert (await roles_by_type(client, login, as_resident))[0] == ("submitted", "reporter")
    assert (await roles_by_type(client, login, as_courier))[0] == ("submitted", "courier")


async def test_a_unit_declining_returns_the_case_in_its_own_role(
    client: httpx.AsyncClient, login: LoginFn, accepted_case: CaseFn, whistle: WhistleFn
) -> None:
    case = await accepted_case()
    ok(await whistle(case["id"], [LEAD]))
    job = (await jobs_by_unit(client, await login("staff1"), case["id"]))[LEAD]
    ok(
        await client.post(
            f"/api/v1/jobs/{job['id']}/decline",
            json={"reason_code": "wrong_area", "reason": "不在我局职责范围"},
            headers=await login("unit1"),
        )
    )
    assert (await roles_by_type(client, login, case["id"]))[-2:] == [
        ("job_decline", "unit_staff"),
        ("all_declined", "unit_staff"),
    ]


async def test_every_report_is_filed_in_a_role_the_timeline_names(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    """Staff and supervisors filing their own patrol's finding, or a hotline call, are recorded
    in the role that let them; nobody files a kind their roles do not allow."""
    filed = {
        ("staff1", None): ("grid_patrol", "community_staff"),
        ("staff1", "hotline"): ("hotline", "community_staff"),
        ("supervisor2", "assigned"): ("assigned", "supervisor"),
        ("grid1", None): ("grid_patrol", "grid_worker"),
        ("courier1", None): ("courier", "courier"),
        ("resident1", None): ("resident", "reporter"),
        ("admin", "hotline"): ("hotline", "admin"),
    }
    for (username, source), (kind, role) in filed.items():
        extra = {"source": source} if source else {}
        response = await submit(username, **extra)
        assert response.status_code == 201, (username, response.text)
        assert response.json()["source"] == kind, username
        assert await roles_by_type(client, login, response.json()["id"]) == [("submitted", role)]
    for username, source in (
        ("courier1", "hotline"),
        ("resident1", "grid_patrol"),
        ("admin", "courier"),
    ):
        refused = await submit(username, source=source)
        assert refused.status_code == 422, (username, source, refused.text)
        assert refused.json()["errors"][0]["loc"] == ["body", "source"]
