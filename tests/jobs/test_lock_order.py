"""Units acting on their jobs at the very moment the case's staff end the case or resume it
from a hold, and the whistle calling units while a supervisor puts the case on hold: every
answer is a success or the documented 409, never a 500, and the case comes out coherent — no
job left open on a closed case, a timeline whose job entries replay to the jobs' statuses and
versions.

On PostgreSQL the two sides lock the same rows (the report and its jobs); they must take them
in one order, the report first, or they can wait for each other in a circle until the
database breaks the deadlock by failing one of them. Each race is run many times, since one
run may not meet at the wrong moment. On SQLite writers queue for the one write lock, and the
same races must come out the same."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ReportEvent
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

ROUNDS = 20
DECLINE = {"reason_code": "wrong_area", "reason": "不属于本单位职责片区"}
CLOSED_REASON = "The case was closed: nothing is left to do"
OPEN = {"pending", "accepted"}

# What each job entry of the timeline requires of the job and leaves it in (None: unchanged).
JOB_EVENTS: dict[str, tuple[set[str], str | None]] = {
    "job_accept": ({"pending"}, "accepted"),
    "job_decline": ({"pending"}, "declined"),
    "job_cancel": (OPEN, "cancelled"),
    "job_progress": ({"accepted"}, None),
    "job_complete": ({"accepted"}, "completed"),
    "job_extension_request": ({"accepted"}, None),
    "job_extension_grant": ({"accepted"}, None),
    "job_extension_refuse": ({"accepted"}, None),
    "job_rework": ({"completed"}, "accepted"),
}


@dataclass(frozen=True)
class Entry:
    seq: int
    type: str
    reason: str | None
    data: dict[str, Any]


# A unit's action: (user, job's unit, path, request arguments, the timeline entry it writes).
UnitAction = tuple[str, str, str, dict[str, Any], str]


def _later(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _on_accepted_job(round_number: int) -> UnitAction:
    """旗红十字会, at work on its assisting job: one of the things it can do."""
    actions: list[UnitAction] = [
        (
            "unit2",
            RED_CROSS,
            "complete",
            {"data": {"note": "已协助清理"}, "files": [("photos", PHOTO)]},
            "job_complete",
        ),
        ("unit2", RED_CROSS, "progress", {"data": {"note": "正在协调"}}, "job_progress"),
        (
            "unit2",
            RED_CROSS,
            "extension",
            {"json": {"until": _later(10), "reason": "材料未到"}},
            "job_extension_request",
        ),
    ]
    return actions[round_number % 3]


def _on_pending_job(round_number: int) -> UnitAction:
    """旗科协, not yet answered: it accepts or declines."""
    actions: list[UnitAction] = [
        ("unit4", SCIENCE, "accept", {"json": {}}, "job_accept"),
        ("unit4", SCIENCE, "decline", {"json": DECLINE}, "job_decline"),
    ]
    return actions[round_number % 2]


class Race:
    """One case and the requests racing on it."""

    def __init__(
        self, client: httpx.AsyncClient, login: Callable[[str], Awaitable[dict[str, str]]]
    ) -> None:
        self.client = client
        self.login = login

    async def post(self, user: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.post(f"/api/v1{path}", headers=await self.login(user), **kwargs)

    async def unit(self, jobs: dict[str, dict[str, Any]], action: UnitAction) -> httpx.Response:
        user, unit, path, kwargs, _ = action
        return await self.post(user, f"/jobs/{jobs[unit]['id']}/{path}", **kwargs)


def _settled(response: httpx.Response) -> bool:
    """True if the request succeeded, False if it lost the race the documented way."""
    if response.status_code == 409:
        problem(response, 409, "invalid_transition")
        return False
    assert response.status_code == 200, response.text
    return True


async def _timeline(session: AsyncSession, report_id: str) -> list[Entry]:
    """The case's timeline with the job each entry is about (the API does not show it)."""
    rows = await session.execute(
        select(ReportEvent.seq, ReportEvent.type, ReportEvent.reason, ReportEvent.data)
        .where(ReportEvent.report_id == uuid.UUID(report_id))
        .order_by(ReportEvent.seq)
    )
    events = [Entry(row.seq, row.type, row.reason, row.data) for row in rows]
    await session.rollback()  # no snapshot kept for the next round (SQLite would keep one)
    return events


