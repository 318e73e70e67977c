"""Who may read the metrics: by default only this machine (loopback); with SSP_METRICS_TOKEN,
anyone with the token; SSP_METRICS_ALLOWED_IPS names other addresses or networks. The worker's
metrics port follows the same rule. Nothing else is told anything."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from app.core.config import Settings
from app.core.metrics_access import serve_worker_metrics
from tests.support import client_from, free_port

TOKEN = "scrape-6f1c2b0e9d8a7f5e4d3c2b1a"


async def scrape(
    settings: Settings, peer: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    async with client_from(settings, peer) as http:
        return await http.get("/metrics", headers=headers or {})


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "forbidden"
    assert "ssp_" not in response.text


def assert_served(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert "ssp_http_requests_total" in response.text


async def test_by_default_only_this_machine_reads_them(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(database_url)
    assert_served(await scrape(settings, "127.0.0.1"))
    assert_served(await scrape(settings, "::1"))
    assert_refused(await scrape(settings, "203.0.113.9"))
    assert_refused(await scrape(settings, "10.0.0.5"))
    # A token nobody configured opens nothing.
    assert_refused(await scrape(settings, "203.0.113.9", {"Authorization": f"Bearer {TOKEN}"}))


async def test_a_request_through_a_proxy_nobody_configured_is_not_local(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    """A reverse proxy on the same machine makes every visitor a loopback peer."""
    settings = settings_for(database_url)
    assert_refused(await scrape(settings, "127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}))
    assert_refused(await scrape(settings, "127.0.0.1", {"X-Real-IP": "203.0.113.9"}))


async def test_behind_a_configured_proxy_the_client_address_counts(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(
        database_url, forwarded_allow_ips="10.0.0.2", metrics_allowed_ips="192.168.50.0/24"
    )
    assert_served(await scrape(settings, "10.0.0.2", {"X-Forwarded-For": "192.168.50.7"}))
    # What the visitor wrote itself is to the left of what the proxy saw.
    forged = {"X-Forwarded-For": "192.168.50.7, 203.0.113.9"}
    assert_refused(await scrape(settings, "10.0.0.2", forged))


async def test_a_token_lets_a_scraper_in_from_anywhere(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(database_url, metrics_token=TOKEN)
    assert_served(await scrape(settings, "203.0.113.9", {"Authorization": f"Bearer {TOKEN}"}))
    assert_served(await scrape(settings, "127.0.0.1"))  # loopback still allowed
    assert_refused(await scrape(settings, "203.0.113.9", {"Authorization": "Bearer wrong"}))
    assert_refused(await scrape(settings, "203.0.113.9", {"Authorization": f"Basic {TOKEN}"}))
    assert_refused(await scrape(settings, "203.0.113.9"))


async def test_a_token_alone_when_no_address_is_allowed(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(database_url, metrics_token=TOKEN, metrics_allowed_ips="")
    assert_refused(await scrape(settings, "127.0.0.1"))
    assert_served(await scrape(settings, "127.0.0.1", {"Authorization": f"Bearer {TOKEN}"}))


def test_a_bad_address_in_the_settings_stops_the_start(
    settings_for: Callable[..., Settings],
) -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        settings_for("sqlite+aiosqlite://", metrics_allowed_ips="127.0.0.1, localhost")


@pytest.mark.parametrize(
    ("allowed", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("", {}, 403),
        ("", {"Authorization": f"Bearer {TOKEN}"}, 200),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, 403),
    ],
)
async def test_the_worker_port_follows_the_same_rule(
    settings_for: Callable[..., Settings], allowed: str, headers: dict[str, str], status: int
) -> None:
    port = free_port()
    settings = settings_for(
        "sqlite+aiosqlite://",
        worker_metrics_port=port,
        metrics_allowed_ips=allowed,
        metrics_token=TOKEN,
    )
    server = serve_worker_metrics(settings)
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.get(f"http://127.0.0.1:{port}/metrics", headers=headers)
    finally:
        await asyncio.to_thread(server.shutdown)
        server.server_close()
    assert response.status_code == status
    assert ("python_info" in response.text) is (status == 200)
