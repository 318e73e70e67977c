"""Partial updates of a user (by an admin) and of oneself: a field left out keeps its value, an
explicit null is refused for a field that cannot be empty, and clears the phone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import DEMO_PASSWORD, LoginFn


async def _user(client: httpx.AsyncClient, login: LoginFn, username: str) -> dict[str, Any]:
    me: dict[str, Any] = (await client.get("/api/v1/me", headers=await login(username))).json()
    return me


@pytest.mark.parametrize("field", ["display_name", "is_active", "password"])
async def test_an_admin_cannot_null_a_field_that_cannot_be_empty(
    client: httpx.AsyncClient, login: LoginFn, field: str
) -> None:
    before = await _user(client, login, "resident1")
    response = await client.patch(
        f"/api/v1/users/{before['id']}", json={field: None}, headers=await login("admin")
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "validation_error"
    assert [error["loc"] for error in problem["errors"]] == [["body", field]]
    # Nothing changed: the user still signs in with the old password and reads the same.
    token = await client.post(
        "/api/v1/auth/token", data={"username": "resident1", "password": DEMO_PASSWORD}
    )
    assert token.status_code == 200
    after = (
        await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
    ).json()
    assert (after["display_name"], after["is_active"], after["phone"]) == (
        before["display_name"],
        before["is_active"],
        before["phone"],
    )


async def test_nobody_can_null_their_own_display_name(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    # The display name is the one field of PATCH /me that cannot be empty.
    before = await _user(client, login, "courier1")
    response = await client.patch(
        "/api/v1/me", json={"display_name": None}, headers=await login("courier1")
    )
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["errors"]] == [["body", "display_name"]]
    assert (await _user(client, login, "courier1"))["display_name"] == before["display_name"]


async def test_null_clears_a_phone_and_a_left_out_field_keeps_its_value(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    courier = await login("courier1")
    before = await _user(client, login, "courier1")
    assert before["phone"]
    cleared = await client.patch("/api/v1/me", json={"phone": None}, headers=courier)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["phone"] is None
    assert cleared.json()["display_name"] == before["display_name"]

    admin = await login("admin")
    renamed = await client.patch(
        f"/api/v1/users/{before['id']}", json={"display_name": "李雷"}, headers=admin
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["display_name"], renamed.json()["is_active"]) == ("李雷", True)
    assert renamed.json()["phone"] is None


async def test_an_admin_still_resets_a_password_and_deactivates(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    resident = await _user(client, login, "resident1")
    reset = await client.patch(
        f"/api/v1/users/{resident['id']}", json={"password": "a-new-password"}, headers=admin
    )
    assert reset.status_code == 200, reset.text
    signed_in = await client.post(
        "/api/v1/auth/token", data={"username": "resident1", "password": "a-new-password"}
    )
    assert signed_in.status_code == 200
    deactivated = await client.patch(
        f"/api/v1/users/{resident['id']}", json={"is_active": False}, headers=admin
    )
    assert deactivated.status_code == 200
    assert deactivated.json()["is_active"] is False
    refused = await client.post(
        "/api/v1/auth/token", data={"username": "resident1", "password": "a-new-password"}
    )
    assert refused.status_code == 401


async def test_update_schemas_show_which_fields_may_be_null(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for name, fields in (
        ("UserUpdate", ("display_name", "is_active", "password")),
        ("MeUpdate", ("display_name",)),
    ):
        properties = schemas[name]["properties"]
        for field in fields:
            assert "anyOf" not in properties[field], (name, field)
            assert "default" not in properties[field], (name, field)
        assert {"type": "null"} in properties["phone"]["anyOf"]
