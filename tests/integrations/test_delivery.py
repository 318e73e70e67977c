"""Webhook deliveries, received by a real HTTP server: signatures a receiver can verify,
retries with backoff, parking and manual retry, unit filtering, and two workers on PostgreSQL
never sending the same delivery twice."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock, FrozenClock
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.integrations import outbox
from app.integrations.delivery import (
    DeliveryCounts,
    deliver_due,
    fan_out,
    new_http_client,
)
from app.integrations.signing import verify_signature
from app.models import OutboxEvent, Report, WebhookDelivery
from app.models.enums import DeliveryStatus
from tests.conftest import LoginFn
from tests.integrations.conftest import (
    UNIT_1,
    UNIT_2,
    Receiver,
    create_webhook,
    deliveries,
    dispatch_directly,
    outbox_ids,
)
from tests.reports.conftest import SubmitFn


@pytest.fixture
async def webhook_http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with new_http_client(settings) as http:
        yield http


async def run_delivery(
    app: FastAPI,
    http: httpx.AsyncClient,
    clock: Clock | None = None,
    settings: Settings | None = None,
) -> DeliveryCounts:
    """What a worker pass does for webhooks: fan new events out, send what is due."""
    clock = clock or app.state.clock
    await fan_out(app.state.sessionmaker, clock.now())
    return await deliver_due(app.state.sessionmaker, settings or app.state.settings, clock, http)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_delivery_is_signed_so_that_the_receiver_can_verify_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    receiver: Receiver,
    webhook_http: httpx.AsyncClient,
) -> None:
    admin = await login("admin")
    hook = await create_webhook(client, admin, receiver.url(), ["report.submitted"])
    report = (await submit("courier1")).json()

    counts = await run_delivery(app, webhook_http)

    assert counts == DeliveryCounts(delivered=1)
    [request] = receiver.requests
    assert receiver.verified(hook["secret"]) == [request]
    [event_id] = await outbox_ids(session, "report.submitted")
    body = request.json
    assert body["id"] == event_id
    assert body["type"] == "report.submitted"
    assert body["report"]["id"] == report["id"]
    assert body["report"]["number"] == report["number"]
    assert body["report"]["status"] == "submitted"
    assert request.headers["x-suishoupai-event"] == "report.submitted"
    assert request.headers["content-type"] == "application/json"

    # What a receiver refuses: another key, a changed body or timestamp, a late replay.
    timestamp = request.headers["x-suishoupai-timestamp"]
    signature = request.headers["x-suishoupai-signature"]
    assert signature.startswith("sha256=")
    secret, raw = hook["secret"], request.body
    sent_at = int(timestamp)
    assert verify_signature(secret, timestamp, raw, signature, now=sent_at + 299)
    assert not verify_signature("whsec_other", timestamp, raw, signature, now=sent_at)
    assert not verify_signature(secret, timestamp, raw + b" ", signature, now=sent_at)
    assert not verify_signature(secret, str(sent_at + 1), raw, signature, now=sent_at)
    assert not verify_signature(secret, timestamp, raw, signature, now=sent_at + 301)
    assert not verify_signature(secret, "yesterday", raw, signature, now=sent_at)

    [entry] = await deliveries(client, admin, hook["id"])
    assert entry["id"] == request.delivery_id
    assert entry["event_id"] == event_id
    assert entry["event_type"] == "report.submitted"
    assert entry["status"] == "delivered"
    assert entry["attempts"] == 1
    assert entry["last_status_code"] == 204
    assert entry["last_error"] is None
    assert entry["next_attempt_at"] is None
    assert entry["delivered_at"] is not None

    assert await run_delivery(app, webhook_http) == DeliveryCounts()
    assert len(receiver.requests) == 1


async def test_failed_deliveries_are_retried_with_exponential_backoff(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    webhook_http: httpx.AsyncClient,
    settings: Settings,
) -> None:
    assert settings.webhook_backoff_seconds == 30
    assert settings.webhook_max_attempts == 3
    clock = FrozenClock(datetime.now(UTC))
    receiver.answers = [500, 502]  # then 204
    admin = await login("admin")
    hook = await create_webhook(client, admin, receiver.url(), ["report.*"])
    await submit("courier1")

    first = clock.now()
    assert await run_delivery(app, webhook_http, clock) == DeliveryCounts(retrying=1)
    [entry] = await deliveries(client, admin, hook["id"])
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("pending", 1, 500)
    assert entry["last_error"] == "http_status"
    # 30 s, give or take the 10% jitter.
    assert 27 <= (_at(entry["next_attempt_at"]) - first).total_seconds() <= 33

    clock.advance(seconds=26)
    assert await run_delivery(app, webhook_http, clock) == DeliveryCounts()
    assert len(receiver.requests) == 1

    clock.advance(seconds=8)
    second = clock.now()
    assert await run_delivery(app, webhook_http, clock) == DeliveryCounts(retrying=1)
    [entry] = await deliveries(client, admin, hook["id"])
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("pending", 2, 502)
    assert 54 <= (_at(entry["next_attempt_at"]) - second).total_seconds() <= 66  # doubled

    clock.advance(seconds=67)
    assert await run_delivery(app, webhook_http, clock) == DeliveryCounts(delivered=1)
    [entry] = await deliveries(client, admin, hook["id"])
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 3, 204)
    assert entry["last_error"] is None

    # Three attempts of one delivery, each signed afresh at the moment it was sent.
    assert len(receiver.requests) == 3
    assert {r.delivery_id for r in receiver.requests} == {entry["id"]}
    stamps = [int(r.headers["x-suishoupai-timestamp"]) for r in receiver.requests]
    assert stamps == [int(first.timestamp()), int(second.timestamp()), int(clock.now().timestamp())]
    assert receiver.verified(hook["secret"], now=clock.now().timestamp()) == receiver.requests


async def test_a_delivery_is_parked_after_the_last_attempt_and_can_be_retried(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    webhook_http: httpx.AsyncClient,
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    receiver.default_status = 503
    admin = await login("admin")
    hook = await create_webhook(client, admin, receiver.url(), ["*"])
    await submit("courier1")

    outcomes = []
    for _ in range(4):
        outcomes.append(await run_delivery(app, webhook_http, clock))
        clock.advance(hours=1)
    assert outcomes == [
        DeliveryCounts(retrying=1),
        DeliveryCounts(retrying=1),
        DeliveryCounts(parked=1),
        DeliveryCounts(),
    ]
    assert len(receiver.requests) == 3
    [entry] = await deliveries(client, admin, hook["id"])
    assert entry["status"] == "parked"
    assert entry["attempts"] == 3
    assert entry["last_status_code"] == 503
    assert entry["last_error"] == "http_status"
    assert entry["next_attempt_at"] is None
    parked = await client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries?status=parked", headers=admin
    )
    assert [d["id"] for d in parked.json()["items"]] == [entry["id"]]
    none = await client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries?status=delivered", headers=admin
    )
    assert none.json()["items"] == []

    # The receiver is fixed; an operator queues the delivery again.
    receiver.default_status = 200
    retry_path = f"/api/v1/webhooks/{hook['id']}/deliveries/{entry['id']}/retry"
    requeued = await client.post(retry_path, headers=admin)
    assert requeued.status_code == 200, requeued.text
    assert (requeued.json()["status"], requeued.json()["attempts"]) == ("pending", 0)
    again = await client.post(retry_path, headers=admin)
    assert again.status_code == 409
    assert again.json()["code"] == "delivery_not_parked"

    # A claim skips the rows another transaction holds (SKIP LOCKED) rather than wait: the
    # refused second retry locked the row, and its transaction may end only just after its
    # answer, so on a loaded machine the delivery can wait for the next pass — never longer.
    delivered = await run_delivery(app, webhook_http, clock)
    if delivered == DeliveryCounts():
        delivered = await run_delivery(app, webhook_http, clock)
    assert delivered == DeliveryCounts(delivered=1)
    [entry] = await deliveries(client, admin, hook["id"])
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 1, 200)
    assert len(receiver.requests) == 4
    delivered_retry = await client.post(retry_path, headers=admin)
    assert delivered_retry.status_code == 409


async def test_unreachable_and_slow_receivers_count_as_failed_attempts(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    webhook_http: httpx.AsyncClient,
    settings: Settings,
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    admin = await login("admin")
    unreachable = await create_webhook(client, admin, f"http://127.0.0.1:{closed_port}/hook", ["*"])
    slow = await create_webhook(client, admin, receiver.url("/slow"), ["*"])
    receiver.delay = 2.5
    await submit("courier1")

    impatient = settings.model_copy(update={"webhook_timeout_seconds": 1.0})
    assert await run_delivery(app, webhook_http, settings=impatient) == DeliveryCounts(retrying=2)

    # The log says what kind of failure it was, never which address or port did what.
    [refused] = await deliveries(client, admin, unreachable["id"])
    assert refused["last_status_code"] is None
    assert refused["last_error"] == "connection_refused"
    [timed_out] = await deliveries(client, admin, slow["id"])
    assert timed_out["last_status_code"] is None
    assert timed_out["last_error"] == "timeout"
    assert timed_out["attempts"] == 1


async def test_a_units_webhook_receives_only_the_events_of_its_units_jobs(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    webhook_http: httpx.AsyncClient,
) -> None:
    admin, unit1 = await login("admin"), await login("unit1")
    own = await create_webhook(client, unit1, receiver.url("/unit1"), ["*"])
    await create_webhook(client, admin, receiver.url("/unit2"), ["*"], unit_id=str(UNIT_2))
    await create_webhook(client, admin, receiver.url("/all"), ["*"])
    await create_webhook(client, admin, receiver.url("/jobs"), ["job.*"])
    paused = await create_webhook(client, admin, receiver.url("/paused"), ["*"])
    response = await client.patch(
        f"/api/v1/webhooks/{paused['id']}", json={"active": False}, headers=admin
    )
    assert response.status_code == 200

    report = (await submit("courier1")).json()
    # unit1 is called to the case, as the whistle does it.
    await dispatch_directly(app, report["id"])

    await run_delivery(app, webhook_http)

    received = sorted((r.path, r.json["type"]) for r in receiver.requests)
    assert received == [
        ("/all", "job.dispatched"),
        ("/all", "report.submitted"),
        ("/jobs", "job.dispatched"),
        ("/unit1", "job.dispatched"),
    ]
    [entry] = await deliveries(client, unit1, own["id"])
    assert (entry["event_type"], entry["status"]) == ("job.dispatched", "delivered")
    unit_body = next(r.json for r in receiver.requests if r.path == "/unit1")
    assert unit_body["job"]["unit_id"] == str(UNIT_1)
    assert unit_body["report"]["id"] == report["id"]


async def test_a_paused_webhooks_queued_deliveries_wait_for_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    webhook_http: httpx.AsyncClient,
) -> None:
    admin = await login("admin")
    hook = await create_webhook(client, admin, receiver.url(), ["*"])
    await submit("courier1")
    await fan_out(app.state.sessionmaker, datetime.now(UTC))
    path = f"/api/v1/webhooks/{hook['id']}"
    assert (await client.patch(path, json={"active": False}, headers=admin)).status_code == 200

    assert await run_delivery(app, webhook_http) == DeliveryCounts()
    assert receiver.requests == []
    [entry] = await deliveries(client, admin, hook["id"])
    assert entry["status"] == "pending"

    assert (await client.patch(path, json={"active": True}, headers=admin)).status_code == 200
    assert await run_delivery(app, webhook_http) == DeliveryCounts(delivered=1)
    assert len(receiver.requests) == 1


async def test_two_workers_never_send_the_same_delivery_twice(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    receiver: Receiver,
    settings: Settings,
) -> None:
    """Two worker processes (two engines, two connection pools) on one PostgreSQL database,
    fanning out and delivering at the same time: every delivery arrives exactly once."""
    if settings.is_sqlite:
        pytest.skip(
            "FOR UPDATE SKIP LOCKED between concurrent workers is a PostgreSQL property; "
            "SQLite serialises writers and runs one worker (set SSP_TEST_DATABASE_URL)"
        )
    admin = await login("admin")
    hooks = [
        await create_webhook(client, admin, receiver.url(f"/hook{i}"), ["*"]) for i in range(3)
    ]
    report = (await submit("courier1")).json()
    async with app.state.sessionmaker() as db:
        row = await db.get_one(Report, uuid.UUID(report["id"]))
        for n in range(79):
            await outbox.record(db, "report.commented", row, now=datetime.now(UTC), data={"n": n})
        await db.commit()
    events = await outbox_ids(session)
    assert len(events) == 80
    receiver.delay = 0.02  # keeps both workers' batches in flight at the same time

    async def work_left(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
        async with sessionmaker() as db:
            unfanned = await db.scalar(
                select(func.count()).where(OutboxEvent.fanned_out_at.is_(None))
            )
            pending = await db.scalar(
                select(func.count()).where(WebhookDelivery.status == DeliveryStatus.pending)
            )
        return bool(unfanned or pending)

    async def worker(
        sessionmaker: async_sessionmaker[AsyncSession], http: httpx.AsyncClient
    ) -> DeliveryCounts:
        """Worker passes until nothing is left to do by anyone."""
        total = DeliveryCounts()
        while await work_left(sessionmaker):
            await fan_out(sessionmaker, datetime.now(UTC))
            counts = await deliver_due(sessionmaker, settings, Clock(), http)
            total.delivered += counts.delivered
            total.retrying += counts.retrying
            await asyncio.sleep(0.01)
        return total

    engines = [create_engine(settings), create_engine(settings)]
    try:
        async with new_http_client(settings) as http_a, new_http_client(settings) as http_b:
            a, b = await asyncio.gather(
                worker(create_sessionmaker(engines[0]), http_a),
                worker(create_sessionmaker(engines[1]), http_b),
            )
    finally:
        for engine in engines:
            await engine.dispose()

    expected = len(events) * len(hooks)
    assert len(receiver.requests) == expected
    assert len({r.delivery_id for r in receiver.requests}) == expected
    assert {(r.path, r.json["id"]) for r in receiver.requests} == {
        (f"/hook{i}", event) for i in range(3) for event in events
    }
    assert a.delivered + b.delivered == expected
    # Both really worked.
    assert a.delivered > 0, (a, b)
    assert b.delivered > 0, (a, b)
    assert a.retrying == b.retrying == 0
    for hook in hooks:
        assert len(receiver.verified(hook["secret"])) == len(events)
    session.expire_all()
    rows = await session.execute(
        select(WebhookDelivery.status, func.count().label("deliveries")).group_by(
            WebhookDelivery.status
        )
    )
    statuses = {row.status: row.deliveries for row in rows}
    assert statuses == {DeliveryStatus.delivered: expected}
    attempts = await session.scalar(select(func.max(WebhookDelivery.attempts)))
    assert attempts == 1
