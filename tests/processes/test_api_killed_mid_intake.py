"""An API process killed with SIGKILL while phones are submitting reports to it.

Several clients submit reports with a photo and an ``Idempotency-Key`` (docs/api.md, *Retries*)
as fast as the process answers. The process is frozen (SIGSTOP) at random moments until one
freeze catches it in the middle of intake in both ways that matter: a report committed whose
answer was not sent yet (the phone sees a dropped connection, not a 201), and photos already in
the store whose report is not committed. It is killed there, restarted, and every client sends
what got no answer again, with the same key. Then:

- every report acknowledged with a 201 is there, with its photos readable;
- no key made two reports (the committed-but-unanswered ones are replayed, not filed again);
- ``gc-photos`` takes exactly the files the killed requests left, and nothing a report uses.

The load is set by the constants below: raise them for a longer run."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.processes.conftest import (
    API,
    Headers,
    Service,
    Stack,
    referenced_keys,
    report_form,
    sign_in,
    stored_keys,
    wait_until,
)
from tests.reports.conftest import COMMUNITY_1_POINT, photo_bytes

CLIENTS = 6
# Each client files at least this many reports, and goes on until the API was restarted.
REPORTS_PER_CLIENT = 5
PHOTO = "DSCN0010.jpg"  # a 640×480 camera photo: intake takes a while, as a phone's does
# Reports acknowledged before the freezes start.
KILL_AFTER_ACKNOWLEDGED = 2 * CLIENTS
# Freezes tried before giving up on catching both kinds of interrupted intake.
MAX_FREEZES = 200
# A frozen process's answers already on the wire have reached their clients once the
# requests in flight stayed the same over this many turns of this long.
SETTLE_TURNS, SETTLE_SECONDS = 3, 0.03
USERS = [f"courier{n}" for n in range(1, 11)] + ["grid1", "resident1"]


@dataclass
class Submission:
    user: str
    key: str
    description: str
    lat: float
    lng: float
    attempts: int = 0
    dropped: int = 0  # attempts whose connection died without an answer
    status: int | None = None
    body: dict[str, Any] | None = None
    replayed: bool = False


@dataclass
class Intake:
    """What the clients share: where the API is, whether it is up, what is in flight."""

    api: Service
    run: str
    up: asyncio.Event = field(default_factory=asyncio.Event)
    restarted: bool = False
    submissions: list[Submission] = field(default_factory=list)
    in_flight: dict[str, Submission] = field(default_factory=dict)
    acknowledged: int = 0

    def new_submission(self, user: str) -> Submission:
        lat, lng = COMMUNITY_1_POINT
        sub = Submission(
            user=user,
            key=str(uuid.uuid4()),
            description=f"巷口乱停车 {self.run} {len(self.submissions)}",
            lat=lat + random.uniform(-0.0005, 0.0005),
            lng=lng + random.uniform(-0.0005, 0.0005),
        )
        self.submissions.append(sub)
        return sub


@dataclass
class Freeze:
    """What one freeze saw: in-flight keys whose report is committed, and orphaned files."""

    attempt: int
    committed_unanswered: set[str]
    orphans: set[str]
    in_flight: int


async def run_client(intake: Intake, user: str, headers: Headers, photo: bytes) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        filed = 0
        while filed < REPORTS_PER_CLIENT or not intake.restarted:
            sub = intake.new_submission(user)
            filed += 1
            while True:
                await intake.up.wait()
                intake.in_flight[sub.key] = sub
                sub.attempts += 1
                try:
                    response = await http.post(
                        f"{intake.api.url}{API}/reports",
                        data=report_form(sub.description, sub.lat, sub.lng),
                        files=[("photos", (PHOTO, photo, "image/jpeg"))],
                        headers={**headers, "Idempotency-Key": sub.key},
                    )
                except httpx.TransportError:
                    # A lost request or a lost answer: the phone cannot tell; it sends the
                    # same request with the same key once the server answers again.
                    sub.dropped += 1
                    continue
                finally:
                    intake.in_flight.pop(sub.key, None)
                if response.status_code in (409, 503) and "Retry-After" in response.headers:
                    await asyncio.sleep(0.2)
                    continue
                sub.status = response.status_code
                sub.body = response.json()
                sub.replayed = response.headers.get("Idempotent-Replayed") == "true"
                if response.status_code == 201:
                    intake.acknowledged += 1
                break


async def committed(db: AsyncEngine, in_flight: list[Submission]) -> set[str]:
    """The keys of the submissions among ``in_flight`` whose report is in the database."""
    if not in_flight:
        return set()
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT description FROM reports WHERE description = ANY(:descriptions)"),
            {"descriptions": [sub.description for sub in in_flight]},
        )
        found = {row.description for row in rows}
    return {sub.key for sub in in_flight if sub.description in found}


async def settled_in_flight(intake: Intake) -> list[Submission]:
    """What still waits for an answer once the answers sent before the freeze are in."""
    turns, in_flight = 0, set(intake.in_flight)
    while turns < SETTLE_TURNS:
        await asyncio.sleep(SETTLE_SECONDS)
        now = set(intake.in_flight)
        turns = turns + 1 if now == in_flight else 0
        in_flight = now
    return [intake.in_flight[key] for key in in_flight]


async def freeze_mid_intake(intake: Intake, stack: Stack, db: AsyncEngine) -> Freeze:
    """Freeze the API at random moments until it is caught with a committed report unanswered
    and with photo files no committed report references; leave it frozen there."""
    storage = stack.storage()
    api = intake.api
    for attempt in range(1, MAX_FREEZES + 1):
        await asyncio.sleep(random.uniform(0.0, 0.1))
        api.pause()
        in_flight = await settled_in_flight(intake)
        unanswered = await committed(db, in_flight)
        orphans = await stored_keys(storage) - await referenced_keys(db)
        if unanswered and orphans:
            return Freeze(attempt, unanswered, orphans, len(in_flight))
        api.resume()
    raise AssertionError(f"{MAX_FREEZES} freezes never caught intake half done")


async def photos_readable(
    http: httpx.AsyncClient, headers: Headers, sub: Submission, report_id: str
) -> None:
    """The reporter reads the report and its photo, display size and thumbnail."""
    report = await http.get(f"/reports/{report_id}", headers=headers)
    assert report.status_code == 200, report.text
    assert report.json()["description"] == sub.description
    [shown] = report.json()["photos"]
    for size in ("display", "thumbnail"):
        image = await http.get(f"/photos/{shown['id']}", params={"size": size}, headers=headers)
        assert image.status_code == 200, (sub.key, size, image.text)
        assert image.content.startswith(b"\xff\xd8")


async def test_reports_survive_an_api_killed_mid_intake(stack: Stack, db: AsyncEngine) -> None:
    api = stack.api("api")
    await api.start()
    photo = photo_bytes(PHOTO)
    users = [USERS[n % len(USERS)] for n in range(CLIENTS)]
    async with httpx.AsyncClient(timeout=30) as http:
        headers = {user: await sign_in(http, api.url, user) for user in {*users, "admin"}}
    intake = Intake(api, run=uuid.uuid4().hex[:8])
    intake.up.set()
    started = time.monotonic()
    clients = [
        asyncio.create_task(run_client(intake, user, headers[user], photo)) for user in users
    ]
    try:
        await wait_until(
            lambda: intake.acknowledged >= KILL_AFTER_ACKNOWLEDGED,
            60,
            "the first reports",
            interval=0.02,
        )
        acknowledged_before = intake.acknowledged
        freeze = await freeze_mid_intake(intake, stack, db)
        intake.up.clear()  # before the kill: the dropped clients wait for the restart
        api.kill()
        killed = time.monotonic()
        await api.start()
        back_in = time.monotonic() - killed
        intake.restarted = True
        intake.up.set()
        await asyncio.wait_for(asyncio.gather(*clients), 120)
    finally:
        for task in clients:
            task.cancel()
    elapsed = time.monotonic() - started
    submissions = intake.submissions

    # Every request was answered 201 in the end, and each key names one report.
    refused = [(s.key, s.status, s.body) for s in submissions if s.status != 201]
    assert refused == []
    by_key = {s.key: s.body["id"] for s in submissions if s.body}
    assert len(set(by_key.values())) == len(submissions)
    dropped = [s for s in submissions if s.dropped]
    replayed = [s for s in submissions if s.replayed]

    async with httpx.AsyncClient(base_url=api.url + API, timeout=30) as http:
        # What an administrator finds: one report per submission, no more.
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"q": intake.run, "limit": 100}
        while True:
            page = await http.get("/reports", params=params, headers=headers["admin"])
            assert page.status_code == 200, page.text
            found += page.json()["items"]
            if not page.json()["next_cursor"]:
                break
            params["cursor"] = page.json()["next_cursor"]
        assert sorted(r["description"] for r in found) == sorted(s.description for s in submissions)
        assert {r["id"] for r in found} == set(by_key.values())
        # The reports committed but unanswered at the kill were replayed to their retries.
        assert freeze.committed_unanswered <= {s.key for s in replayed}
        assert {s.key for s in replayed} <= {s.key for s in dropped}

        # Each reporter reads their report, and its photo, display and thumbnail.
        for sub in submissions:
            await photos_readable(http, headers[sub.user], sub, by_key[sub.key])

    # The killed requests left files no report references, and only they did.
    storage = stack.storage()
    referenced = await referenced_keys(db)
    orphans = await stored_keys(storage) - referenced
    assert freeze.orphans <= orphans
    assert orphans  # what the freeze caught: else gc-photos below would prove nothing
    # A store this small is mostly the killed requests' leftovers: allow them all.
    quarantined = stack.cli("gc-photos", "--grace-minutes", "0", "--max-percent", "50")
    assert quarantined.returncode == 0, quarantined.stdout + quarantined.stderr
    after = await stored_keys(storage)
    assert {k.split("/", 2)[2] for k in after if k.startswith("quarantine/")} == orphans
    assert {k for k in after if not k.startswith("quarantine/")} == referenced
    deleted = stack.cli("gc-photos", "--grace-minutes", "0", "--quarantine-days", "0")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert f"delete {len(orphans)} quarantined" in deleted.stdout.replace("\n", " ")
    assert await stored_keys(storage) == referenced
    async with httpx.AsyncClient(base_url=api.url + API, timeout=30) as http:
        for sub in submissions:
            await photos_readable(http, headers[sub.user], sub, by_key[sub.key])

    print(
        f"\nAPI killed mid-intake: {len(submissions)} reports submitted by {CLIENTS} clients "
        f"in {elapsed:.1f} s; {acknowledged_before} acknowledged before the freezes, caught "
        f"on freeze {freeze.attempt} with {freeze.in_flight} in flight "
        f"({len(freeze.committed_unanswered)} committed unanswered, {len(freeze.orphans)} "
        f"orphaned files); restarted in {back_in:.1f} s; {len(dropped)} requests "
        f"dropped and sent again, {len(replayed)} replayed; "
        f"{sum(s.status == 201 for s in submissions)} acknowledged, 0 lost, 0 duplicated; "
        f"{len(orphans)} orphaned files quarantined and deleted by gc-photos, "
        f"{len(referenced)} kept"
    )
