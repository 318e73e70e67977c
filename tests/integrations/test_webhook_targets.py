"""Where webhooks may go: public internet addresses only, refused at registration and again at
every delivery on the addresses connected to; what the administrator may allow; and a delivery
log that tells the registrant what kind of failure happened and nothing of what answered."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import ssl
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import (
    PASSWORD_HASH_FLOOR_MEMORY_KIB,
    PASSWORD_HASH_FLOOR_TIME_COST,
    Settings,
)
from app.integrations.delivery import DeliveryCounts, deliver_due, fan_out, new_http_client
from app.integrations.targets import IPAddress, Resolver, system_resolver
from app.main import create_app
from app.models import Webhook, WebhookDelivery
from app.models.enums import DeliveryStatus
from tests.conftest import DEMO_PASSWORD, LoginFn
from tests.integrations.conftest import (
    RECEIVER_HOSTS,
    Receiver,
    create_webhook,
    deliveries,
    serve_receiver,
)
from tests.reports.conftest import SubmitFn

PUBLIC_IPV4 = "93.184.216.34"


@pytest.fixture
def settings(database_url: str, settings_for: Callable[..., Settings]) -> Settings:
    """No host allowed, as by default (in production and in the demo alike)."""
    return settings_for(
        database_url,
        webhook_allowed_hosts=[],
        webhook_max_attempts=3,
        webhook_timeout_seconds=2.0,
    )


@contextlib.asynccontextmanager
async def api(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """A client of an app with these settings, and the admin's Authorization header."""
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            token = await http.post(
                "/api/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORD}
            )
            assert token.status_code == 200, token.text
            yield http, {"Authorization": f"Bearer {token.json()['access_token']}"}
    finally:
        await application.state.engine.dispose()


