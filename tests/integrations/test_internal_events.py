"""Internal changes — a unit declining, a unit asking for more time — are the community's
business and that unit's: the reporter does not see them in the case, nor on their live stream,
and other units on the case do not receive them either. The community sees everything."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import LoginFn
from tests.integrations.conftest import outbox_ids
from tests.jobs.conftest import LEAD, RED_CROSS, SCIENCE, jobs_by_unit, ok, unit_id
from tests.reports.conftest import SubmitFn

DECLINE = {"reason_code": "wrong_area", "reason": "该路段不在我局辖区"}
EXTENSION_REASON = "硬化材料需等待三天"


async def _case_with_a_decline_and_an_extension(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> tuple[str, dict[str, dict[str, Any]]]:
    """courier1's report in 东街社区, whistled to unit1 (lead) and unit2; unit2 declines,
    unit1 accepts and asks for more time."""
    staff = await login("staff1")
    report_id = (await submit("courier1")).json()["id"]
    ok(await client.post(f"/api/v1/reports/{report_id}/accept", json={}, headers=staff))
    whistled = await client.post(
        f"/api/v1/reports/{report_id}/whistle",
        json={"unit_ids": [unit_id(LEAD), unit_id(RED_CROSS)]},
        headers=staff,
    )
    assert whistled.status_code == 200, whistled.text
    jobs = await jobs_by_unit(client, staff, report_id)
    declined = await client.post(
        f"/api/v1/jobs/{jobs[RED_CROSS]['id']}/decline", json=DECLINE, headers=await login("unit2")
    )
    assert declined.status_code == 200, declined.text
    unit1 = await login("unit1")
    lead = jobs[LEAD]["id"]
    ok(await client.post(f"/api/v1/jobs/{lead}/accept", json={}, headers=unit1))
    until = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
    asked = await client.post(
        f"/api/v1/jobs/{lead}/extension",
        json={"until": until, "reason": EXTENSION_REASON},
        headers=unit1,
    )
    assert asked.status_code == 200, asked.text
    return report_id, jobs


async def test_the_reporter_sees_who_works_on_the_case_but_not_declines_nor_extensions(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    report_id, _ = await _case_with_a_decline_and_an_extension(client, login, submit)

    def units(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {job["unit"]["name"]: job for job in report["jobs"]}

    staff_view = units(
        ok(await client.get(f"/api/v1/reports/{report_id}", headers=await login("staff1")))
    )
    assert staff_view[RED_CROSS]["decline_reason"] == DECLINE["reason"]
    assert [e["reason"] for e in staff_view[LEAD]["extensions"]] == [EXTENSION_REASON]

    for outsider in ("courier1", "viewer"):
        seen = units(
            ok(await client.get(f"/api/v1/reports/{report_id}", headers=await login(outsider)))
        )
        assert set(seen) == {LEAD}, outsider  # the unit that declined is not on the case
        assert seen[LEAD]["status"] == "accepted"
        assert seen[LEAD]["extensions"] == []
        assert seen[LEAD]["decline_reason"] is None
        assert seen[LEAD]["deadlines"] == staff_view[LEAD]["deadlines"]


async def test_internal_events_reach_the_community_and_their_own_unit_only(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    open_stream: Callable[..., Any],
) -> None:
    names = ("staff1", "courier1", "unit1", "unit2")
    streams = {name: await open_stream(await login(name)) for name in names}
    report_id, _ = await _case_with_a_decline_and_an_extension(client, login, submit)
    # A public change every one of them receives marks the end of what each got.
    more = await client.post(
        f"/api/v1/reports/{report_id}/whistle",
        json={"unit_ids": [unit_id(SCIENCE)]},
        headers=await login("staff1"),
    )
    assert more.status_code == 200, more.text
    last = (await outbox_ids(session))[-1]

    received: dict[str, set[str | None]] = {}
    texts: dict[str, str] = {}
    for name, stream in streams.items():
        events = await stream.collect_until(lambda event: event.id == last)
        received[name] = {event.event for event in events}
        texts[name] = json.dumps([event.data for event in events], ensure_ascii=False)

    assert {"job.decline", "job.extension_request"} <= received["staff1"]
    assert "job.decline" not in received["courier1"]
    assert "job.extension_request" not in received["courier1"]
    assert "job.accept" in received["courier1"]  # public progress still reaches the reporter
    assert DECLINE["reason"] not in texts["courier1"]
    assert EXTENSION_REASON not in texts["courier1"]
    assert "job.extension_request" in received["unit1"]
    assert "job.decline" not in received["unit1"]
    assert "job.decline" in received["unit2"]
    assert "job.extension_request" not in received["unit2"]
