"""``GET /api/v1/events/stream``, read over a real HTTP connection: live transitions, who
receives what, resuming with Last-Event-ID, events from another API process, a stream that
falls behind, and events committed out of id order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.service import authenticate
from app.core.config import Settings
from app.integrations import outbox, stream
from app.main import create_app
from app.models import OutboxEvent, Report
from tests.conftest import LoginFn
from tests.integrations.conftest import (
    BANNER,
    NORTH_STREET,
    TOUDAOQIAO_TOWN,
    community_point,
    dashboard_key,
    dispatch_directly,
    outbox_ids,
)
from tests.reports.conftest import COMMUNITY_1_POINT, SubmitFn, photo_bytes


async def test_a_dashboard_receives_a_transition_made_in_another_request(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    open_stream: Callable[..., Any],
) -> None:
    dashboard = await dashboard_key(client, await login("admin"), BANNER)
    board = await open_stream(dashboard)

    report = (await submit("courier1")).json()
    submitted = await board.next()
    [submitted_id] = await outbox_ids(session, "report.submitted")
    assert (submitted.id, submitted.event) == (submitted_id, "report.submitted")
    assert submitted.data["id"] == submitted_id
    assert submitted.data["report"]["id"] == report["id"]
    assert submitted.data["report"]["number"] == report["number"]

    accepted = await client.post(
        f"/api/v1/reports/{report['id']}/accept", json={}, headers=await login("staff1")
    )
    assert accepted.status_code == 200, accepted.text
    event = await board.next()
    [*_, newest] = await outbox_ids(session)
    accepted_row = await session.get_one(OutboxEvent, newest)
    assert (event.id, event.event) == (newest, accepted_row.type)
    assert event.event in ("report.accept", "report.accepted")  # the workflow names the type
    assert event.data["report"]["status"] == "accepted"
    assert event.data["report"]["version"] == accepted.json()["version"]


async def test_each_stream_gets_only_the_events_its_caller_may_see(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    open_stream: Callable[..., Any],
) -> None:
    admin = await login("admin")
    streams = {
        name: await open_stream(await login(name))
        for name in ("admin", "supervisor", "staff1", "grid1", "staff2", "unit1", "courier1")
    }
    streams["resident1"] = await open_stream(await login("resident1"))
    streams["other_town_board"] = await open_stream(
        await dashboard_key(client, admin, TOUDAOQIAO_TOWN)
    )

    east = (await submit("courier1")).json()  # 东街社区
    lat, lng = await community_point(session, NORTH_STREET)
    north = (await submit("resident1", lat=lat, lng=lng)).json()  # 北街社区
    await dispatch_directly(app, east["id"])  # unit1 is called to the 东街 case
    east_submitted, north_submitted, dispatched = await outbox_ids(session)

    expected = {
        "admin": [east_submitted, north_submitted, dispatched],
        "supervisor": [east_submitted, north_submitted, dispatched],
        "staff1": [east_submitted, dispatched],
        "grid1": [east_submitted, dispatched],
        "courier1": [east_submitted, dispatched],  # the reporter
        "staff2": [north_submitted],
        "resident1": [north_submitted],
        "unit1": [dispatched],  # only once its unit is on the case
        "other_town_board": [],
    }
    for name, ids in expected.items():
        got = [(await streams[name].next()).id for _ in ids]
        assert got == ids, name
    await asyncio.sleep(0.3)  # six poll intervals: nothing else is on its way
    assert {name: s.pending() for name, s in streams.items()} == {name: [] for name in streams}
    assert north["community"]["id"] == str(NORTH_STREET)


async def test_open_streams_hold_no_database_connection(
    login: LoginFn, submit: SubmitFn, session: AsyncSession, open_stream: Callable[..., Any]
) -> None:
    """More streams than the connection pool has connections (5 + 10 on SQLite, 10 + 10 on
    PostgreSQL): a stream releases its request's session before it starts, and the broker
    reads for all of them at once."""
    supervisor = await login("supervisor")
    streams = [await open_stream(supervisor) for _ in range(25)]
    await submit("courier1")
    [event_id] = await outbox_ids(session)
    for s in streams:
        assert (await s.next()).id == event_id


async def test_a_stream_resumes_after_the_last_event_id(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    open_stream: Callable[..., Any],
) -> None:
    supervisor = await login("supervisor")
    for username in ("courier1", "courier2", "resident1"):
        assert (await submit(username)).status_code == 201
    first, second, third = await outbox_ids(session)

    resumed = await open_stream(supervisor, last_event_id=first)
    assert [(await resumed.next()).id for _ in range(2)] == [second, third]
    by_query = await open_stream(supervisor, query=f"?last_event_id={second}")
    assert (await by_query.next()).id == third
    from_now = await open_stream(supervisor)

    await submit("courier1")
    [*_, fourth] = await outbox_ids(session)
    for s in (resumed, by_query, from_now):  # then live, each event once
        assert (await s.next()).id == fourth
    await asyncio.sleep(0.2)
    assert resumed.pending() == by_query.pending() == from_now.pending() == []


async def test_events_made_through_another_api_process_arrive(
    settings: Settings, login: LoginFn, session: AsyncSession, open_stream: Callable[..., Any]
) -> None:
    board = await open_stream(await login("supervisor"))
    # Another API process: its own app, engine and broker, on the same database.
    other = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://other") as http:
            token = await http.post(
                "/api/v1/auth/token", data={"username": "courier2", "password": "suishoupai-demo"}
            )
            lat, lng = COMMUNITY_1_POINT
            created = await http.post(
                "/api/v1/reports",
                data={
                    "category_code": "chaotic_parking",
                    "description": "巷口又被堵了",
                    "lat": str(lat),
                    "lng": str(lng),
                },
                files=[("photos", ("a.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"))],
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
            assert created.status_code == 201, created.text
    finally:
        await other.state.engine.dispose()
    event = await board.next()
    assert event.event == "report.submitted"
    assert event.data["report"]["id"] == created.json()["id"]
    assert [event.id] == await outbox_ids(session)


async def test_a_stream_that_falls_behind_is_ended_and_resumes_without_loss(
    app: FastAPI,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    open_stream: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stream, "SUBSCRIBER_BUFFER", 2)
    admin = await login("admin")
    slow = await open_stream(admin)
    report = (await submit("courier1")).json()
    assert (await slow.next()).event == "report.submitted"

    # Five events in one commit reach the broker in one read: more than the stream may queue.
    async with app.state.sessionmaker() as db:
        row = await db.get_one(Report, uuid.UUID(report["id"]))
        for n in range(5):
            await outbox.record(db, "report.commented", row, now=datetime.now(UTC), data={"n": n})
        await db.commit()
    *_, e1, e2, e3, e4, e5 = await outbox_ids(session)

    await asyncio.wait_for(slow.ended.wait(), 5)
    assert [e.id for e in slow.pending()] == [e1, e2]
    assert slow.retry[-1] == 1000  # reconnect soon

    resumed = await open_stream(admin, last_event_id=e2)
    assert [(await resumed.next()).id for _ in range(3)] == [e3, e4, e5]


async def test_an_event_committed_out_of_id_order_still_arrives(
    app: FastAPI,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    open_stream: Callable[..., Any],
) -> None:
    """PostgreSQL hands out ids at insert time: a transaction holding id 11 may commit before
    the one holding id 10. Written here with explicit ids, which both databases accept."""
    board = await open_stream(await login("admin"))
    await submit("courier1")
    [newest] = await outbox_ids(session)
    assert (await board.next()).id == newest
    template = await session.scalar(select(OutboxEvent).where(OutboxEvent.id == newest))
    assert template is not None

    def copy(event_id: int) -> OutboxEvent:
        fields: dict[str, Any] = {
            c: getattr(template, c)
            for c in ("report_id", "community_id", "region_path", "unit_ids", "reporter_id")
        }
        payload = {**template.payload, "type": "report.commented"}
        return OutboxEvent(id=event_id, type="report.commented", payload=payload, **fields)

    async with app.state.sessionmaker() as db:
        db.add(copy(newest + 2))
        await db.commit()
    assert (await board.next()).id == newest + 2  # the broker is past the hole at newest + 1
    async with app.state.sessionmaker() as db:
        db.add(copy(newest + 1))
        await db.commit()
    late = await board.next()
    assert (late.id, late.event) == (newest + 1, "report.commented")


async def test_a_stream_needs_a_caller_and_a_valid_position(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    anonymous = await client.get("/api/v1/events/stream")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    headers = await login("staff1")
    for bad in ("abc", "-1"):
        response = await client.get(
            "/api/v1/events/stream", headers={**headers, "Last-Event-ID": bad}
        )
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["loc"] == ["header", "Last-Event-ID"]
    negative = await client.get("/api/v1/events/stream?last_event_id=-5", headers=headers)
    assert negative.status_code == 422


async def test_on_postgresql_notify_wakes_the_broker_between_polls(
    app: FastAPI, settings: Settings, login: LoginFn, submit: SubmitFn, session: AsyncSession
) -> None:
    if settings.is_sqlite:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite the broker polls")
    # A broker that would poll only every 30 s: the event can only come that fast by NOTIFY.
    broker = stream.EventBroker(app.state.engine, app.state.sessionmaker, settings, poll_seconds=30)
    admin = await login("admin")
    try:
        principal = await _principal(app, admin)
        subscription = await broker.subscribe(principal, None)
        await asyncio.sleep(0.5)  # the first poll is done and LISTEN is in place
        await submit("courier1")
        [event] = await subscription.next_events(5)
        assert [event.id] == await outbox_ids(session)
    finally:
        await broker.close()


async def _principal(app: FastAPI, headers: dict[str, str]) -> Principal:
    token = headers["Authorization"].removeprefix("Bearer ")
    async with app.state.sessionmaker() as db:
        return await authenticate(db, app.state.settings, token, datetime.now(UTC))


async def test_a_case_escalated_above_a_township_still_reaches_its_supervisors(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    open_stream: Callable[..., Any],
) -> None:
    township = await login("supervisor2")  # 陕坝镇, where 东街社区 is
    stream = await open_stream(township)
    report_id = (await submit("courier1")).json()["id"]
    url = f"/api/v1/reports/{report_id}"
    for action, headers in (("accept", await login("staff1")), ("escalate", township)):
        body = {"reason": "需要旗级协调"} if action == "escalate" else {}
        response = await client.post(f"{url}/{action}", json=body, headers=headers)
        assert response.status_code == 200, response.text
    held = await client.post(
        f"{url}/hold", json={"reason": "冬季停工"}, headers=await login("supervisor")
    )
    assert held.status_code == 200, held.text  # owned by the banner now
    [*_, last] = await outbox_ids(session)
    events = await stream.collect_until(lambda event: event.id == last)
    assert [e.event for e in events] == [
        "report.submitted",
        "report.accept",
        "report.escalate",
        "report.hold",
    ]
