"""The service keeps one active administrator: deactivating or demoting the last one is
refused as cancelling it is, and allowed once there is another."""

from __future__ import annotations

import httpx

from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.privacy.test_cancellation import make_second_admin

ADMIN = demo_id("user", "admin")


async def test_the_last_administrator_is_neither_deactivated_nor_demoted(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    me = (await client.get(f"/api/v1/users/{ADMIN}", headers=admin)).json()
    [assignment] = [r for r in me["roles"] if r["role"] == "admin"]
    deactivate = await client.patch(
        f"/api/v1/users/{ADMIN}", json={"is_active": False}, headers=admin
    )
    demote = await client.delete(f"/api/v1/users/{ADMIN}/roles/{assignment['id']}", headers=admin)
    for refused in (deactivate, demote):
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "last_administrator"
    assert (await client.get("/api/v1/me", headers=admin)).status_code == 200

    await make_second_admin(client, admin)
    demoted = await client.delete(f"/api/v1/users/{ADMIN}/roles/{assignment['id']}", headers=admin)
    assert demoted.status_code == 200, demoted.text
    assert "admin" not in [r["role"] for r in demoted.json()["roles"]]
