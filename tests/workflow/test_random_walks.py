"""Random sequences of actions by random people, driven through the HTTP API by hypothesis.

Each example files a fresh report and walks it with actions drawn at random (any action, by any
of the demo's people, wanted or not). After every step the invariants must hold: the status is
one of the machine's, each status timestamp is set exactly when its status was entered, the
timeline replays to the current status, a refused request changed nothing, points never exceed
the rules, the jobs agree with the report, and the case's timer for the overdue sweep is no later
than its running clocks need. No step may ever answer 5xx."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar.cache import load_calendar
from app.cases.transitions import REPORT_STATUS_TIMESTAMP
from app.core.config import Settings
from app.demo.seed import demo_id
from app.models import Category, Job, PointsEntry, Report
from app.models.enums import HoursKind, JobStatus, ReportStatus
from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn, photo_bytes
from tests.workflow.clock_timer_checks import assert_timers_cover, set_exactly

PEOPLE = ["staff1", "staff2", "grid1", "supervisor", "courier1", "unit1", "unit2", "admin"]
UNITS = {
    "lead": str(demo_id("unit", "旗农牧和科技局")),
    "assist": str(demo_id("unit", "旗红十字会")),
}
PHOTO = ("after.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")
REFUSALS = {403, 404, 409, 412, 422}

REPORT_ACTIONS: dict[str, dict[str, Any]] = {
    "accept": {},
    "reject": {"reason": "不属于公共事务"},
    "start": {},
    "escalate": {"reason": "需要街道协调"},
    "hold": {"reason": "冬季无法施工"},
    "resume": {},
    "reopen": {"reason": "居民不满意"},
    "rate": {"satisfaction": "basically_satisfied"},
    "whistle": {"unit_ids": [UNITS["lead"], UNITS["assist"]]},
    "whistle_again": {"unit_ids": [UNITS["assist"]], "lead_unit_id": UNITS["assist"]},
}
MULTIPART_ACTIONS = ["resolve", "verify_pass", "verify_fail"]
JOB_ACTIONS = ["accept", "decline", "complete"]


async def _act(
    client: httpx.AsyncClient, headers: dict[str, str], report_id: str, step: tuple[str, str]
) -> httpx.Response:
    kind, name = step
    base = f"/api/v1/reports/{report_id}"
    if kind == "report":
        path = "whistle" if name.startswith("whistle") else name
        return await client.post(f"{base}/{path}", json=REPORT_ACTIONS[name], headers=headers)
    if kind == "photo":
        if name == "resolve":
            return await client.post(
                f"{base}/resolve", data={"note": "完成"}, files=[("photos", PHOTO)], headers=headers
            )
        passed = "true" if name == "verify_pass" else "false"
        return await client.post(f"{base}/verify", data={"passed": passed}, headers=headers)
    jobs = (await client.get(f"/api/v1/jobs?report_id={report_id}", headers=headers)).json()
    open_jobs = [j for j in jobs.get("items", []) if j["status"] in ("pending", "accepted")]
    if not open_jobs:
        return await client.post(f"/api/v1/jobs/{uuid.uuid4()}/{name}", json={}, headers=headers)
    job = open_jobs[0]["id"]
    if name == "decline":
        body = {"reason_code": "wrong_area", "reason": "不在辖区"}
        return await client.post(f"/api/v1/jobs/{job}/decline", json=body, headers=headers)
    if name == "complete":
        return await client.post(
            f"/api/v1/jobs/{job}/complete",
            data={"note": "已完成"},
            files=[("photos", PHOTO)],
            headers=headers,
        )
    return await client.post(f"/api/v1/jobs/{job}/accept", json={}, headers=headers)


# Steps that move a case forward are listed more than once, so that walks get deep into the
# machine instead of mostly bouncing off refusals at its door.
WEIGHTED_STEPS = [
    *[("report", name) for name in REPORT_ACTIONS],
    *[("photo", name) for name in MULTIPART_ACTIONS],
    *[("job", name) for name in JOB_ACTIONS],
    *[("report", "accept")] * 6,
    *[("report", "whistle")] * 4,
    *[("job", "accept")] * 5,
    *[("job", "complete")] * 5,
    *[("photo", "verify_pass")] * 4,
    *[("photo", "resolve")] * 2,
    ("report", "start"),
]
# Who usually takes each step; a walk uses them most of the time and anyone else sometimes.
USUAL_ACTOR = {
    "accept": "staff1",
    # Rejection ends a walk: usually attempted by someone who may not, so that it is rare.
    "reject": "courier1",
    "start": "staff1",
    "escalate": "staff1",
    "hold": "supervisor",
    "resume": "supervisor",
    "reopen": "staff1",
    "rate": "courier1",
    "whistle": "staff1",
    "whistle_again": "staff1",
    "resolve": "grid1",
    "verify_pass": "staff1",
    "verify_fail": "grid1",
    "decline": "unit2",
    "complete": "unit1",
}
STEPS = st.tuples(st.sampled_from(WEIGHTED_STEPS), st.sampled_from([None, None, None, *PEOPLE]))


async def _state(
    client: httpx.AsyncClient, admin: dict[str, str], report_id: str
) -> dict[str, Any]:
    report = (await client.get(f"/api/v1/reports/{report_id}", headers=admin)).json()
    timeline = (await client.get(f"/api/v1/reports/{report_id}/timeline", headers=admin)).json()
    return {"report": report, "timeline": timeline}


async def _check_invariants(
    session: AsyncSession, state: dict[str, Any], settings_obj: Settings
) -> None:
    report, timeline = state["report"], state["timeline"]
    status = ReportStatus(report["status"])
    event(f"reached {status.value}")

    # The timeline replays to the current status, each change starting where the last ended.
    changes = [e for e in timeline if e["to_status"] is not None]
    assert changes[0]["type"] == "submitted"
    for before, after in itertools.pairwise(changes):
        assert after["from_status"] == before["to_status"], (before, after)
    assert changes[-1]["to_status"] == status.value

    # Each status's timestamp is set exactly when that status was entered.
    entered = {e["to_status"] for e in changes}
    for each, column in REPORT_STATUS_TIMESTAMP.items():
        assert (report[column] is not None) == (each.value in entered), (column, entered)

    session.expire_all()
    report_id = uuid.UUID(report["id"])
    jobs = (await session.scalars(select(Job).where(Job.report_id == report_id))).all()
    open_jobs = [j for j in jobs if j.status in (JobStatus.pending, JobStatus.accepted)]
    assert len([j for j in open_jobs if j.is_lead]) <= 1
    if status is ReportStatus.dispatched:
        assert jobs, "dispatched without any job"
        assert open_jobs or any(j.status is JobStatus.completed for j in jobs)
    if status in (ReportStatus.submitted, ReportStatus.rejected):
        assert not jobs

    points = (
        await session.scalars(select(PointsEntry).where(PointsEntry.report_id == report_id))
    ).all()
    rules = [p.rule for p in points]
    assert len(rules) == len(set(rules))
    assert set(rules) <= {"accepted", "closed_bonus"}
    ceiling = settings_obj.points_on_accept + settings_obj.points_close_bonus
    assert sum(p.points for p in points) <= ceiling
    if "closed_bonus" in rules:
        assert report["closed_at"] is not None

    await _check_kept_hours(session, report_id)


async def _check_kept_hours(session: AsyncSession, report_id: uuid.UUID) -> None:
    """The hours the statistics read off the case are those its timestamps give now: to accept
    from its first acceptance on, to resolve as of its latest resolution, less the holds."""
    case = await session.get_one(Report, report_id)
    calendar = await load_calendar(session)
    working = (await session.get_one(Category, case.category_code)).hours_kind is HoursKind.working

    def hours(start: datetime, end: datetime) -> float:
        if working:
            return calendar.working_hours_between(start, end)
        return (end - start).total_seconds() / 3600

    if case.accepted_at is None:
        assert case.hours_to_accept is None
    else:
        assert case.hours_to_accept == pytest.approx(hours(case.created_at, case.accepted_at))
    if case.status in (ReportStatus.resolved, ReportStatus.closed):
        assert case.accepted_at is not None
        assert case.resolved_at is not None
        held = case.held_working_seconds if working else case.held_seconds
        expected = hours(case.accepted_at, case.resolved_at) - held / 3600
        assert case.hours_to_resolve == pytest.approx(expected)


@hypothesis_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=12, max_size=30))
async def test_random_walks_keep_the_invariants(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    settings: Settings,
    steps: list[tuple[tuple[str, str], str | None]],
) -> None:
    submitted = await submit("courier1")
    assert submitted.status_code == 201
    report_id = submitted.json()["id"]
    admin = await login("admin")
    state = await _state(client, admin, report_id)
    await _check_invariants(session, state, settings)
    case_ids = [uuid.UUID(report_id)]
    await assert_timers_cover(session, settings, case_ids)
    for step, chosen in steps:
        person = chosen or USUAL_ACTOR.get(step[1], "unit1")
        await set_exactly(session, settings, case_ids)
        response = await _act(client, await login(person), report_id, step)
        assert response.status_code < 500, (step, person, response.text)
        after = await _state(client, admin, report_id)
        if response.status_code in REFUSALS:
            assert after["report"]["version"] == state["report"]["version"], (step, person)
            assert len(after["timeline"]) == len(state["timeline"]), (step, person)
        else:
            assert response.status_code in (200, 201), (step, person, response.text)
        await _check_invariants(session, after, settings)
        # A step that started a clock or moved a deadline woke the case for the sweep.
        await assert_timers_cover(session, settings, case_ids)
        state = after
    assert (await session.execute(select(func.count()).select_from(Report))).scalar_one() >= 1
