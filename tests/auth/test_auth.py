"""Signing in, refresh rotation with reuse detection, throttling, tokens that must not work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import security
from app.core.config import Settings
from tests.conftest import LoginFn

TOKEN_URL = "/api/v1/auth/token"


async def _token(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(TOKEN_URL, data={"username": username, "password": password})


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


async def test_login_returns_tokens_that_open_me(client: httpx.AsyncClient) -> None:
    response = await _token(client, "staff1", "suishoupai-demo")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 60
    assert body["refresh_token"]
    me = await client.get("/api/v1/me", headers=_bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "staff1"


@pytest.mark.parametrize(
    ("username", "password"),
    [("staff1", "wrong-password"), ("nobody-here", "suishoupai-demo"), ("staff1", "")],
)
async def test_wrong_credentials_get_401_without_saying_which_part(
    client: httpx.AsyncClient, username: str, password: str
) -> None:
    response = await _token(client, username, password)
    if password == "":
        assert response.status_code == 422  # the form field is required
        return
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "unauthorized"
    assert problem["detail"] == "Incorrect username or password"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_deactivated_user_cannot_sign_in(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    admin = await login("admin")
    me = (await client.get("/api/v1/me", headers=await login("grid1"))).json()
    changed = await client.patch(
        f"/api/v1/users/{me['id']}", json={"is_active": False}, headers=admin
    )
    assert changed.status_code == 200
    assert (await _token(client, "grid1", "suishoupai-demo")).status_code == 401
    # and the token issued before deactivation stops working at once
    assert (await client.get("/api/v1/me", headers=await login("grid1"))).status_code == 401


async def test_refresh_rotates_and_the_old_token_is_spent(client: httpx.AsyncClient) -> None:
    first = (await _token(client, "unit1", "suishoupai-demo")).json()
    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    me = await client.get("/api/v1/me", headers=_bearer(second["access_token"]))
    assert me.json()["username"] == "unit1"


async def test_reused_refresh_token_revokes_the_whole_login(client: httpx.AsyncClient) -> None:
    first = (await _token(client, "unit1", "suishoupai-demo")).json()
    second = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()

    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]

    # The thief's replay ended the family: the legitimate latest token is dead too …
    latest = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert latest.status_code == 401
    # … and so are the access tokens issued under that login.
    me = await client.get("/api/v1/me", headers=_bearer(second["access_token"]))
    assert me.status_code == 401
    # Another login of the same user is unaffected.
    other = (await _token(client, "unit1", "suishoupai-demo")).json()
    assert (
        await client.get("/api/v1/me", headers=_bearer(other["access_token"]))
    ).status_code == 200


async def test_unknown_refresh_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_logout_ends_access_and_refresh(client: httpx.AsyncClient) -> None:
    tokens = (await _token(client, "staff2", "suishoupai-demo")).json()
    out = await client.post("/api/v1/auth/logout", headers=_bearer(tokens["access_token"]))
    assert out.status_code == 204
    assert (
        await client.get("/api/v1/me", headers=_bearer(tokens["access_token"]))
    ).status_code == 401
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 401


async def test_account_is_locked_after_repeated_failures(client: httpx.AsyncClient) -> None:
    for _ in range(5):
        assert (await _token(client, "courier1", "guess")).status_code == 401
    locked = await _token(client, "courier1", "suishoupai-demo")
    assert locked.status_code == 429
    assert locked.json()["code"] == "rate_limited"
    assert int(locked.headers["retry-after"]) > 0
    # Other accounts from the same address still sign in.
    assert (await _token(client, "courier2", "suishoupai-demo")).status_code == 200


async def test_address_is_locked_after_many_failures_across_accounts(
    client: httpx.AsyncClient,
) -> None:
    for i in range(20):
        response = await _token(client, f"spray-{i}", "guess")
        assert response.status_code == 401
    blocked = await _token(client, "staff1", "suishoupai-demo")
    assert blocked.status_code == 429


async def test_lock_expires(client: httpx.AsyncClient, app: FastAPI) -> None:
    from app.core.clock import FrozenClock

    clock = FrozenClock(datetime.now(UTC))
    app.state.clock = clock
    for _ in range(5):
        await _token(client, "grid1", "guess")
    assert (await _token(client, "grid1", "suishoupai-demo")).status_code == 429
    clock.advance(seconds=901)
    assert (await _token(client, "grid1", "suishoupai-demo")).status_code == 200


async def test_a_success_clears_earlier_failures(client: httpx.AsyncClient) -> None:
    for _ in range(4):
        await _token(client, "staff1", "guess")
    assert (await _token(client, "staff1", "suishoupai-demo")).status_code == 200
    for _ in range(4):
        await _token(client, "staff1", "guess")
    assert (await _token(client, "staff1", "suishoupai-demo")).status_code == 200


async def test_forged_token_is_rejected(client: httpx.AsyncClient, login: LoginFn) -> None:
    real = (await login("admin"))["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(real, options={"verify_signature": False})
    forged = jwt.encode(claims, "a-secret-the-server-does-not-have-0123456789", algorithm="HS256")
    response = await client.get("/api/v1/me", headers=_bearer(forged))
    assert response.status_code == 401
    unsigned = jwt.encode(claims, "", algorithm="none")  # "none" takes the empty key as none
    assert (await client.get("/api/v1/me", headers=_bearer(unsigned))).status_code == 401
    assert (await client.get("/api/v1/me", headers=_bearer("garbage"))).status_code == 401


async def test_expired_token_is_rejected(
    client: httpx.AsyncClient, settings: Settings, login: LoginFn
) -> None:
    await login("staff1")
    valid = (await login("staff1"))["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(valid, options={"verify_signature": False})
    expired, _ = security.create_access_token(
        settings,
        uuid.UUID(claims["sub"]),
        uuid.UUID(claims["sid"]),
        datetime.now(UTC) - timedelta(hours=2),
    )
    response = await client.get("/api/v1/me", headers=_bearer(expired))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_no_token_is_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_changing_password_signs_out_other_devices(client: httpx.AsyncClient) -> None:
    phone = (await _token(client, "resident1", "suishoupai-demo")).json()
    laptop = (await _token(client, "resident1", "suishoupai-demo")).json()
    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "nope", "new_password": "a-new-password-1"},
        headers=_bearer(laptop["access_token"]),
    )
    assert wrong.status_code == 422
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": "suishoupai-demo", "new_password": "a-new-password-1"},
        headers=_bearer(laptop["access_token"]),
    )
    assert changed.status_code == 204
    assert (
        await client.get("/api/v1/me", headers=_bearer(laptop["access_token"]))
    ).status_code == 200
    assert (
        await client.get("/api/v1/me", headers=_bearer(phone["access_token"]))
    ).status_code == 401
    assert (await _token(client, "resident1", "suishoupai-demo")).status_code == 401
    assert (await _token(client, "resident1", "a-new-password-1")).status_code == 200


async def test_register_reporter(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/auth/register",
        json={"username": "zhang.wei", "display_name": "张伟", "password": "long-enough-pw"},
    )
    assert created.status_code == 201
    assert [r["role"] for r in created.json()["roles"]] == ["reporter"]
    taken = await client.post(
        "/api/v1/auth/register",
        json={"username": "zhang.wei", "display_name": "张伟", "password": "long-enough-pw"},
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "conflict"
    short = await client.post(
        "/api/v1/auth/register",
        json={"username": "li", "display_name": "李", "password": "short"},
    )
    assert short.status_code == 422
    locs = {tuple(e["loc"]) for e in short.json()["errors"]}
    assert ("body", "username") in locs
    assert ("body", "password") in locs
    assert (await _token(client, "zhang.wei", "long-enough-pw")).status_code == 200


async def test_sign_in_takes_json_as_well_as_the_oauth2_form(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TOKEN_URL, json={"username": "staff1", "password": "suishoupai-demo"}
    )
    assert response.status_code == 200, response.text
    me = await client.get("/api/v1/me", headers=_bearer(response.json()["access_token"]))
    assert me.json()["username"] == "staff1"
    with_grant = await client.post(
        TOKEN_URL,
        json={"grant_type": "password", "username": "unit1", "password": "suishoupai-demo"},
    )
    assert with_grant.status_code == 200, with_grant.text
    # The same failure as with the form: never saying which part was wrong.
    wrong = await client.post(TOKEN_URL, json={"username": "staff1", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "Incorrect username or password"


@pytest.mark.parametrize(
    ("kwargs", "status", "says"),
    [
        ({"json": {"username": "staff1"}}, 422, "body.password: Field required"),
        ({"json": ["staff1", "x"]}, 422, "send a JSON object"),
        (
            {"content": b"{", "headers": {"Content-Type": "application/json"}},
            422,
            "not valid JSON",
        ),
        (
            {"json": {"grant_type": "refresh_token", "username": "a", "password": "b"}},
            422,
            "POST /api/v1/auth/refresh",
        ),
        (
            {"content": b"username=staff1", "headers": {"Content-Type": "text/plain"}},
            415,
            "application/x-www-form-urlencoded",
        ),
    ],
)
async def test_a_sign_in_the_endpoint_cannot_read_says_what_it_takes(
    client: httpx.AsyncClient, kwargs: dict[str, Any], status: int, says: str
) -> None:
    response = await client.post(TOKEN_URL, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]


async def test_the_api_document_shows_both_sign_in_bodies(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    body = document["paths"][TOKEN_URL]["post"]["requestBody"]
    assert list(body["content"]) == ["application/x-www-form-urlencoded", "application/json"]
    for content in body["content"].values():
        assert content["schema"]["required"] == ["username", "password"]
    # Swagger UI's Authorize still posts the form to the same address.
    flows = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == TOKEN_URL
