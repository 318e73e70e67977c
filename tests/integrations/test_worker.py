"""The worker: one pass does the overdue sweep, the fan-out and the deliveries; the API runs
the loop itself in the embedded default; ``python -m app worker`` runs it until SIGTERM."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar.cache import CalendarCache
from app.core.clock import Clock, FrozenClock
from app.core.config import Settings
from app.core.database_faults import watch_for_unavailability
from app.core.db import create_engine, create_sessionmaker
from app.integrations.delivery import new_http_client
from app.main import create_app
from app.models import OutboxEvent, Report
from app.worker import run_once
from tests.conftest import LoginFn
from tests.integrations.conftest import RECEIVER_HOSTS, Receiver, create_webhook
from tests.reports.conftest import COMMUNITY_1_POINT, SubmitFn, photo_bytes
from tests.support import command_env, start_command


async def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_one_pass_sweeps_fans_out_and_delivers(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    receiver: Receiver,
    settings: Settings,
) -> None:
    admin = await login("admin")
    hook = await create_webhook(client, admin, receiver.url(), ["report.*"])
    report = (await submit("courier1")).json()
    async with app.state.sessionmaker() as db:  # the acceptance deadline has passed
        case = await db.get_one(Report, uuid.UUID(report["id"]))
        case.accept_due_at = datetime.now(UTC) - timedelta(hours=2)
        await db.commit()

    async with new_http_client(settings) as http:
        result = await run_once(
            app.state.sessionmaker,
            settings,
            FrozenClock(datetime.now(UTC)),
            app.state.calendar,
            http,
        )

    assert result.failed_steps == []
    assert result.overdue == 1
    overdue_events = await session.scalar(
        select(func.count()).where(OutboxEvent.type == "report.overdue")
    )
    assert overdue_events == 1
    # The sweep's events leave in the same pass as the submission.
    assert result.fanned_out >= 2
    assert result.deliveries.delivered == result.fanned_out
    received = {r.json["type"] for r in receiver.verified(hook["secret"])}  # sent concurrently
    assert len(receiver.requests) == result.fanned_out
    assert {"report.submitted", "report.overdue"} <= received


async def test_the_embedded_worker_runs_inside_the_api_process(
    database_url: str, settings_for: Callable[..., Settings], receiver: Receiver
) -> None:
    settings = settings_for(
        database_url,
        embedded_worker=True,
        worker_interval_seconds=0.05,
        webhook_allowed_hosts=RECEIVER_HOSTS,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            headers = {}
            for username in ("admin", "courier1"):
                token = await http.post(
                    "/api/v1/auth/token",
                    data={"username": username, "password": settings.demo_password},
                )
                headers[username] = {"Authorization": f"Bearer {token.json()['access_token']}"}
            hook = await create_webhook(http, headers["admin"], receiver.url(), ["*"])
            lat, lng = COMMUNITY_1_POINT
            created = await http.post(
                "/api/v1/reports",
                data={
                    "category_code": "chaotic_parking",
                    "description": "占道",
                    "lat": lat,
                    "lng": lng,
                },
                files=[("photos", ("a.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"))],
                headers=headers["courier1"],
            )
            assert created.status_code == 201, created.text
            await _wait_for(lambda: bool(receiver.requests), 10)
    # The lifespan has ended: the worker stopped with the app.
    [request] = receiver.verified(hook["secret"])
    assert request.json["report"]["id"] == created.json()["id"]
    assert not any(t.get_name() == "embedded-worker" and not t.done() for t in asyncio.all_tasks())


async def test_the_worker_command_delivers_and_stops_on_sigterm(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    settings: Settings,
    tmp_path: Path,
) -> None:
    hook = await create_webhook(client, await login("admin"), receiver.url(), ["*"])
    await submit("courier1")
    env = command_env(
        settings.database_url,
        SSP_PHOTO_DIR=str(tmp_path / "photos"),
        SSP_WORKER_INTERVAL_SECONDS="0.1",
        SSP_WEBHOOK_ALLOWED_HOSTS=json.dumps(RECEIVER_HOSTS),
    )
    worker = await start_command("worker", env=env)
    try:
        await _wait_for(lambda: bool(receiver.requests) or worker.returncode is not None, 30)
        assert worker.stdout is not None
        assert worker.returncode is None, await worker.stdout.read()
        worker.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(worker.communicate(), 15)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    assert worker.returncode == 0, output.decode()
    assert b"worker stopped" in output
    [request] = receiver.verified(hook["secret"])
    assert request.json["type"] == "report.submitted"


async def test_a_database_outage_is_one_warning_not_a_stack_trace_per_step(
    settings_for: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """The worker as `python -m app worker` sets it up, with its database unreachable: each
    pass fails every step and tries again; the log says why once, without stack traces."""
    settings = settings_for("postgresql+asyncpg://suishoupai@127.0.0.1:1/suishoupai")
    engine = create_engine(settings)
    watch_for_unavailability(engine)
    sessionmaker = create_sessionmaker(engine)
    calendar = CalendarCache(sessionmaker, refresh_seconds=settings.calendar_refresh_seconds)
    try:
        async with new_http_client(settings) as http:
            with caplog.at_level(logging.INFO):
                passes = [
                    await run_once(sessionmaker, settings, Clock(), calendar, http)
                    for _ in range(3)
                ]
    finally:
        await engine.dispose()
    for result in passes:
        assert result.failed_steps == [
            "overdue_sweep",
            "fan_out",
            "deliver",
            "prune",
            "prune_personal_data",
            "expire_uploads",
            "partitions",
        ]
    assert [r for r in caplog.records if r.exc_info] == []
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "database unavailable" in warning.getMessage()