def _replay(events: list[Entry], jobs: dict[str, dict[str, Any]], *, resumed: bool) -> None:
    """The timeline's job entries, replayed from the dispatch, give every job its status and
    its version: one per entry, and one more for a job still open when the hold ended (its
    deadlines moved)."""
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(events) + 1)), seqs
    by_id = {job["id"]: name for name, job in jobs.items()}
    status = dict.fromkeys(jobs, "pending")
    version = dict.fromkeys(jobs, 1)
    for event in events:
        if event.type == "resume" and resumed:
            for name in jobs:
                version[name] += status[name] in OPEN
        if event.type not in JOB_EVENTS:
            continue
        name = by_id[event.data["job_id"]]
        allowed, after = JOB_EVENTS[event.type]
        assert status[name] in allowed, (name, event.type, status[name])
        status[name] = after or status[name]
        version[name] += 1
    assert {n: (j["status"], j["version"]) for n, j in jobs.items()} == {
        n: (status[n], version[n]) for n in jobs
    }


def _entries_of(events: list[Entry], job: dict[str, Any]) -> list[str]:
    return [e.type for e in events if e.data.get("job_id") == job["id"]]


async def test_closing_a_case_while_its_units_act_on_their_jobs(
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    accepted_case: CaseFn,
    whistle: WhistleFn,
) -> None:
    race = Race(client, login)
    staff1 = await login("staff1")
    outcomes: Counter[str] = Counter()
    for round_number in range(ROUNDS):
        # The lead finished (the case waits for the check); 旗红十字会 is at work on its
        # assisting job, 旗科协 has not answered.
        case = await accepted_case()
        report_id = case["id"]
        ok(await whistle(report_id, [LEAD, RED_CROSS, SCIENCE]))
        jobs = await jobs_by_unit(client, staff1, report_id)
        ok(await race.post("unit2", f"/jobs/{jobs[RED_CROSS]['id']}/accept", json={}))
        lead = f"/jobs/{jobs[LEAD]['id']}"
        ok(await race.post("unit1", f"{lead}/accept", json={}))
        done = {"note": "已清理"}
        ok(await race.post("unit1", f"{lead}/complete", data=done, files=[("photos", PHOTO)]))

        at_work, unanswered = _on_accepted_job(round_number), _on_pending_job(round_number)
        verify = race.post("staff1", f"/reports/{report_id}/verify", data={"passed": "true"})
        closed, *units = await asyncio.gather(
            verify, race.unit(jobs, at_work), race.unit(jobs, unanswered)
        )
        if not _settled(closed):
            # A unit's action moved the case first: the check is made again, on what it is now.
            outcomes["close again"] += 1
            closed = await race.post(
                "staff1", f"/reports/{report_id}/verify", data={"passed": "true"}
            )
        assert ok(closed)["status"] == "closed"

        jobs = await jobs_by_unit(client, staff1, report_id)
        assert not [name for name, job in jobs.items() if job["status"] in OPEN], jobs
        events = await _timeline(session, report_id)
        _replay(events, jobs, resumed=False)
        closing = [e.type for e in events].index("verify_pass")
        # After the check only the withdrawals of the jobs still open then, with the reason.
        after = events[closing + 1 :]
        assert {e.type for e in after} <= {"job_cancel"}, [e.type for e in after]
        assert {e.reason for e in after} <= {CLOSED_REASON}
        for response, (_, unit, _, _, entry) in zip(units, (at_work, unanswered), strict=True):
            written = _entries_of(events[:closing], jobs[unit])
            if _settled(response):
                outcomes["unit first"] += 1
                assert written[-1] == entry, (unit, written)
            else:
                outcomes["unit too late"] += 1
                assert entry not in written, (unit, written)
                assert jobs[unit]["status"] == "cancelled"
    # The requests did meet: some of them had to wait for another, or lost to it.
    assert outcomes["close again"] + outcomes["unit too late"], outcomes