def refused(response: httpx.Response) -> str:
    """The message of a 422 ``webhook_target_not_allowed`` naming ``url``."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "webhook_target_not_allowed"
    [error] = problem["errors"]
    assert error["loc"] == ["body", "url"]
    message: str = error["msg"]
    return message


# --- Registration --------------------------------------------------------------------------------

HOSTILE_URLS = [
    # Loopback, written every way a resolver reads it.
    "http://127.0.0.1/hook",
    "http://127.0.0.1:8000/hook",
    "http://127.1/",
    "http://127.255.255.254/",
    "http://2130706433/",
    "http://017700000001/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://0x7f.0x0.0x0.0x1/",
    "http://１２７.０.０.１/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[2002:7f00:1::1]/",
    # This host, by name.
    "http://localhost/",
    "http://localhost./",
    "http://LOCALHOST:8000/",
    "http://api.localhost/",
    # "This network" and unspecified.
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    # Link-local and the cloud metadata service.
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    # Private, shared (CGNAT), unique-local, site-local.
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fec0::1]/",
    # Multicast, broadcast, reserved, benchmarking, documentation, Teredo.
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://198.18.0.1/",
    "http://192.0.2.10/",
    "https://203.0.113.5/",
    "http://[2001:db8::1]/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    # A name that resolves to loopback where DNS answers, and does not resolve where none does.
    "http://127.0.0.1.nip.io/",
    # A name that does not resolve at all.
    "https://no-such-host.invalid/hook",
    # Credentials in the URL, even for a public address.
    f"http://user:secret@{PUBLIC_IPV4}/hook",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
async def test_registration_refuses_targets_that_are_not_public(
    client: httpx.AsyncClient, login: LoginFn, url: str
) -> None:
    admin = await login("admin")

    response = await client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["*"]}, headers=admin
    )

    refused(response)
    listed = await client.get("/api/v1/webhooks", headers=admin)
    assert listed.json()["items"] == []


async def test_unit_staff_are_refused_like_admins(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    unit1 = await login("unit1")
    response = await client.post(
        "/api/v1/webhooks",
        json={"url": "http://169.254.169.254/latest/meta-data/", "events": ["job.*"]},
        headers=unit1,
    )
    assert "public" in refused(response)


async def test_the_answer_does_not_tell_an_internal_name_from_a_missing_one(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    """Registering webhooks must not become a way to probe which internal names exist or
    where they point."""
    admin = await login("admin")
    answers = [
        refused(
            await client.post("/api/v1/webhooks", json={"url": url, "events": ["*"]}, headers=admin)
        )
        for url in ("http://localhost:5432/", "http://no-such-host.invalid/")
    ]
    assert answers[0] == answers[1]
    assert "127.0.0.1" not in answers[0]


async def test_public_targets_are_accepted_and_a_change_of_url_is_checked(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    for url in (
        f"http://{PUBLIC_IPV4}/hook",
        "https://[2606:4700:4700::1111]/hook",
        # What a DNS64 resolver answers for a public IPv4-only host on an IPv6-only network.
        "https://[64:ff9b::5db8:d822]/hook",
    ):
        await create_webhook(client, admin, url)
    hook = await create_webhook(client, admin, f"https://{PUBLIC_IPV4}/hook")
    path = f"/api/v1/webhooks/{hook['id']}"

    moved = await client.patch(
        path, json={"url": "http://[::ffff:169.254.169.254]/"}, headers=admin
    )

    refused(moved)
    assert (await client.get(path, headers=admin)).json()["url"] == f"https://{PUBLIC_IPV4}/hook"
    paused = await client.patch(path, json={"active": False}, headers=admin)
    assert paused.status_code == 200, paused.text


async def test_production_requires_https(
    database_url: str, settings_for: Callable[..., Settings]
) -> None:
    production = settings_for(
        database_url,
        env="production",
        secret_key="s" * 48,
        # the least production accepts (the tests' own cost is refused there)
        password_hash_time_cost=PASSWORD_HASH_FLOOR_TIME_COST,
        password_hash_memory_kib=PASSWORD_HASH_FLOOR_MEMORY_KIB,
    )
    async with api(production) as (http, admin):
        plain = await http.post(
            "/api/v1/webhooks",
            json={"url": f"http://{PUBLIC_IPV4}/hook", "events": ["*"]},
            headers=admin,
        )
        assert refused(plain) == "must use https"
        secure = await http.post(
            "/api/v1/webhooks",
            json={"url": f"https://{PUBLIC_IPV4}/hook", "events": ["*"]},
            headers=admin,
        )
        assert secure.status_code == 201, secure.text


async def test_an_administrator_may_allow_listed_internal_hosts(
    database_url: str, settings_for: Callable[..., Settings], receiver: Receiver
) -> None:
    allowing = settings_for(database_url, webhook_allowed_hosts=["10.0.0.0/8", "localhost"])
    async with api(allowing) as (http, admin):
        for url in (
            "http://10.1.2.3/hook",
            "http://[::ffff:10.1.2.3]/hook",
            f"http://localhost:{receiver.port}/hook",
        ):
            allowed = await http.post(
                "/api/v1/webhooks", json={"url": url, "events": ["*"]}, headers=admin
            )
            assert allowed.status_code == 201, (url, allowed.text)
        for url in ("http://192.168.1.1/hook", "http://127.0.0.1/hook", "http://11.0.0.1.invalid/"):
            refused(
                await http.post(
                    "/api/v1/webhooks", json={"url": url, "events": ["*"]}, headers=admin
                )
            )


def test_the_allowed_hosts_setting_is_read_from_the_environment_and_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "SSP_WEBHOOK_ALLOWED_HOSTS", '["Hooks.Corp.Example.", "*.ops.example", "10.20.0.0/16"]'
    )
    assert Settings(env="test").webhook_allowed_hosts == [
        "hooks.corp.example",
        "*.ops.example",
        "10.20.0.0/16",
    ]
    for entry in ("http://hooks.corp.example/", "10.0.0.0/33", "*", "a host"):
        monkeypatch.setenv("SSP_WEBHOOK_ALLOWED_HOSTS", json.dumps([entry]))
        with pytest.raises(ValidationError, match="webhook_allowed_hosts"):
            Settings(env="test")


def test_no_host_is_allowed_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSP_WEBHOOK_ALLOWED_HOSTS", raising=False)
    for env in ("production", "demo", "dev", "test"):
        configured = Settings(env=env, secret_key="s" * 48, _env_file=None)
        assert configured.webhook_allowed_hosts == []


# --- Delivery ------------------------------------------------------------------------------------


async def webhook_row(app: FastAPI, url: str) -> str:
    """A webhook written straight to the database, as one registered before the rules, or
    under other settings, would be."""
    async with app.state.sessionmaker() as db:
        hook = Webhook(
            id=uuid.uuid4(),
            url=url,
            secret="whsec_" + uuid.uuid4().hex,
            events=["report.submitted"],
            is_active=True,
            created_at=datetime.now(UTC),
        )
        db.add(hook)
        await db.commit()
    return str(hook.id)


async def deliver(
    app: FastAPI, settings: Settings, resolver: Resolver = system_resolver
) -> DeliveryCounts:
    """One worker pass over webhooks, with these settings (and this resolver)."""
    clock = FrozenClock(datetime.now(UTC))
    await fan_out(app.state.sessionmaker, clock.now())
    async with new_http_client(settings, resolver) as http:
        return await deliver_due(app.state.sessionmaker, settings, clock, http)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://0x7f.1:{port}/hook",
        "http://2130706433:{port}/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://localhost:{port}/hook",
        "http://localhost.:{port}/hook",
        "http://0.0.0.0:{port}/hook",
    ],
)
async def test_delivery_checks_the_target_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    settings: Settings,
    url: str,
) -> None:
    hook_id = await webhook_row(app, url.format(port=receiver.port))
    await submit("courier1")

    assert await deliver(app, settings) == DeliveryCounts(retrying=1)

    assert receiver.requests == []
    [entry] = await deliveries(client, await login("admin"), hook_id)
    assert (entry["status"], entry["last_status_code"], entry["last_error"]) == (
        "pending",
        None,
        "target_not_allowed",
    )


async def test_a_target_the_administrator_allows_later_is_delivered_on_the_retry(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    settings: Settings,
) -> None:
    hook_id = await webhook_row(app, receiver.url())
    await submit("courier1")
    assert await deliver(app, settings) == DeliveryCounts(retrying=1)
    assert receiver.requests == []
    async with app.state.sessionmaker() as db:  # the retry is due
        delivery = await db.get_one(WebhookDelivery, uuid.UUID(await _only_delivery_id(db)))
        delivery.next_attempt_at = datetime.now(UTC)
        await db.commit()

    allowing = settings.model_copy(update={"webhook_allowed_hosts": RECEIVER_HOSTS})
    assert await deliver(app, allowing) == DeliveryCounts(delivered=1)

    assert len(receiver.requests) == 1
    [entry] = await deliveries(client, await login("admin"), hook_id)
    assert (entry["status"], entry["attempts"], entry["last_error"]) == ("delivered", 2, None)


async def _only_delivery_id(db: AsyncSession) -> str:
    [delivery_id] = (await db.scalars(select(WebhookDelivery.id))).all()
    return str(delivery_id)


async def test_credentials_in_the_url_are_refused_at_delivery_even_for_an_allowed_host(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    settings: Settings,
) -> None:
    hook_id = await webhook_row(app, f"http://user:secret@127.0.0.1:{receiver.port}/hook")
    await submit("courier1")
    allowing = settings.model_copy(update={"webhook_allowed_hosts": RECEIVER_HOSTS})

    assert await deliver(app, allowing) == DeliveryCounts(retrying=1)

    assert receiver.requests == []
    [entry] = await deliveries(client, await login("admin"), hook_id)
    assert entry["last_error"] == "target_not_allowed"


async def test_plain_http_is_refused_at_delivery_in_production(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    settings: Settings,
) -> None:
    hook_id = await webhook_row(app, receiver.url())
    await submit("courier1")
    production = settings.model_copy(
        update={"env": "production", "webhook_allowed_hosts": RECEIVER_HOSTS}
    )

    assert await deliver(app, production) == DeliveryCounts(retrying=1)

    assert receiver.requests == []
    [entry] = await deliveries(client, await login("admin"), hook_id)
    assert entry["last_error"] == "target_not_allowed"


async def test_a_name_that_does_not_resolve_is_a_dns_error(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn, settings: Settings
) -> None:
    hook_id = await webhook_row(app, "https://no-such-host.invalid/hook")
    await submit("courier1")

    assert await deliver(app, settings) == DeliveryCounts(retrying=1)

    [entry] = await deliveries(client, await login("admin"), hook_id)
    assert (entry["last_status_code"], entry["last_error"]) == (None, "dns_error")


class RebindingResolver:
    """A name whose DNS answers change between lookups, as a rebinding attacker's do: the
    first lookup gets ``first``, every later one ``then``. (The only stand-in for a real part
    in these tests: no DNS server can be run here.)"""

    def __init__(self, first: list[str], then: list[str]) -> None:
        self.answers = [first, then]
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.lookups.append(host)
        answer = self.answers[min(len(self.lookups) - 1, 1)]
        return [ipaddress.ip_address(address) for address in answer]


async def test_a_delivery_connects_to_the_very_address_that_was_checked(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn, settings: Settings
) -> None:
    """The name answers an allowed address to the first lookup and loopback to any later one.
    An allowed address stands in for a public one (no public address can be served here):
    127.0.0.2, which the administrator allowed, and 127.0.0.1, which nobody allowed, both
    listen on the same port. The delivery must reach the first and never the second."""
    with contextlib.ExitStack() as stack:
        try:
            checked = stack.enter_context(serve_receiver("127.0.0.2"))
            rebound = stack.enter_context(serve_receiver("127.0.0.1", checked.port))
        except OSError as exc:
            pytest.skip(f"cannot listen on 127.0.0.2 and 127.0.0.1 with one port: {exc}")
        hook_id = await webhook_row(app, f"http://rebinding.example:{checked.port}/hook")
        await submit("courier1")
        resolver = RebindingResolver(first=["127.0.0.2"], then=["127.0.0.1"])
        pinned = settings.model_copy(update={"webhook_allowed_hosts": ["127.0.0.2/32"]})

        assert await deliver(app, pinned, resolver) == DeliveryCounts(delivered=1)

        assert len(checked.requests) == 1
        assert checked.requests[0].headers["host"] == f"rebinding.example:{checked.port}"
        assert rebound.requests == []
        [entry] = await deliveries(client, await login("admin"), hook_id)
        assert entry["status"] == "delivered"


async def test_a_name_answering_public_then_loopback_never_reaches_loopback(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    settings: Settings,
) -> None:
    hook_id = await webhook_row(app, f"http://rebinding.example:{receiver.port}/hook")
    await submit("courier1")
    resolver = RebindingResolver(first=[PUBLIC_IPV4], then=["127.0.0.1"])
    impatient = settings.model_copy(update={"webhook_timeout_seconds": 1.0})

    counts = await deliver(app, impatient, resolver)

    assert receiver.requests == []
    [entry] = await deliveries(client, await login("admin"), hook_id)
    # Wherever the public address led (nowhere, on a machine without internet), not here.
    if counts.delivered:
        assert entry["status"] == "delivered"
    else:
        assert entry["last_error"] in {"timeout", "connection_refused", "connection_error"}


async def test_every_address_a_name_resolves_to_must_be_allowed(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    settings: Settings,
) -> None:
    hook_id = await webhook_row(app, f"http://mixed.example:{receiver.port}/hook")
    await submit("courier1")
    resolver = RebindingResolver(first=[PUBLIC_IPV4, "127.0.0.1"], then=[PUBLIC_IPV4])

    assert await deliver(app, settings, resolver) == DeliveryCounts(retrying=1)

    assert receiver.requests == []
    [entry] = await deliveries(client, await login("admin"), hook_id)
    assert entry["last_error"] == "target_not_allowed"


def self_signed_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for ``name`` only (not for any address), signed by its own key; its
    file serves as the client's trusted CA too."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "receiver.pem", directory / "receiver.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_tls_is_verified_for_the_name_while_connecting_to_the_checked_address(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connection goes to the address checked, and the certificate is checked for the
    URL's name: a receiver whose certificate names ``localhost`` is reached as
    ``https://localhost``, and refused as ``https://127.0.0.1``."""
    cert_file, key_file = self_signed_certificate(tmp_path, "localhost")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the operator's own CA
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)
    allowing = settings.model_copy(update={"webhook_allowed_hosts": ["localhost", "127.0.0.1"]})
    with serve_receiver(tls=tls) as receiver:
        by_name = await webhook_row(app, f"https://localhost:{receiver.port}/hook")
        by_address = await webhook_row(app, f"https://127.0.0.1:{receiver.port}/hook")
        await submit("courier1")

        assert await deliver(app, allowing) == DeliveryCounts(delivered=1, retrying=1)

        assert len(receiver.requests) == 1
    admin = await login("admin")
    [named] = await deliveries(client, admin, by_name)
    assert (named["status"], named["last_status_code"]) == ("delivered", 204)
    [addressed] = await deliveries(client, admin, by_address)
    assert (addressed["status"], addressed["last_error"]) == ("pending", "tls_error")


