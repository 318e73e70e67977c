"""The demo's success story through the API: a grid worker reports chaotic parking, the
community accepts it and whistles to three paired units, one declines, the lead accepts and
completes with a photo, and the case waits for verification while the third unit works on."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.workcalendar import WorkingCalendar
from app.models import OutboxEvent
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
    unit_id,
)

# chaotic_parking: accept within 24, resolve within 40 working hours.
ACCEPT_HOURS, RESOLVE_HOURS = 24, 40


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_three_units_called_one_declines_the_lead_completes(
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    accepted_case: CaseFn,
    whistle: WhistleFn,
) -> None:
    case = await accepted_case()
    report_id = case["id"]
    staff1, unit1, unit2 = await login("staff1"), await login("unit1"), await login("unit2")

    whistled = await whistle(
        report_id, [LEAD, RED_CROSS, SCIENCE], note="三家结对单位联合处置巷口停车"
    )
    report = ok(whistled)
    assert report["status"] == "dispatched"
    assert report["dispatched_at"] is not None
    assert whistled.headers["ETag"] == f'"{report_id}-v{report["version"]}"'

    jobs = await jobs_by_unit(client, staff1, report_id)
    assert set(jobs) == {LEAD, RED_CROSS, SCIENCE}
    assert {name for name, job in jobs.items() if job["is_lead"]} == {LEAD}
    assert {job["status"] for job in jobs.values()} == {"pending"}
    lead = jobs[LEAD]
    assert lead["unit"] == {"id": unit_id(LEAD), "name": LEAD}
    assert lead["report_number"] == case["number"]
    assert lead["needs_redispatch"] is False
    dispatched_at = _at(lead["created_at"])
    calendar = WorkingCalendar()
    # Until the unit accepts, only its answer clock runs: the completion clock starts then.
    (accept,) = lead["deadlines"]
    assert accept["kind"] == "accept"
    assert _at(accept["due_at"]) == calendar.add_working_hours(dispatched_at, ACCEPT_HOURS)
    assert lead["complete_by_explicit"] is False
    assert accept["light"] == "green"

    # 旗红十字会 declines: wrong area. The case stays with the other two.
    declined = ok(
        await client.post(
            f"/api/v1/jobs/{jobs[RED_CROSS]['id']}/decline",
            json={"reason_code": "wrong_area", "reason": "该巷道不在我会服务片区"},
            headers=unit2,
        )
    )
    assert declined["status"] == "declined"
    assert declined["decline_reason_code"] == "wrong_area"
    assert declined["decline_reason"] == "该巷道不在我会服务片区"
    assert declined["declined_at"] is not None
    assert declined["deadlines"][0]["met_at"] == declined["declined_at"]
    assert [d["kind"] for d in declined["deadlines"]] == ["accept"]  # never had to finish

    # The lead reports for duty, reports progress and completes with an "after" photo.
    lead_url = f"/api/v1/jobs/{lead['id']}"
    accepted_response = await client.post(f"{lead_url}/accept", json={}, headers=unit1)
    accepted = ok(accepted_response)
    assert accepted["status"] == "accepted"
    assert accepted["accepted_at"] is not None
    answered, complete = accepted["deadlines"]
    assert answered["met_at"] == accepted["accepted_at"]
    assert answered["light"] is None
    assert complete["kind"] == "complete"
    assert _at(complete["due_at"]) == calendar.add_working_hours(
        _at(accepted["accepted_at"]), RESOLVE_HOURS
    )
    assert complete["light"] == "green"
    assert accepted["version"] == lead["version"] + 1
    assert accepted_response.headers["ETag"] == f'"{lead["id"]}-v{accepted["version"]}"'

    progress = ok(
        await client.post(
            f"{lead_url}/progress", data={"note": "已清理废弃杂物，开始平整场地"}, headers=unit1
        )
    )
    assert progress["status"] == "accepted"
    assert progress["version"] == accepted["version"] + 1

    completed = ok(
        await client.post(
            f"{lead_url}/complete",
            data={"note": "平整硬化500平方米空地作为停车场"},
            files=[("photos", PHOTO)],
            headers=unit1,
        )
    )
    assert completed["status"] == "completed"
    assert completed["completed_at"] is not None
    assert completed["deadlines"][1]["met_at"] == completed["completed_at"]
    assert completed["report_status"] == "resolved"

    report = ok(await client.get(f"/api/v1/reports/{report_id}", headers=staff1))
    assert report["status"] == "resolved"
    assert report["resolved_at"] == completed["completed_at"]
    jobs = await jobs_by_unit(client, staff1, report_id)
    assert jobs[SCIENCE]["status"] == "pending"
    assert jobs[RED_CROSS]["status"] == "declined"

    timeline = ok_list(await client.get(f"/api/v1/reports/{report_id}/timeline", headers=staff1))
    assert [e["type"] for e in timeline][-6:] == [
        "whistle",
        "job_decline",
        "job_accept",
        "job_progress",
        "job_complete",
        "lead_completed",
    ]
    by_type = {e["type"]: e for e in timeline}
    assert by_type["whistle"]["note"] == "三家结对单位联合处置巷口停车"
    assert by_type["job_decline"]["reason"] == "该巷道不在我会服务片区"
    assert by_type["job_decline"]["is_internal"] is True
    assert by_type["job_complete"]["note"] == "平整硬化500平方米空地作为停车场"
    assert [p["kind"] for p in by_type["job_complete"]["photos"]] == ["resolution"]
    assert by_type["lead_completed"]["from_status"] == "dispatched"
    assert by_type["lead_completed"]["to_status"] == "resolved"
    # The report's own photos are still only the reporter's.
    assert [p["kind"] for p in report["photos"]] == ["report"]

    outbox = (
        await session.scalars(
            select(OutboxEvent.type)
            .where(
                OutboxEvent.report_id == uuid.UUID(report_id), OutboxEvent.type.startswith("job.")
            )
            .order_by(OutboxEvent.id)
        )
    ).all()
    assert sorted(outbox[:3]) == ["job.dispatched"] * 3
    assert outbox[3:] == ["job.decline", "job.accept", "job.progress", "job.complete"]
    assert (
        "report.lead_completed"
        in (
            await session.scalars(
                select(OutboxEvent.type).where(OutboxEvent.report_id == uuid.UUID(report_id))
            )
        ).all()
    )
