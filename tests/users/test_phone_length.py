"""A person's phone number fits the column it is kept in (20 characters): a "+" and 20 digits,
which the pattern allows, is a 422 naming the field wherever a phone is given, on SQLite as on
PostgreSQL (which refused to store it: a 500)."""

from __future__ import annotations

import httpx

from tests.conftest import LoginFn

TOO_LONG = "+" + "1" * 20
LONGEST = "+" + "1" * 19


async def test_a_phone_longer_than_its_column_is_refused(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin, staff = await login("admin"), await login("staff1")
    me = (await client.get("/api/v1/me", headers=staff)).json()
    new_user = {"username": "staff99", "display_name": "王芳", "password": "a-long-password"}
    for refused in (
        await client.patch("/api/v1/me", json={"phone": TOO_LONG}, headers=staff),
        await client.patch(f"/api/v1/users/{me['id']}", json={"phone": TOO_LONG}, headers=admin),
        await client.post("/api/v1/users", json={**new_user, "phone": TOO_LONG}, headers=admin),
        await client.post("/api/v1/auth/register", json={**new_user, "phone": TOO_LONG}),
    ):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["loc"] == ["body", "phone"]
    assert (await client.get("/api/v1/me", headers=staff)).json()["phone"] == me["phone"]
    assert (await client.get("/api/v1/users?q=staff99", headers=admin)).json()["items"] == []


async def test_the_longest_phone_is_kept(client: httpx.AsyncClient, login: LoginFn) -> None:
    staff = await login("staff1")
    changed = await client.patch("/api/v1/me", json={"phone": LONGEST}, headers=staff)
    assert changed.status_code == 200, changed.text
    assert (await client.get("/api/v1/me", headers=staff)).json()["phone"] == LONGEST