async def test_resuming_a_case_while_its_units_act_on_their_jobs(
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    accepted_case: CaseFn,
    whistle: WhistleFn,
) -> None:
    race = Race(client, login)
    staff1 = await login("staff1")
    # On PostgreSQL each unit waits for the case's lock and acts on what the others left: none
    # is refused. On SQLite one that read the case before another writer changed it is.
    serialised = session.get_bind().dialect.name == "postgresql"
    outcomes: Counter[str] = Counter()
    for round_number in range(ROUNDS):
        # On hold with the lead and 旗科协 not yet answered and 旗红十字会 at work: the
        # resumption moves all their deadlines.
        case = await accepted_case()
        report_id = case["id"]
        ok(await whistle(report_id, [LEAD, RED_CROSS, SCIENCE]))
        jobs = await jobs_by_unit(client, staff1, report_id)
        ok(await race.post("unit2", f"/jobs/{jobs[RED_CROSS]['id']}/accept", json={}))
        ok(await race.post("supervisor", f"/reports/{report_id}/hold", json={"reason": "冬季停工"}))

        actions = [
            ("unit1", LEAD, "accept", {"json": {}}, "job_accept"),
            _on_accepted_job(round_number),
            _on_pending_job(round_number),
        ]
        resume = race.post("supervisor", f"/reports/{report_id}/resume", json={})
        resumed, *units = await asyncio.gather(
            resume, *(race.unit(jobs, action) for action in actions)
        )
        if not _settled(resumed):
            outcomes["resume again"] += 1
            resumed = await race.post("supervisor", f"/reports/{report_id}/resume", json={})
        assert ok(resumed)["status"] == "dispatched"

        jobs = await jobs_by_unit(client, staff1, report_id)
        events = await _timeline(session, report_id)
        assert [e.type for e in events].count("resume") == 1
        _replay(events, jobs, resumed=True)
        for response, (_, unit, _, _, entry) in zip(units, actions, strict=True):
            if not _settled(response):
                # SQLite: the unit read the case before another writer changed it.
                assert not serialised, response.text
                outcomes["unit refused"] += 1
                continue
            assert _entries_of(events, jobs[unit])[-1] == entry
            outcomes[
                "unit after resume" if _after_resume(events, jobs[unit]) else "unit first"
            ] += 1
    met = outcomes["resume again"] + outcomes["unit after resume"] + outcomes["unit refused"]
    assert met, outcomes


def _after_resume(events: list[Entry], job: dict[str, Any]) -> bool:
    types = [e.type for e in events]
    last = max(i for i, e in enumerate(events) if e.data.get("job_id") == job["id"])
    return last > types.index("resume")


async def test_whistling_more_units_while_the_case_is_put_on_hold(
    client: httpx.AsyncClient, login: LoginFn, accepted_case: CaseFn, whistle: WhistleFn
) -> None:
    """The whistle writes new jobs and the report, a hold only the report: one of them wins,
    the other is told the case changed."""
    case = await accepted_case()
    report_id = case["id"]
    ok(await whistle(report_id, [LEAD]))
    race = Race(client, login)
    outcomes: Counter[str] = Counter()
    for round_number in range(ROUNDS):
        unit = [RED_CROSS, SCIENCE][round_number % 2]
        called, held = await asyncio.gather(
            whistle(report_id, [unit]),
            race.post("supervisor", f"/reports/{report_id}/hold", json={"reason": "冬季停工"}),
        )
        # Both succeed when the whistle is through before the hold reads the case.
        assert _settled(called) | _settled(held), (called.text, held.text)
        if held.status_code == 200:
            outcomes["hold"] += 1
            ok(await race.post("supervisor", f"/reports/{report_id}/resume", json={}))
        if called.status_code == 200:
            outcomes["whistle"] += 1
            new = next(
                job
                for job in called.json()["jobs"]
                if job["unit"]["name"] == unit and job["status"] == "pending"
            )
            ok(await race.post("staff1", f"/jobs/{new['id']}/cancel", json={"reason": "重派"}))
    events = await client.get(
        f"/api/v1/reports/{report_id}/timeline", headers=await login("staff1")
    )
    types = Counter(e["type"] for e in ok_list(events))
    assert (types["whistle"] - 1, types["hold"]) == (outcomes["whistle"], outcomes["hold"])