# --- The delivery log ----------------------------------------------------------------------------

SECRET_ANSWER = b"postgres://app:hunter2@10.0.0.5:5432/suishoupai is down"


async def test_the_delivery_log_never_shows_the_receivers_answer(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    settings: Settings,
) -> None:
    allowing = settings.model_copy(update={"webhook_allowed_hosts": RECEIVER_HOSTS})
    receiver.default_status = 500
    receiver.reply_body = SECRET_ANSWER
    hook_id = await webhook_row(app, receiver.url())
    await submit("courier1")

    assert await deliver(app, allowing) == DeliveryCounts(retrying=1)

    assert len(receiver.requests) == 1
    response = await client.get(
        f"/api/v1/webhooks/{hook_id}/deliveries", headers=await login("admin")
    )
    [entry] = response.json()["items"]
    assert (entry["last_status_code"], entry["last_error"]) == (500, "http_status")
    for fragment in ("hunter2", "10.0.0.5", "5432", "is down"):
        assert fragment not in response.text


async def test_redirects_are_not_followed(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    receiver: Receiver,
    settings: Settings,
) -> None:
    allowing = settings.model_copy(update={"webhook_allowed_hosts": RECEIVER_HOSTS})
    receiver.default_status = 307
    receiver.reply_headers = {"Location": receiver.url("/elsewhere")}
    hook_id = await webhook_row(app, receiver.url())
    await submit("courier1")

    assert await deliver(app, allowing) == DeliveryCounts(retrying=1)

    assert [r.path for r in receiver.requests] == ["/hook"]
    [entry] = await deliveries(client, await login("admin"), hook_id)
    assert (entry["last_status_code"], entry["last_error"]) == (307, "http_status")


