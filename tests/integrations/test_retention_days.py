"""The outbox and the webhook deliveries in day partitions (PostgreSQL): made ahead, a
delivery in its event's day, and a day past retention dropped whole unless something in it must
stay (a parked delivery, an event not fanned out), which the row-by-row pass then keeps."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.day_partitions import DAYS_AHEAD, Day, attached_days, make_day, make_days_ahead
from app.integrations.delivery import fan_out
from app.integrations.retention import prune
from app.models.enums import DeliveryStatus
from tests.conftest import PG_URL, LoginFn
from tests.integrations.conftest import create_webhook
from tests.integrations.test_retention import NOW, add_event, event_ids

pytestmark = pytest.mark.skipif(not PG_URL, reason="partitions are PostgreSQL's")

# Three days past the 30 days of retention, each with its own partitions.
GONE, PARKED, UNFANNED = (NOW - timedelta(days=days) for days in (45, 44, 43))


async def _exists(session: AsyncSession, name: str) -> bool:
    return await session.scalar(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}) is True


async def _home(session: AsyncSession, table: str, row_id: object) -> str:
    found: str = await session.scalar(
        text(f"SELECT tableoid::regclass::text FROM {table} WHERE id = :i"), {"i": row_id}
    )
    return found


async def test_today_and_the_week_ahead_have_partitions(session: AsyncSession) -> None:
    days = await attached_days(session)
    today = Day.of(NOW)
    assert {today.plus(i) for i in range(DAYS_AHEAD + 1)} <= set(days)
    assert await _exists(session, "outbox_events_default")
    later = NOW + timedelta(days=30)
    made = await make_days_ahead(session, later, 2)
    assert made == [
        Day.of(later).plus(i).table(table)
        for i in range(3)
        for table in ("outbox_events", "webhook_deliveries")
    ]
    await session.commit()
    assert await make_days_ahead(session, later, 2) == []


async def test_a_delivery_lives_in_its_events_day(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    hook = await create_webhook(client, await login("admin"), "http://127.0.0.1:9/hook", ["*"])
    await make_day(session, Day.of(GONE))
    await session.commit()
    event = await add_event(app.state.sessionmaker, created_at=GONE)
    assert await fan_out(app.state.sessionmaker, NOW) >= 1
    delivery_day = await session.scalar(
        text("SELECT tableoid::regclass::text FROM webhook_deliveries WHERE event_id = :e"),
        {"e": event.event_id},
    )
    assert delivery_day == Day.of(GONE).table("webhook_deliveries")
    assert await _home(session, "outbox_events", event.event_id) == Day.of(GONE).table(
        "outbox_events"
    )
    assert hook["id"]


async def test_a_day_past_retention_goes_whole_unless_something_in_it_must_stay(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
) -> None:
    hook = await create_webhook(client, await login("admin"), "http://127.0.0.1:9/hook", ["*"])
    for moment in (GONE, PARKED, UNFANNED):
        await make_day(session, Day.of(moment))
    await session.commit()
    sm = app.state.sessionmaker
    delivered = await add_event(
        sm,
        created_at=GONE,
        fanned_out_at=GONE,
        webhook_id=hook["id"],
        status=DeliveryStatus.delivered,
        delivered_at=GONE,
    )
    parked = await add_event(
        sm,
        created_at=PARKED,
        fanned_out_at=PARKED,
        webhook_id=hook["id"],
        status=DeliveryStatus.parked,
    )
    unfanned = await add_event(sm, created_at=UNFANNED)
    newest = await add_event(sm, created_at=NOW, fanned_out_at=NOW)

    result = await prune(sm, settings, NOW)

    assert result.days_dropped == 1
    assert not await _exists(session, Day.of(GONE).table("outbox_events"))
    assert not await _exists(session, Day.of(GONE).table("webhook_deliveries"))
    kept = await event_ids(session)
    assert delivered.event_id not in kept
    assert {parked.event_id, unfanned.event_id, newest.event_id} <= kept
    assert await _exists(session, Day.of(PARKED).table("outbox_events"))
    assert (result.events, result.deliveries) == (1, 1)
