"""The per-address login lockout counts the real client: X-Forwarded-For is believed only from a
proxy of SSP_FORWARDED_ALLOW_IPS, read from the right. Without the setting a forged header
neither locks someone else out nor lets the sender escape its own lock; with it, two people
behind the same proxy are counted apart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.proxies import ForwardedHeadersMiddleware, client_behind_proxies
from tests.conftest import DEMO_PASSWORD
from tests.support import client_from, command_env, free_port, start_command

ADDRESS_LIMIT = 20  # SSP_LOGIN_MAX_FAILURES_PER_ADDRESS


async def fail_logins(
    http: httpx.AsyncClient, count: int, forwarded_for: Callable[[int], str]
) -> None:
    """``count`` failed logins, each for another account (the account lock stays out of it)."""
    for index in range(count):
        response = await http.post(
            "/api/v1/auth/token",
            data={"username": f"nobody{index}", "password": "wrong"},
            headers={"X-Forwarded-For": forwarded_for(index)},
        )
        assert response.status_code == 401, response.text


async def sign_in(http: httpx.AsyncClient, forwarded_for: str) -> httpx.Response:
    return await http.post(
        "/api/v1/auth/token",
        data={"username": "staff1", "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": forwarded_for},
    )


async def test_without_trusted_proxies_forged_headers_change_nothing(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    async with client_from(settings_for(database_url), "203.0.113.50") as http:
        await fail_logins(http, ADDRESS_LIMIT, lambda i: f"198.51.100.{i}")
        escaped = await sign_in(http, "192.0.2.77")
        assert escaped.status_code == 429
        assert escaped.json()["code"] == "rate_limited"
    # Someone else, who claims to be the peer that is locked, is not.
    async with client_from(settings_for(database_url), "203.0.113.51") as other:
        assert (await sign_in(other, "203.0.113.50")).status_code == 200


async def test_behind_a_trusted_proxy_clients_are_counted_apart(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(
        database_url,
        forwarded_allow_ips="10.0.0.0/24, 10.9.9.9",
        login_max_failures_per_address=5,  # the rule, not the count, is under test here
    )
    async with client_from(settings, "10.0.0.2") as http:
        # The client wrote an address of its own on the left: only the right-most untrusted
        # address counts (the one the proxy saw), so it stays the same client.
        await fail_logins(http, 5, lambda i: f"192.0.2.{i}, 198.51.100.7")
        locked = await sign_in(http, "198.51.100.7")
        assert locked.status_code == 429
        # Through a second proxy of ours: still the same client.
        assert (await sign_in(http, "198.51.100.7, 10.9.9.9")).status_code == 429
        # Another person behind the same proxy signs in.
        other = await sign_in(http, "198.51.100.8")
        assert other.status_code == 200, other.text


def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy() -> None:
    trusted = [ip_network("10.0.0.0/8")]
    assert client_behind_proxies("10.0.0.2", ["198.51.100.7"], trusted) == "198.51.100.7"
    assert client_behind_proxies("10.0.0.2", ["1.2.3.4", " 198.51.100.7"], trusted) == (
        "198.51.100.7"
    )
    assert client_behind_proxies("10.0.0.2", ["198.51.100.7", "10.1.1.1"], trusted) == (
        "198.51.100.7"
    )
    # Ports and IPv6 as proxies write them.
    assert client_behind_proxies("10.0.0.2", ["[2001:db8::7]:443"], trusted) == "2001:db8::7"
    assert client_behind_proxies("10.0.0.2", ["198.51.100.7:5123"], trusted) == "198.51.100.7"
    # Only proxies of ours: the left-most of them.
    assert client_behind_proxies("10.0.0.2", ["10.3.3.3", "10.1.1.1"], trusted) == "10.3.3.3"
    # Not an address: the hop that reported it is as far as we can tell.
    assert client_behind_proxies("10.0.0.2", ["evil", "10.1.1.1"], trusted) == "10.1.1.1"
    assert client_behind_proxies("10.0.0.2", ["x" * 300], trusted) == "10.0.0.2"


@pytest.mark.parametrize(("peer", "scheme"), [("10.0.0.2", "https"), ("192.0.2.1", "http")])
async def test_the_scheme_is_a_trusted_proxys_word_only(peer: str, scheme: str) -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.update(scheme=scope["scheme"], client=scope["client"])

    async def receive() -> Message:
        raise AssertionError("the middleware reads no body")

    async def send(message: Message) -> None:
        raise AssertionError("the middleware sends nothing")

    middleware = ForwardedHeadersMiddleware(app, trusted=[ip_network("10.0.0.0/8")])
    scope: Scope = {
        "type": "http",
        "scheme": "http",
        "client": (peer, 1234),
        "headers": [(b"x-forwarded-proto", b"https"), (b"x-forwarded-for", b"198.51.100.7")],
    }
    await middleware(scope, receive, send)
    assert seen["scheme"] == scheme
    assert seen["client"][0] == ("198.51.100.7" if scheme == "https" else peer)


# --- The server as `python -m app serve` runs it --------------------------------------------


async def test_the_served_app_does_not_believe_headers_from_a_local_peer(
    database_url: str, tmp_path: Path
) -> None:
    """uvicorn's own proxy handling would take X-Forwarded-For from any loopback peer: a local
    process (or a proxy nobody configured) could then pass for any client."""
    port = free_port()
    env = command_env(
        database_url,
        SSP_PHOTO_DIR=str(tmp_path / "photos"),
        SSP_EMBEDDED_WORKER="false",
        SSP_LOGIN_MAX_FAILURES_PER_ADDRESS="3",  # the rule, not the count, is under test
    )
    server = await start_command(
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(200):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            await fail_logins(http, 3, lambda i: f"198.51.100.{i}")
            escaped = await sign_in(http, "192.0.2.77")
            assert escaped.status_code == 429, escaped.text
    finally:
        server.terminate()
        await asyncio.wait_for(server.communicate(), 20)