async def test_outcomes_logged_as_text_before_are_shown_by_their_class(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    """Deliveries recorded before the log kept only classes hold the start of an answer or an
    exception's text: the API shows their class instead."""
    hook_id = await webhook_row(app, f"https://{PUBLIC_IPV4}/hook")
    await submit("courier1")
    await fan_out(app.state.sessionmaker, datetime.now(UTC))
    async with app.state.sessionmaker() as db:
        delivery = await db.get_one(WebhookDelivery, uuid.UUID(await _only_delivery_id(db)))
        delivery.status = DeliveryStatus.parked
        delivery.attempts = 3
        delivery.last_status_code = 500
        delivery.last_error = "HTTP 500: " + SECRET_ANSWER.decode()
        await db.commit()
    admin = await login("admin")

    [entry] = await deliveries(client, admin, hook_id)
    assert (entry["last_status_code"], entry["last_error"]) == (500, "http_status")

    async with app.state.sessionmaker() as db:
        delivery = await db.get_one(WebhookDelivery, uuid.UUID(entry["id"]))
        delivery.last_status_code = None
        delivery.last_error = "ConnectError: [Errno 111] Connection refused (10.0.0.5:5432)"
        await db.commit()
    response = await client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=admin)
    [entry] = response.json()["items"]
    assert entry["last_error"] == "connection_error"
    assert "10.0.0.5" not in response.text
