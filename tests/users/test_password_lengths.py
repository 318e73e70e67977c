"""A password to be checked is bounded like the sign-in's (1,024 characters): a megabyte sent
as the current password is refused before it is hashed, with a 422 naming the field."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LoginFn

HUGE = "x" * 1025


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/me/password", {"current_password": HUGE, "new_password": "long-enough-9"},
         "current_password"),
        ("/api/v1/me/cancel", {"password": HUGE}, "password"),
    ],
)  # fmt: skip
async def test_a_password_to_check_is_bounded(
    client: httpx.AsyncClient, login: LoginFn, path: str, body: dict[str, str], field: str
) -> None:
    headers = await login("resident1")
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", field]
    assert "1024" in error["msg"]  # refused for its length, not checked against the hash
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
