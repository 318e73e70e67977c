"""Pruning outbox events and webhook deliveries past retention: what goes, what stays (parked
and unfinished deliveries, their events, events not fanned out yet, the newest event), batches
of bounded size, several workers at once, and the gauges an operator watches."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.integrations.delivery import new_http_client
from app.integrations.retention import prune
from app.models import OutboxEvent, WebhookDelivery
from app.models.enums import DeliveryStatus
from app.worker import run_once
from tests.conftest import LoginFn
from tests.integrations.conftest import create_webhook, deliveries

NOW = datetime.now(UTC).replace(microsecond=0)
OLD = NOW - timedelta(days=40)  # past the default 30 days
RECENT = NOW - timedelta(days=1)


@dataclass
class Row:
    """An event as the test wrote it, and its delivery to the test's webhook (if any)."""

    event_id: int
    delivery_id: uuid.UUID | None


async def add_event(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    created_at: datetime,
    fanned_out_at: datetime | None = None,
    webhook_id: str | None = None,
    status: DeliveryStatus | None = None,
    delivered_at: datetime | None = None,
    copies: int = 1,
) -> Row:
    """An outbox event as the outbox writes it (the worker's fan-out time and, for
    ``webhook_id``, a delivery in ``status``)."""
    async with sessionmaker() as db:
        event = OutboxEvent(
            type="report.submitted",
            unit_ids=[],
            payload={"type": "report.submitted", "occurred_at": created_at.isoformat()},
            created_at=created_at,
            fanned_out_at=fanned_out_at,
        )
        db.add(event)
        await db.flush()
        delivery_id = None
        if webhook_id is not None and status is not None:
            delivery_id = uuid.uuid4()
            db.add(
                WebhookDelivery(
                    id=delivery_id,
                    webhook_id=uuid.UUID(webhook_id),
                    event_id=event.id,
                    event_created_at=created_at,
                    status=status,
                    attempts=1,
                    next_attempt_at=created_at,
                    last_attempt_at=delivered_at or created_at,
                    delivered_at=delivered_at,
                    created_at=fanned_out_at or created_at,
                )
            )
        await db.commit()
        return Row(event.id, delivery_id)


async def event_ids(session: AsyncSession) -> set[int]:
    session.expire_all()
    return set((await session.scalars(select(OutboxEvent.id))).all())


async def delivery_count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0


