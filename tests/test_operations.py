"""Problem details for every error, request ids, health, readiness and metrics."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.core.config import (
    DEFAULT_SECRET_KEY,
    PASSWORD_HASH_FLOOR_MEMORY_KIB,
    InsecureConfiguration,
    Settings,
)
from app.core.security import use_password_hash_cost
from app.main import create_app
from app.models import User
from tests.conftest import LoginFn


async def test_unknown_path_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "not_found"
    assert problem["status"] == 404
    assert problem["type"].endswith("/not_found")
    assert "/api/v1/no-such-thing" in problem["detail"]


async def test_wrong_method_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/auth/token")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "method_not_allowed"


async def test_validation_errors_name_each_field(client: httpx.AsyncClient, login: LoginFn) -> None:
    response = await client.post(
        "/api/v1/categories",
        json={"code": "Bad Code", "kind": "neither"},
        headers=await login("admin"),
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    locs = {tuple(e["loc"]) for e in problem["errors"]}
    assert {("body", "code"), ("body", "kind"), ("body", "name")} <= locs


async def test_unexpected_error_is_500_without_a_trace(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    app.add_api_route("/explode", explode)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/explode", headers={"X-Request-ID": "trace-me-123"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.text
    assert "secret internals" not in body
    assert "Traceback" not in body
    assert response.json()["request_id"] == "trace-me-123"
    assert "secret internals" in caplog.text  # the trace goes to the log


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "phone-retry-7"})
    assert given.headers["x-request-id"] == "phone-retry-7"
    made = await client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert made.headers["x-request-id"] != "bad id\nwith newline"
    assert len(made.headers["x-request-id"]) == 32


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_not_ready_until_migrated(
    empty_database: str, settings_for: Callable[..., Settings]
) -> None:
    app = create_app(settings_for(empty_database))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/readyz")
    await app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "not migrated"


async def test_metrics_count_requests(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    text = (await client.get("/metrics")).text
    assert "ssp_http_requests_total" in text
    assert 'route="/healthz"' in text


async def test_openapi_documents_errors(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    token = spec["paths"]["/api/v1/auth/token"]["post"]
    assert "401" in token["responses"]
    assert "application/problem+json" in token["responses"]["401"]["content"]
    assert (await client.get("/docs")).status_code == 200


def test_production_refuses_the_demo_secret() -> None:
    with pytest.raises(InsecureConfiguration):
        Settings(env="production", secret_key=DEFAULT_SECRET_KEY)
    with pytest.raises(InsecureConfiguration):
        Settings(env="production", secret_key="short")
    assert Settings(env="production", secret_key="x" * 40).secret_key == "x" * 40
    assert Settings(env="demo").secret_key == DEFAULT_SECRET_KEY


@pytest.mark.parametrize(
    ("time_cost", "memory_kib"), [(1, 65536), (3, 4096), (2, PASSWORD_HASH_FLOOR_MEMORY_KIB - 1)]
)
def test_production_refuses_cheap_password_hashes(time_cost: int, memory_kib: int) -> None:
    with pytest.raises(InsecureConfiguration, match="SSP_PASSWORD_HASH"):
        Settings(
            env="production",
            secret_key="x" * 40,
            password_hash_time_cost=time_cost,
            password_hash_memory_kib=memory_kib,
        )
    # Elsewhere it is allowed: the tests run with it.
    assert Settings(env="test", password_hash_memory_kib=memory_kib).password_hash_memory_kib


def _cost_of(password_hash: str | None) -> str:
    assert password_hash is not None
    return password_hash.split("$")[3]  # $argon2id$v=19$m=…,t=…,p=…$salt$hash


async def test_passwords_are_hashed_at_the_configured_cost(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, settings: Settings
) -> None:
    """The cost is written in each hash; a hash made at another cost is brought to the
    configured one at its owner's next sign-in."""
    admin = await login("admin")
    created = await client.post(
        "/api/v1/users",
        json={
            "username": "cost1",
            "display_name": "成本",
            "password": "long-enough-1",
            "roles": [],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    async with app.state.sessionmaker() as db:
        stored = await db.scalar(select(User.password_hash).where(User.username == "cost1"))
    assert _cost_of(stored) == f"m={settings.password_hash_memory_kib},t=1,p=4"

    dearer = settings.model_copy(update={"password_hash_time_cost": 2})
    other = create_app(dearer)
    try:
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            signed_in = await http.post(
                "/api/v1/auth/token", data={"username": "cost1", "password": "long-enough-1"}
            )
            assert signed_in.status_code == 200, signed_in.text
        async with other.state.sessionmaker() as db:
            rehashed = await db.scalar(select(User.password_hash).where(User.username == "cost1"))
    finally:
        other.state.photo_pool.shutdown()
        await other.state.engine.dispose()
        use_password_hash_cost(settings)  # the process's cost back, for the tests after this
    assert _cost_of(rehashed) == f"m={settings.password_hash_memory_kib},t=2,p=4"
