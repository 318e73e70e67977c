"""/metrics as an operator reads it: requests labelled by route, the domain counters after the
actions that move them (and not after refused or replayed ones), the gauges of what waits in
the outbox, and the worker process's own metrics."""

from __future__ import annotations

import asyncio
import json
import math
import signal
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.demo.seed import demo_id
from app.integrations.delivery import fan_out, new_http_client
from app.main import create_app
from app.models import OutboxEvent, Report, WebhookDelivery
from app.worker import run_once
from tests.conftest import LoginFn
from tests.integrations.conftest import (  # noqa: F401
    RECEIVER_HOSTS,
    Receiver,
    create_webhook,
    receiver,
)
from tests.reports.conftest import SubmitFn, photo_bytes, submit  # noqa: F401
from tests.support import command_env, free_port, start_command

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
LEAD_UNIT = demo_id("unit", "旗农牧和科技局")  # unit1, paired with 东街社区


@pytest.fixture
def settings(database_url: str, settings_for: Callable[..., Settings]) -> Settings:
    """Webhooks allowed to the test's receivers, on loopback."""
    return settings_for(database_url, webhook_allowed_hosts=RECEIVER_HOSTS)


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def increase(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """Counters belong to the process and every test adds to them: compare two scrapes."""
    return value(after, name, **labels) - value(before, name, **labels)


# --- Requests ------------------------------------------------------------------------------------


async def test_requests_are_labelled_by_the_route_they_matched(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)

    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/openapi.json")).status_code == 200
    stylesheet = await client.get("/docs/assets/swagger-ui.css")  # a mounted static file
    assert stylesheet.status_code == 200
    assert (await client.get(f"/api/v1/reports/{uuid.uuid4()}")).status_code == 401
    assert (await client.get("/no/such/page")).status_code == 404

    after = await scrape(client)
    name = "ssp_http_requests_total"
    assert increase(before, after, name, method="GET", route="/docs", status="200") == 1
    assert increase(before, after, name, method="GET", route="/openapi.json", status="200") == 1
    assets = "/docs/assets/{path}"
    assert increase(before, after, name, method="GET", route=assets, status="200") == 1
    # The API's routes carry their prefix, as clients call them.
    report_route = "/api/v1/reports/{report_id}"
    assert increase(before, after, name, method="GET", route=report_route, status="401") == 1
    assert increase(before, after, name, method="GET", route="unmatched", status="404") == 1
    assert increase(before, after, name, method="GET", route="unmatched", status="200") == 0
    assert increase(before, after, name, method="GET", route="/metrics", status="200") == 1
    latency = "ssp_http_request_duration_seconds_count"
    assert increase(before, after, latency, method="GET", route="/docs") == 1


# --- The domain counters -------------------------------------------------------------------------


async def test_reports_filed_count_by_category_and_source_and_replays_do_not_count(
    client: httpx.AsyncClient,
    submit: SubmitFn,  # noqa: F811
) -> None:
    before = await scrape(client)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await submit("courier1", headers=key)
    assert first.status_code == 201, first.text
    replayed = await submit("courier1", headers=key)
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert (await submit("grid1", category_code="chaotic_parking")).status_code == 201
    after = await scrape(client)

    filed = "ssp_reports_filed_total"
    assert increase(before, after, filed, category="chaotic_parking", source="courier") == 1
    assert increase(before, after, filed, category="chaotic_parking", source="grid_patrol") == 1


async def test_refused_photos_count_by_reason_and_file_no_report(
    client: httpx.AsyncClient,
    submit: SubmitFn,  # noqa: F811
) -> None:
    before = await scrape(client)
    corrupted = await submit("courier1", photos=[("c.jpg", photo_bytes("corrupted.jpg"))])
    not_an_image = await submit(
        "courier1",
        photos=[("a.jpg", b"%PDF-1.4 not a photo at all" * 10), ("b.jpg", b"\x00" * 500)],
    )
    after = await scrape(client)

    assert corrupted.status_code == 422, corrupted.text
    assert not_an_image.status_code == 422, not_an_image.text
    refused = "ssp_photos_refused_total"
    assert increase(before, after, refused, reason="corrupted") == 1
    assert increase(before, after, refused, reason="not_an_image") == 2
    filed = "ssp_reports_filed_total"
    assert increase(before, after, filed, category="chaotic_parking", source="courier") == 0


async def test_transitions_count_what_was_done_not_what_was_refused(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,  # noqa: F811
) -> None:
    staff, unit = await login("staff1"), await login("unit1")
    report = (await submit("grid1")).json()
    before = await scrape(client)

    accepted = await client.post(f"/api/v1/reports/{report['id']}/accept", json={}, headers=staff)
    assert accepted.status_code == 200, accepted.text
    again = await client.post(f"/api/v1/reports/{report['id']}/accept", json={}, headers=staff)
    assert again.status_code == 409
    whistled = await client.post(
        f"/api/v1/reports/{report['id']}/whistle",
        json={"unit_ids": [str(LEAD_UNIT)]},
        headers=staff,
    )
    assert whistled.status_code == 200, whistled.text
    jobs = (await client.get(f"/api/v1/jobs?report_id={report['id']}", headers=unit)).json()
    [job] = jobs["items"]
    assert (await client.post(f"/api/v1/jobs/{job['id']}/accept", headers=unit)).status_code == 200
    after = await scrape(client)

    transitions = "ssp_transitions_total"
    assert increase(before, after, transitions, machine="report", action="accept") == 1
    assert increase(before, after, transitions, machine="report", action="whistle") == 1
    assert increase(before, after, transitions, machine="job", action="accept") == 1
    assert increase(before, after, transitions, machine="report", action="reject") == 0


def _closed_port_url() -> str:
    """A loopback URL where nothing listens: every attempt fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


async def test_overdue_marks_delivery_outcomes_and_parked_deliveries(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,  # noqa: F811
    receiver: Receiver,  # noqa: F811
    database_url: str,
    settings_for: Callable[..., Settings],
) -> None:
    admin = await login("admin")
    await create_webhook(client, admin, receiver.url(), ["report.*"])
    await create_webhook(client, admin, _closed_port_url(), ["report.*"])
    report = (await submit("courier1")).json()
    async with app.state.sessionmaker() as db:  # its acceptance deadline has passed
        case = await db.get_one(Report, uuid.UUID(report["id"]))
        case.accept_due_at = datetime.now(UTC) - timedelta(hours=2)
        await db.commit()
    # Two attempts: the broken receiver's deliveries are retried once, then parked.
    worker_settings = settings_for(
        database_url, webhook_max_attempts=2, webhook_allowed_hosts=RECEIVER_HOSTS
    )
    before = await scrape(client)

    async with new_http_client(worker_settings) as http:
        first = await run_once(
            app.state.sessionmaker,
            worker_settings,
            FrozenClock(datetime.now(UTC)),
            app.state.calendar,
            http,
        )
        async with app.state.sessionmaker() as db:  # the retry is due now
            await db.execute(update(WebhookDelivery).values(next_attempt_at=datetime.now(UTC)))
            await db.commit()
        second = await run_once(
            app.state.sessionmaker,
            worker_settings,
            FrozenClock(datetime.now(UTC)),
            app.state.calendar,
            http,
        )
    after = await scrape(client)

    assert first.failed_steps == second.failed_steps == []
    events = first.fanned_out  # report.submitted and report.overdue (and its card)
    assert events >= 2
    assert increase(before, after, "ssp_overdue_marks_total", clock="report_accept") == 1
    deliveries = "ssp_webhook_deliveries_total"
    assert increase(before, after, deliveries, outcome="delivered") == events
    assert len(receiver.requests) == events
    assert increase(before, after, deliveries, outcome="retry") == events
    assert increase(before, after, deliveries, outcome="parked") == events
    assert value(after, "ssp_webhook_deliveries_parked") == events
    assert value(after, "ssp_outbox_backlog", stage="delivery") == 0


# --- The gauges of what waits --------------------------------------------------------------------


async def test_outbox_backlog_and_the_age_of_the_oldest_waiting_event(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,  # noqa: F811
) -> None:
    empty = await scrape(client)
    assert value(empty, "ssp_outbox_backlog", stage="fan_out") == 0
    assert value(empty, "ssp_outbox_oldest_undelivered_age_seconds") == 0

    admin = await login("admin")
    hook = await create_webhook(client, admin, "http://127.0.0.1:9/hook", ["report.*"])
    report = (await submit("courier1")).json()
    async with app.state.sessionmaker() as db:  # filed an hour ago
        await db.execute(
            update(OutboxEvent)
            .where(OutboxEvent.report_id == uuid.UUID(report["id"]))
            .values(created_at=datetime.now(UTC) - timedelta(hours=1))
        )
        await db.commit()
    waiting = await scrape(client)
    assert value(waiting, "ssp_outbox_backlog", stage="fan_out") == 1
    assert value(waiting, "ssp_outbox_backlog", stage="delivery") == 0
    assert 3600 <= value(waiting, "ssp_outbox_oldest_undelivered_age_seconds") < 3600 + 120

    await fan_out(app.state.sessionmaker, datetime.now(UTC))
    fanned = await scrape(client)
    assert value(fanned, "ssp_outbox_backlog", stage="fan_out") == 0
    assert value(fanned, "ssp_outbox_backlog", stage="delivery") == 1
    assert 3600 <= value(fanned, "ssp_outbox_oldest_undelivered_age_seconds") < 3600 + 120

    # A paused webhook's deliveries wait on purpose: no backlog.
    paused = await client.patch(
        f"/api/v1/webhooks/{hook['id']}", json={"active": False}, headers=admin
    )
    assert paused.status_code == 200, paused.text
    quiet = await scrape(client)
    assert value(quiet, "ssp_outbox_backlog", stage="delivery") == 0
    assert value(quiet, "ssp_outbox_oldest_undelivered_age_seconds") == 0


async def test_metrics_answer_when_the_database_cannot_be_read(
    empty_database: str, settings_for: Callable[..., Settings]
) -> None:
    app = create_app(settings_for(empty_database))  # no tables: every backlog query fails
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        await http.get("/healthz")
        samples = await scrape(http)
    await app.state.engine.dispose()
    assert value(samples, "ssp_http_requests_total", method="GET", route="/healthz", status="200")
    # Unknown, not the last value read from some other database.
    assert math.isnan(value(samples, "ssp_outbox_backlog", stage="fan_out"))
    assert math.isnan(value(samples, "ssp_webhook_deliveries_parked"))


# --- The worker process --------------------------------------------------------------------------


async def test_the_worker_process_serves_its_own_metrics(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,  # noqa: F811
    receiver: Receiver,  # noqa: F811
    settings: Settings,
    tmp_path: Path,
) -> None:
    await create_webhook(client, await login("admin"), receiver.url(), ["*"])
    assert (await submit("courier1")).status_code == 201
    port = free_port()
    env = command_env(
        settings.database_url,
        SSP_PHOTO_DIR=str(tmp_path / "photos"),
        SSP_WORKER_INTERVAL_SECONDS="0.1",
        SSP_WORKER_METRICS_PORT=str(port),
        SSP_WEBHOOK_ALLOWED_HOSTS=json.dumps(RECEIVER_HOSTS),
    )
    worker = await start_command(
        "worker", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        for _ in range(300):
            if receiver.requests:
                break
            await asyncio.sleep(0.05)
        assert receiver.requests, "the worker delivered nothing"
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(100):  # the outcome is counted once its transaction commits
                samples = parse((await http.get(f"http://127.0.0.1:{port}/metrics")).text)
                if value(samples, "ssp_webhook_deliveries_total", outcome="delivered"):
                    break
                await asyncio.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(worker.communicate(), 20)
    assert worker.returncode == 0, stderr.decode()
    assert value(samples, "ssp_webhook_deliveries_total", outcome="delivered") == 1
