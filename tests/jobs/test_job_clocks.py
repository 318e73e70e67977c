"""Lights and clocks that mean what the deadline means: working-hour limits light up in working
hours, a unit's completion clock starts when it accepts, holds stop every light, rework and
reopening start the clocks again. Driven through the API with a frozen clock in December 2026
(a Friday evening, then the weeks after: no public holiday)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from app.core.clock import FrozenClock
from app.core.workcalendar import CHINA_TZ, WorkingCalendar
from tests.conftest import LoginFn
from tests.jobs.conftest import LEAD, PHOTO, jobs_by_unit, ok, unit_id
from tests.reports.conftest import SubmitFn

CALENDAR = WorkingCalendar()
# piled_rubbish: accept within 8, resolve within 16 working hours (8 h a working day).
RUBBISH, ACCEPT_WH, RESOLVE_WH = "piled_rubbish", 8, 16
# blocked_fire_lane: accept within 2 calendar hours.
FIRE_LANE = "blocked_fire_lane"
FRIDAY_17 = datetime(2026, 12, 11, 17, 0, tzinfo=CHINA_TZ)
MONDAY_9 = datetime(2026, 12, 14, 9, 0, tzinfo=CHINA_TZ)


def _at(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


def china(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=CHINA_TZ)


def deadlines(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in body["deadlines"]}


class Case:
    """One case driven through the API at the frozen clock's time."""

    def __init__(self, app: Any, client: httpx.AsyncClient, login: Any, submit: Any) -> None:
        self.app, self.client, self.login, self.submit = app, client, login, submit
        self.clock = FrozenClock(FRIDAY_17)

    async def sign_in(self) -> None:
        # Tokens are signed at the real time: sign in before the clock is moved.
        for user in ("grid1", "staff1", "unit1", "supervisor"):
            await self.login(user)
        self.app.state.clock = self.clock

    def at(self, moment: datetime) -> None:
        self.clock.at = moment

    async def report(self, category: str) -> dict[str, Any]:
        submitted = await self.submit("grid1", category_code=category)
        assert submitted.status_code == 201, submitted.text
        return ok(await self.get(f"/api/v1/reports/{submitted.json()['id']}"))

    async def get(self, url: str) -> httpx.Response:
        return await self.client.get(url, headers=await self.login("supervisor"))

    async def post(self, user: str, url: str, **kwargs: Any) -> dict[str, Any]:
        return ok(await self.client.post(url, headers=await self.login(user), **kwargs))

    async def dispatched(self, category: str = RUBBISH, **whistle: Any) -> dict[str, Any]:
        """A case accepted and whistled to the lead unit now; returns its job."""
        report = await self.report(category)
        await self.post("staff1", f"/api/v1/reports/{report['id']}/accept", json={})
        body = {"unit_ids": [unit_id(LEAD)], **whistle}
        await self.post("staff1", f"/api/v1/reports/{report['id']}/whistle", json=body)
        jobs = await jobs_by_unit(self.client, await self.login("supervisor"), report["id"])
        return jobs[LEAD]

    async def job(self, job_id: str) -> dict[str, Any]:
        return ok(await self.get(f"/api/v1/jobs/{job_id}"))

    async def case_of(self, job: dict[str, Any]) -> dict[str, Any]:
        return ok(await self.get(f"/api/v1/reports/{job['report_id']}"))


async def _case(app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn) -> Case:
    case = Case(app, client, login, submit)
    await case.sign_in()
    return case


