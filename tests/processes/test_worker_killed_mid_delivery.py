"""A worker killed with SIGKILL while it is delivering webhooks.

Cases are filed, accepted and whistled to two units through an API process, so that events
(``report.submitted``, ``report.accept``, ``report.whistle``, ``job.dispatched``) keep coming,
and a worker delivers them to a receiver. Once deliveries flow, the receiver holds its answers
for a while; the worker is killed while deliveries wait at the receiver for them, and
restarted.

Exactly once is impossible by design here: the receiver got those requests, and the worker died
before it could record that. docs/api.md promises at least once, with the repeats carrying the
same ``X-Suishoupai-Delivery`` (and event ``id``) for the receiver to drop. So the test asserts:
every event delivered (none lost), and the only repeats are the deliveries that were at the
receiver unrecorded when the worker died, each sent once more, as the same delivery.

The load is set by the constants below: raise them for a longer run."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict

import httpx

from app.integrations.signing import verify_signature
from tests.integrations.conftest import (
    UNIT_1,
    UNIT_2,
    Received,
    Receiver,
    create_webhook,
    serve_receiver,
)
from tests.processes.conftest import (
    API,
    Headers,
    Stack,
    delivery_log,
    report_form,
    sign_in,
    wait_until,
)
from tests.reports.conftest import COMMUNITY_1_POINT, photo_bytes

REPORTS = 8  # each makes 5 events: submitted, accept, whistle, and a job.dispatched per unit
EVENTS_PER_REPORT = 5
ANSWER_SECONDS = 0.05  # how long the receiver takes to answer, as a rule
# Once this many requests came, it holds its answers this long: the worker is killed while
# it waits for them (its timeout is longer, so none of them fails before).
KILL_AFTER_RECEIVED = 10
HOLD_SECONDS = 1.0
WEBHOOK_TIMEOUT = 1.5  # the worker's lease on a claimed delivery is twice this


async def make_cases(api_url: str, headers: dict[str, Headers], run: str) -> list[str]:
    """File, accept and whistle ``REPORTS`` cases; their ids."""
    photo = photo_bytes("Canon_40D.jpg")
    lat, lng = COMMUNITY_1_POINT
    ids = []
    async with httpx.AsyncClient(base_url=api_url + API, timeout=30) as http:
        for n in range(REPORTS):
            created = await http.post(
                "/reports",
                data=report_form(f"占道经营 {run} {n}", lat, lng),
                files=[("photos", ("a.jpg", photo, "image/jpeg"))],
                headers=headers["courier1"],
            )
            assert created.status_code == 201, created.text
            report_id = created.json()["id"]
            accepted = await http.post(
                f"/reports/{report_id}/accept", json={}, headers=headers["staff1"]
            )
            assert accepted.status_code == 200, accepted.text
            whistled = await http.post(
                f"/reports/{report_id}/whistle",
                json={"unit_ids": [str(UNIT_1), str(UNIT_2)]},
                headers=headers["staff1"],
            )
            assert whistled.status_code == 200, whistled.text
            ids.append(report_id)
    return ids


def whole(request: Received) -> bool:
    return len(request.body) == int(request.headers.get("content-length", "-1"))


def signed(request: Received, secret: str) -> bool:
    return verify_signature(
        secret,
        request.headers.get("x-suishoupai-timestamp", ""),
        request.body,
        request.headers.get("x-suishoupai-signature", ""),
        time.time(),
    )


def arrived_since(receiver: Receiver, moment: float) -> bool:
    with receiver.lock:
        return any(r.received_at > moment for r in receiver.requests)


async def test_no_delivery_is_lost_when_the_worker_is_killed_mid_delivery(stack: Stack) -> None:
    api = stack.api("api")
    worker = stack.worker(
        "worker",
        SSP_WORKER_INTERVAL_SECONDS="0.1",
        SSP_WEBHOOK_TIMEOUT_SECONDS=str(WEBHOOK_TIMEOUT),
        SSP_WEBHOOK_BACKOFF_SECONDS="0.5",
    )
    await asyncio.gather(api.start(), worker.start())
    run = uuid.uuid4().hex[:8]
    started = time.monotonic()
    with serve_receiver() as receiver:
        receiver.delay = ANSWER_SECONDS
        async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
            headers = {
                user: await sign_in(http, api.url, user) for user in ("admin", "courier1", "staff1")
            }
            hook = await create_webhook(http, headers["admin"], receiver.url(), ["*"])
        producer = asyncio.create_task(make_cases(api.url, headers, run))
        try:

            def producer_failed() -> bool:
                return producer.done() and producer.exception() is not None

            await wait_until(
                lambda: len(receiver.requests) >= KILL_AFTER_RECEIVED or producer_failed(),
                60,
                "the first deliveries",
                interval=0.01,
            )
            receiver.delay = HOLD_SECONDS
            held_from = time.time()
            await wait_until(
                lambda: arrived_since(receiver, held_from) or producer_failed(),
                60,
                "a delivery waiting for its answer",
                interval=0.01,
            )
            if producer.done():
                producer.result()  # its failure, if it failed
            worker.kill()
            killed_at = time.monotonic()
            # The receiver's threads reading a request the kill cut short see its end now.
            await asyncio.sleep(0.2)
            with receiver.lock:
                at_kill = list(receiver.requests)
            received_at_kill = {r.delivery_id for r in at_kill if whole(r)}
            recorded = {
                d["id"]: d["status"]
                for d in await delivery_log(api.url, headers["admin"], hook["id"])
            }
            unrecorded = {i for i in received_at_kill if recorded[i] != "delivered"}
            receiver.delay = ANSWER_SECONDS
            await worker.start()
            report_ids = await asyncio.wait_for(producer, 60)
        finally:
            producer.cancel()

        async def all_delivered() -> bool:
            log = await delivery_log(api.url, headers["admin"], hook["id"])
            return len(log) >= REPORTS * EVENTS_PER_REPORT and all(
                d["status"] == "delivered" for d in log
            )

        await wait_until(all_delivered, 60, "every delivery made", interval=0.2)
        finished = time.monotonic()
        log = await delivery_log(api.url, headers["admin"], hook["id"])
        with receiver.lock:
            received: list[Received] = list(receiver.requests)

    assert unrecorded, "the kill caught no delivery at the receiver"
    # A request the kill cut off in the middle is no delivery (a receiver refuses a body
    # shorter than its Content-Length); every other request is whole and signed.
    cut_off = [r for r in received if not whole(r)]
    assert all(r in at_kill for r in cut_off)
    deliveries = [r for r in received if whole(r)]
    assert all(signed(r, hook["secret"]) for r in deliveries)
    by_delivery: dict[str, list[Received]] = defaultdict(list)
    for request in deliveries:
        by_delivery[request.delivery_id].append(request)
    assert set(by_delivery) == {d["id"] for d in log}
    event_of = {d["id"]: d["event_id"] for d in log}
    for delivery_id, requests in by_delivery.items():
        assert {r.json["id"] for r in requests} == {event_of[delivery_id]}
        assert len({r.body for r in requests}) == 1  # a repeat is the same delivery
    # None lost: each of the cases' events arrived.
    types = Counter(
        r.json["type"]
        for rs in by_delivery.values()
        if (r := rs[0]).json["report"]["id"] in report_ids
    )
    assert types == {
        "report.submitted": REPORTS,
        "report.accept": REPORTS,
        "report.whistle": REPORTS,
        "job.dispatched": 2 * REPORTS,
    }
    # Repeated: exactly the deliveries the receiver had and the worker had not recorded when
    # it died, each once more (as the same delivery, which the receiver drops).
    repeats = {delivery_id: len(rs) for delivery_id, rs in by_delivery.items() if len(rs) > 1}
    assert repeats == dict.fromkeys(unrecorded, 2)
    attempts = {d["id"]: d["attempts"] for d in log}
    assert all(attempts[delivery_id] == 2 for delivery_id in unrecorded)

    print(
        f"\nworker killed mid-delivery: {len(log)} events ({REPORTS} cases), "
        f"{len(received_at_kill)} received before the kill, {len(unrecorded)} of them "
        f"unanswered; every event delivered in {finished - started:.1f} s "
        f"({finished - killed_at:.1f} s after the kill), 0 lost, {len(repeats)} received "
        f"twice as the same delivery (dropped by X-Suishoupai-Delivery), "
        f"{len(cut_off)} cut off by the kill, {len(received)} requests in all"
    )