def gauge(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise AssertionError(f"{name} {labels} is not on /metrics")


async def test_old_rows_go_parked_and_unfinished_ones_stay(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
) -> None:
    admin = await login("admin")
    hook = await create_webhook(client, admin, "http://127.0.0.1:9/hook", ["*"])
    sm = app.state.sessionmaker
    delivered = await add_event(
        sm,
        created_at=OLD,
        fanned_out_at=OLD,
        webhook_id=hook["id"],
        status=DeliveryStatus.delivered,
        delivered_at=OLD,
    )
    unwanted = await add_event(sm, created_at=OLD, fanned_out_at=OLD)  # no webhook wanted it
    parked = await add_event(
        sm, created_at=OLD, fanned_out_at=OLD, webhook_id=hook["id"], status=DeliveryStatus.parked
    )
    pending = await add_event(
        sm, created_at=OLD, fanned_out_at=OLD, webhook_id=hook["id"], status=DeliveryStatus.pending
    )
    # Parked, retried by someone last week, delivered: its own period started then.
    retried = await add_event(
        sm,
        created_at=OLD,
        fanned_out_at=OLD,
        webhook_id=hook["id"],
        status=DeliveryStatus.delivered,
        delivered_at=NOW - timedelta(days=7),
    )
    never_fanned = await add_event(sm, created_at=OLD)  # the worker was down all along
    fanned_late = await add_event(sm, created_at=OLD, fanned_out_at=RECENT)
    recent = await add_event(
        sm,
        created_at=RECENT,
        fanned_out_at=RECENT,
        webhook_id=hook["id"],
        status=DeliveryStatus.delivered,
        delivered_at=RECENT,
    )

    result = await prune(sm, settings, NOW)

    assert result.finished
    assert (result.events, result.deliveries) == (2, 1)
    assert await event_ids(session) == {
        parked.event_id,
        pending.event_id,
        retried.event_id,
        never_fanned.event_id,
        fanned_late.event_id,
        recent.event_id,
    }
    assert delivered.event_id not in await event_ids(session)
    assert unwanted.event_id not in await event_ids(session)
    # The webhook's delivery log, as its owner sees it.
    log = {d["id"]: d for d in await deliveries(client, admin, hook["id"])}
    assert set(log) == {str(r.delivery_id) for r in (parked, pending, retried, recent)}
    assert log[str(parked.delivery_id)]["status"] == "parked"

    # Once the parked delivery is handled (retried, then delivered long enough ago), it goes too.
    retry = await client.post(
        f"/api/v1/webhooks/{hook['id']}/deliveries/{parked.delivery_id}/retry", headers=admin
    )
    assert retry.status_code == 200, retry.text
    async with sm() as db:
        row = await db.get_one(WebhookDelivery, parked.delivery_id)
        row.status, row.delivered_at = DeliveryStatus.delivered, NOW - timedelta(days=1)
        await db.commit()
    later = NOW + timedelta(days=30)
    second = await prune(sm, settings, later)
    # Everything before `later` is past retention now, except what is still needed.
    assert await event_ids(session) == {
        pending.event_id,  # still being tried
        never_fanned.event_id,
        recent.event_id,  # the newest
    }
    assert second.events == 3  # parked (now delivered), retried, fanned_late


async def test_the_newest_event_is_kept_so_that_its_id_is_never_handed_out_again(
    app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    sm = app.state.sessionmaker
    rows = [await add_event(sm, created_at=OLD, fanned_out_at=OLD) for _ in range(3)]

    await prune(sm, settings, NOW)
    assert await event_ids(session) == {rows[-1].event_id}

    newer = await add_event(sm, created_at=NOW)
    assert newer.event_id > rows[-1].event_id


async def test_each_transaction_deletes_at_most_a_batch(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    database_url: str,
    settings_for: Callable[..., Settings],
) -> None:
    settings = settings_for(database_url, retention_batch_size=3)
    hook = await create_webhook(client, await login("admin"), "http://127.0.0.1:9/hook", ["*"])
    sm = app.state.sessionmaker
    # An event delivered to five webhooks' worth of receivers: five deliveries to prune.
    other_hooks = [
        await create_webhook(client, await login("admin"), f"http://127.0.0.1:9/{n}", ["*"])
        for n in range(4)
    ]
    crowded = await add_event(sm, created_at=OLD, fanned_out_at=OLD)
    async with sm() as db:
        for webhook in [hook, *other_hooks]:
            db.add(
                WebhookDelivery(
                    id=uuid.uuid4(),
                    webhook_id=uuid.UUID(webhook["id"]),
                    event_id=crowded.event_id,
                    event_created_at=OLD,
                    status=DeliveryStatus.delivered,
                    attempts=1,
                    next_attempt_at=OLD,
                    delivered_at=OLD,
                    created_at=OLD,
                )
            )
        await db.commit()
    for _ in range(7):
        await add_event(sm, created_at=OLD, fanned_out_at=OLD)
    await add_event(sm, created_at=NOW)  # the newest, recent
    events_before = len(await event_ids(session))

    one = await prune(sm, settings, NOW, max_batches=1)
    assert (one.events, one.deliveries, one.batches, one.finished) == (0, 3, 1, False)
    assert await delivery_count(session) == 2

    two = await prune(sm, settings, NOW, max_batches=2)
    # The last two deliveries, then the first window's three events.
    assert (two.deliveries, two.events, two.batches, two.finished) == (2, 3, 2, False)
    assert await delivery_count(session) == 0
    assert len(await event_ids(session)) == events_before - 3

    rest = await prune(sm, settings, NOW)
    assert rest.finished
    assert rest.events == 5  # in windows of three
    assert rest.batches == 2
    assert len(await event_ids(session)) == 1


async def test_nothing_is_pruned_when_retention_is_off(
    app: FastAPI,
    session: AsyncSession,
    database_url: str,
    settings_for: Callable[..., Settings],
) -> None:
    sm = app.state.sessionmaker
    for _ in range(3):
        await add_event(sm, created_at=OLD - timedelta(days=3000), fanned_out_at=OLD)
    result = await prune(sm, settings_for(database_url, retention_days=0), NOW)
    assert (result.events, result.deliveries) == (0, 0)
    assert len(await event_ids(session)) == 3


async def test_two_workers_pruning_at_once_delete_each_row_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    database_url: str,
    settings_for: Callable[..., Settings],
) -> None:
    settings = settings_for(database_url, retention_batch_size=5)
    hook = await create_webhook(client, await login("admin"), "http://127.0.0.1:9/hook", ["*"])
    sm = app.state.sessionmaker
    for _ in range(30):
        await add_event(
            sm,
            created_at=OLD,
            fanned_out_at=OLD,
            webhook_id=hook["id"],
            status=DeliveryStatus.delivered,
            delivered_at=OLD,
        )
    newest = await add_event(sm, created_at=RECENT)

    results: list[Any] = []
    for _ in range(20):  # until both have nothing left to do
        results += await asyncio.gather(prune(sm, settings, NOW), prune(sm, settings, NOW))
        if all(r.finished and not r.events for r in results[-2:]):
            break

    assert sum(r.events for r in results) == 30
    assert sum(r.deliveries for r in results) == 30
    assert await event_ids(session) == {newest.event_id}
    assert await delivery_count(session) == 0


async def test_the_worker_prunes_and_the_gauges_show_what_is_left(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
) -> None:
    admin = await login("admin")
    hook = await create_webhook(client, admin, "http://127.0.0.1:9/hook", ["*"])
    sm = app.state.sessionmaker
    for _ in range(4):
        await add_event(
            sm,
            created_at=OLD,
            fanned_out_at=OLD,
            webhook_id=hook["id"],
            status=DeliveryStatus.delivered,
            delivered_at=OLD,
        )
    await add_event(
        sm, created_at=OLD, fanned_out_at=OLD, webhook_id=hook["id"], status=DeliveryStatus.parked
    )
    await add_event(sm, created_at=RECENT, fanned_out_at=RECENT)
    # Paused: the pass must not try to send the parked delivery's siblings anywhere.
    await client.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False}, headers=admin)

    before = (await client.get("/metrics")).text
    assert gauge(before, "ssp_retention_backlog", table="outbox_events") == 5
    assert gauge(before, "ssp_retention_backlog", table="webhook_deliveries") == 5
    assert gauge(before, "ssp_webhook_deliveries_parked") == 1

    async with new_http_client(settings) as http:
        result = await run_once(sm, settings, FrozenClock(NOW), app.state.calendar, http)

    assert result.failed_steps == []
    assert (result.pruned.events, result.pruned.deliveries) == (4, 4)
    after = (await client.get("/metrics")).text
    # What is left past retention: the parked delivery and its event, until someone acts.
    assert gauge(after, "ssp_retention_backlog", table="outbox_events") == 1
    assert gauge(after, "ssp_retention_backlog", table="webhook_deliveries") == 1
    for table in ("outbox_events", "webhook_deliveries"):
        pruned = "ssp_retention_pruned_total"
        assert gauge(after, pruned, table=table) - _or_zero(before, pruned, table) == 4
    assert len(await event_ids(session)) == 2


def _or_zero(text: str, name: str, table: str) -> float:
    try:
        return gauge(text, name, table=table)
    except AssertionError:
        return 0.0