async def test_a_friday_evening_clock_does_not_turn_yellow_over_the_weekend(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    case = await _case(app, client, login, submit)
    waiting = await case.report(RUBBISH)  # the community's accept clock: 8 working hours
    job = await case.dispatched()  # the unit's accept clock: 8 working hours
    due = CALENDAR.add_working_hours(FRIDAY_17, ACCEPT_WH)
    assert _at(deadlines(waiting)["accept"]["due_at"]) == due == china(14, 17)
    assert _at(deadlines(job)["accept"]["due_at"]) == due

    # Monday 08:00: 63 of the 72 wall-clock hours are gone, but 1 of the 8 working hours.
    case.at(china(14, 8))
    assert deadlines(await case.job(job["id"]))["accept"]["light"] == "green"
    report = ok(await case.get(f"/api/v1/reports/{waiting['id']}"))
    assert deadlines(report)["accept"]["light"] == "green"
    listed = ok(await case.get("/api/v1/reports?limit=50"))["items"]
    (in_list,) = [r for r in listed if r["id"] == waiting["id"]]
    assert deadlines(in_list)["accept"]["light"] == "green"

    # Monday 15:30: 6.5 of 8 working hours used (81 %): yellow; at the deadline: red.
    case.at(china(14, 15, 30))
    assert deadlines(await case.job(job["id"]))["accept"]["light"] == "yellow"
    report = ok(await case.get(f"/api/v1/reports/{waiting['id']}"))
    assert deadlines(report)["accept"]["light"] == "yellow"
    case.at(china(14, 17))
    assert deadlines(await case.job(job["id"]))["accept"]["light"] == "red"


async def test_a_calendar_hour_clock_keeps_the_wall_clock(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    case = await _case(app, client, login, submit)
    report = await case.report(FIRE_LANE)  # accept within 2 calendar hours
    assert _at(deadlines(report)["accept"]["due_at"]) == FRIDAY_17 + timedelta(hours=2)
    lights = []
    for minutes in (90, 100, 120):  # 75 %, 83 %, due
        case.at(FRIDAY_17 + timedelta(minutes=minutes))
        lights.append(
            deadlines(ok(await case.get(f"/api/v1/reports/{report['id']}")))["accept"]["light"]
        )
    assert lights == ["green", "yellow", "red"]


async def test_the_completion_clock_starts_when_the_unit_accepts(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    case = await _case(app, client, login, submit)
    job = await case.dispatched()
    # Pending: only the answer clock runs.
    assert list(deadlines(job)) == ["accept"]

    # The unit reports for duty on Monday at 10:00 (2 of its 8 answer hours used).
    case.at(china(14, 10))
    accepted = await case.post("unit1", f"/api/v1/jobs/{job['id']}/accept", json={})
    complete = deadlines(accepted)["complete"]
    assert _at(complete["due_at"]) == CALENDAR.add_working_hours(china(14, 10), RESOLVE_WH)
    assert _at(complete["due_at"]) == china(16, 10)  # Wednesday 10:00
    assert complete["light"] == "green"
    assert deadlines(accepted)["accept"]["met_at"] == accepted["accepted_at"]

    # Tuesday 17:30, when 16 working hours from the dispatch would have run out: not overdue,
    # 14.5 of 16 hours from the acceptance used: yellow.
    case.at(china(15, 17, 30))
    shown = await case.job(job["id"])
    assert deadlines(shown)["complete"]["light"] == "yellow"
    overdue = ok(await case.get("/api/v1/jobs?overdue=true"))
    assert job["id"] not in {j["id"] for j in overdue["items"]}
    case.at(china(16, 10, 1))
    assert deadlines(await case.job(job["id"]))["complete"]["light"] == "red"
    overdue = ok(await case.get("/api/v1/jobs?overdue=true"))
    assert job["id"] in {j["id"] for j in overdue["items"]}


async def test_a_completion_time_named_by_the_whistle_holds_from_the_dispatch(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    case = await _case(app, client, login, submit)
    complete_by = china(15, 12)  # Tuesday noon: 1 + 3 working hours after the dispatch
    job = await case.dispatched(complete_by=complete_by.isoformat())
    assert job["complete_by_explicit"] is True
    shown = deadlines(job)
    assert _at(shown["complete"]["due_at"]) == complete_by
    # Not accepted yet: the deadline is known but its clock does not run (no light).
    assert shown["complete"]["light"] is None
    assert _at(shown["accept"]["due_at"]) == CALENDAR.add_working_hours(FRIDAY_17, ACCEPT_WH)

    case.at(china(14, 9))
    accepted = await case.post("unit1", f"/api/v1/jobs/{job['id']}/accept", json={})
    complete = deadlines(accepted)["complete"]
    assert _at(complete["due_at"]) == complete_by  # named: not moved by the acceptance
    assert complete["light"] == "green"  # 0 of the 11 working hours left to it used
    case.at(china(15, 10))  # 8 + 1 of 11 working hours from the acceptance: 82 %
    assert deadlines(await case.job(job["id"]))["complete"]["light"] == "yellow"


async def test_a_hold_stops_every_light_and_resuming_does_not_count_it(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    case = await _case(app, client, login, submit)
    case.at(MONDAY_9)
    job = await case.dispatched()
    await case.post("unit1", f"/api/v1/jobs/{job['id']}/accept", json={})
    job_due = CALENDAR.add_working_hours(MONDAY_9, RESOLVE_WH)  # Tuesday 17:00

    # Tuesday 13:00: 11 of 16 working hours used. The supervisor puts the case on hold.
    held_at = china(15, 13)
    case.at(held_at)
    await case.post(
        "supervisor", f"/api/v1/reports/{job['report_id']}/hold", json={"reason": "冬季停工"}
    )

    # A week on, long past the deadlines: the lights still read as when the hold began.
    case.at(china(21, 10))
    held_job = await case.job(job["id"])
    assert deadlines(held_job)["complete"]["light"] == "green"
    held_case = await case.case_of(job)
    assert held_case["status"] == "on_hold"
    assert deadlines(held_case)["resolve"]["light"] == "green"
    overdue = ok(await case.get("/api/v1/jobs?overdue=true"))
    assert job["id"] not in {j["id"] for j in overdue["items"]}

    # Resumed on Monday 13:00: every deadline moves by the working hours held, and the hold
    # counts neither as time used nor as time given: still 11 of 16 hours used.
    resumed_at = china(21, 13)
    case.at(resumed_at)
    await case.post("supervisor", f"/api/v1/reports/{job['report_id']}/resume", json={})
    held_hours = CALENDAR.working_hours_between(held_at, resumed_at)
    assert held_hours == 32
    resumed_job = await case.job(job["id"])
    complete = deadlines(resumed_job)["complete"]
    assert _at(complete["due_at"]) == CALENDAR.add_working_hours(job_due, held_hours)
    assert complete["light"] == "green"
    resumed_case = await case.case_of(job)
    assert deadlines(resumed_case)["resolve"]["light"] == "green"

    # 2.5 more working hours: 13.5 of 16 used (84 %).
    case.at(china(21, 15, 30))
    assert deadlines(await case.job(job["id"]))["complete"]["light"] == "yellow"
    assert deadlines(await case.case_of(job))["resolve"]["light"] == "yellow"


async def test_a_unit_accepting_during_a_hold_starts_its_clock_at_the_resumption(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    case = await _case(app, client, login, submit)
    case.at(MONDAY_9)
    job = await case.dispatched()
    case.at(china(14, 10))
    await case.post(
        "supervisor", f"/api/v1/reports/{job['report_id']}/hold", json={"reason": "等待审批"}
    )
    case.at(china(15, 10))
    accepted = await case.post("unit1", f"/api/v1/jobs/{job['id']}/accept", json={})
    assert deadlines(accepted)["complete"]["light"] == "green"
    resumed_at = china(16, 10)
    case.at(resumed_at)
    await case.post("supervisor", f"/api/v1/reports/{job['report_id']}/resume", json={})
    complete = deadlines(await case.job(job["id"]))["complete"]
    # The whole limit is left, counted from the resumption (not from the acceptance).
    assert _at(complete["due_at"]) == CALENDAR.add_working_hours(resumed_at, RESOLVE_WH)
    assert complete["light"] == "green"


async def test_rework_starts_the_completion_clock_again(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    case = await _case(app, client, login, submit)
    case.at(MONDAY_9)
    job = await case.dispatched()
    await case.post("unit1", f"/api/v1/jobs/{job['id']}/accept", json={})
    case.at(china(15, 16))
    await case.post(
        "unit1",
        f"/api/v1/jobs/{job['id']}/complete",
        data={"note": "已清运"},
        files=[("photos", PHOTO)],
    )
    # Checked two days later: it failed. The lead's job is reopened with a fresh limit.
    failed_at = china(17, 16)
    case.at(failed_at)
    await case.post("grid1", f"/api/v1/reports/{job['report_id']}/verify", data={"passed": "false"})
    reworked = await case.job(job["id"])
    assert reworked["status"] == "accepted"
    complete = deadlines(reworked)["complete"]
    assert _at(complete["due_at"]) == CALENDAR.add_working_hours(failed_at, RESOLVE_WH)
    # Friday 16:00 and Monday 09:00: 8 and 10 of the 16 working hours since the rework used;
    # the first round (and the weekend) does not count.
    for moment in (china(18, 16), china(21, 9)):
        case.at(moment)
        assert deadlines(await case.job(job["id"]))["complete"]["light"] == "green"
    case.at(china(21, 13))  # 13 of 16
    assert deadlines(await case.job(job["id"]))["complete"]["light"] == "yellow"


async def test_a_reopened_case_runs_its_resolve_clock_again(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    case = await _case(app, client, login, submit)
    case.at(MONDAY_9)
    report = await case.report(RUBBISH)
    url = f"/api/v1/reports/{report['id']}"
    await case.post("staff1", f"{url}/accept", json={})
    await case.post("staff1", f"{url}/start", json={})
    await case.post("staff1", f"{url}/resolve", data={"note": "已清理"}, files=[("photos", PHOTO)])
    # Rework of an in-house case: the resolve clock runs again (it was met only while
    # resolved).
    case.at(china(14, 11))
    reworked = await case.post("grid1", f"{url}/verify", data={"passed": "false"})
    assert reworked["status"] == "in_progress"
    resolve = deadlines(reworked)["resolve"]
    assert (resolve["met_at"], resolve["light"]) == (None, "green")

    await case.post("staff1", f"{url}/resolve", data={"note": "已清理"}, files=[("photos", PHOTO)])
    closed = await case.post("grid1", f"{url}/verify", data={"passed": "true"})
    assert deadlines(closed)["resolve"]["light"] is None
    assert deadlines(closed)["resolve"]["met_at"] == closed["resolved_at"]

    # Reopened on Wednesday: a fresh resolve limit from then, and its light runs from then.
    reopened_at = china(16, 9)
    case.at(reopened_at)
    reopened = await case.post("staff1", f"{url}/reopen", json={"reason": "居民反映又堆上了"})
    resolve = deadlines(reopened)["resolve"]
    assert _at(resolve["due_at"]) == CALENDAR.add_working_hours(reopened_at, RESOLVE_WH)
    assert (resolve["met_at"], resolve["light"]) == (None, "green")
