"""A dashboard key exchanged for a token (``POST /auth/key-token``): what a page does so that the
key is sent once, in a body, and never stands in its URLs, headers or the server's logs."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from app.core.clock import Clock, FrozenClock
from app.demo.keys import DEMO_DASHBOARD_KEY
from app.demo.seed import demo_id
from tests.conftest import LoginFn

V1 = "/api/v1"
BANNER = demo_id("region", "杭锦后旗")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _exchange(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post(f"{V1}/auth/key-token", json={"key": key})


async def test_the_demo_key_opens_the_banner_as_a_viewer(client: httpx.AsyncClient) -> None:
    exchanged = await _exchange(client, DEMO_DASHBOARD_KEY)
    assert exchanged.status_code == 200, exchanged.text
    body = exchanged.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 60
    assert DEMO_DASHBOARD_KEY not in body["access_token"]
    me = await client.get(f"{V1}/me", headers=_bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["roles"] == [
        {
            "id": None,
            "role": "viewer",
            "scope_type": "region",
            "scope_id": str(BANNER),
            "scope_name": "杭锦后旗",
        }
    ]
    # Read-only, as the key itself: a write is refused.
    write = await client.post(
        f"{V1}/regions",
        json={"name": "新镇", "code": "150826999", "parent_id": str(BANNER)},
        headers=_bearer(body["access_token"]),
    )
    assert write.status_code == 403, write.text


async def test_a_wrong_or_malformed_key_is_refused(client: httpx.AsyncClient) -> None:
    for key in ("ssp_demowall_wrong-secret", "ssp_abcdefgh_nothing", "not-a-key", "x" * 200):
        refused = await _exchange(client, key)
        assert refused.status_code == 401, (key, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    empty = await client.post(f"{V1}/auth/key-token", json={"key": ""})
    assert empty.status_code == 422, empty.text
    assert empty.json()["errors"][0]["loc"] == ["body", "key"]


async def test_revoking_the_key_stops_its_tokens(client: httpx.AsyncClient, login: LoginFn) -> None:
    admin = await login("admin")
    created = await client.post(
        f"{V1}/api-keys", json={"name": "大屏", "region_id": str(BANNER)}, headers=admin
    )
    assert created.status_code == 201, created.text
    token = (await _exchange(client, created.json()["key"])).json()["access_token"]
    assert (await client.get(f"{V1}/stats/summary", headers=_bearer(token))).status_code == 200
    revoked = await client.delete(f"{V1}/api-keys/{created.json()['id']}", headers=admin)
    assert revoked.status_code == 200, revoked.text
    after = await client.get(f"{V1}/stats/summary", headers=_bearer(token))
    assert after.status_code == 401, after.text
    assert "revoked" in after.json()["detail"]
    assert (await _exchange(client, created.json()["key"])).status_code == 401
    renew = await client.post(f"{V1}/auth/key-token/renew", headers=_bearer(token))
    assert renew.status_code == 401, renew.text


async def test_a_key_token_is_renewed_before_it_expires_and_not_after(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn
) -> None:
    token = (await _exchange(client, DEMO_DASHBOARD_KEY)).json()["access_token"]
    # People refresh their own logins; only a key's token is renewed here.
    person = await client.post(f"{V1}/auth/key-token/renew", headers=await login("viewer"))
    assert person.status_code == 403, person.text
    renewed = await client.post(f"{V1}/auth/key-token/renew", headers=_bearer(token))
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()["access_token"]
    assert (await client.get(f"{V1}/me", headers=_bearer(fresh))).status_code == 200
    # A token that expired half an hour ago (a wall screen back from an outage) is renewed…
    app.state.clock = FrozenClock(Clock().now() - timedelta(minutes=61))
    lapsed = (await _exchange(client, DEMO_DASHBOARD_KEY)).json()["access_token"]
    assert (await client.get(f"{V1}/me", headers=_bearer(lapsed))).status_code == 401
    app.state.clock = Clock()
    back = await client.post(f"{V1}/auth/key-token/renew", headers=_bearer(lapsed))
    assert back.status_code == 200, back.text
    assert (await client.get(f"{V1}/me", headers=_bearer(back.json()["access_token"]))).is_success
    # … one that expired more than a day ago is not: the page signs in again.
    app.state.clock = FrozenClock(Clock().now() - timedelta(hours=25))
    stale = (await _exchange(client, DEMO_DASHBOARD_KEY)).json()["access_token"]
    app.state.clock = Clock()
    expired = await client.post(f"{V1}/auth/key-token/renew", headers=_bearer(stale))
    assert expired.status_code == 401, expired.text
    assert "expired" in expired.json()["detail"]


async def test_a_key_token_is_not_a_persons_token(client: httpx.AsyncClient) -> None:
    """Signed with the same secret, but of another type: it cannot pose as a login."""
    token = (await _exchange(client, DEMO_DASHBOARD_KEY)).json()["access_token"]
    logout = await client.post(f"{V1}/auth/logout", headers=_bearer(token))
    assert logout.status_code == 403, logout.text
