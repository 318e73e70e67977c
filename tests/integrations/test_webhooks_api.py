"""Webhook registration: who may register, see, change and remove which webhooks."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import LoginFn
from tests.integrations.conftest import (
    BANNER,
    UNIT_1,
    UNIT_2,
    Receiver,
    create_webhook,
    dashboard_key,
)


async def test_admin_manages_a_webhook_and_sees_its_secret_once(
    client: httpx.AsyncClient, login: LoginFn, receiver: Receiver
) -> None:
    admin = await login("admin")
    created = await create_webhook(
        client, admin, receiver.url(), ["report.*", "report.*", "job.dispatched"]
    )
    assert created["secret"].startswith("whsec_")
    assert len(created["secret"]) > 40
    assert created["events"] == ["report.*", "job.dispatched"]
    assert created["unit_id"] is None
    assert created["active"] is True
    assert created["url"] == receiver.url()

    read = await client.get(f"/api/v1/webhooks/{created['id']}", headers=admin)
    assert read.status_code == 200
    assert "secret" not in read.json()
    listed = await client.get("/api/v1/webhooks", headers=admin)
    assert [w["id"] for w in listed.json()["items"]] == [created["id"]]
    assert all("secret" not in w for w in listed.json()["items"])

    changed = await client.patch(
        f"/api/v1/webhooks/{created['id']}",
        json={"active": False, "events": ["*"], "url": receiver.url("/v2")},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() | {"created_at": None} == read.json() | {
        "active": False,
        "events": ["*"],
        "url": receiver.url("/v2"),
        "created_at": None,
    }
    cleared = await client.patch(
        f"/api/v1/webhooks/{created['id']}", json={"events": None}, headers=admin
    )
    assert cleared.status_code == 422

    deleted = await client.delete(f"/api/v1/webhooks/{created['id']}", headers=admin)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/v1/webhooks/{created['id']}", headers=admin)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["code"] == "not_found"


async def test_invalid_webhooks_are_refused(client: httpx.AsyncClient, login: LoginFn) -> None:
    admin = await login("admin")
    cases = [
        ({"url": "ftp://example.cn/hook", "events": ["*"]}, ["body", "url"]),
        ({"url": "not a url", "events": ["*"]}, ["body", "url"]),
        ({"url": "https://example.cn/hook", "events": ["reports.accepted"]}, ["body", "events"]),
        ({"url": "https://example.cn/hook", "events": ["report.**"]}, ["body", "events"]),
        ({"url": "https://example.cn/hook", "events": []}, ["body", "events"]),
        (
            {"url": "https://example.cn/hook", "events": ["*"], "unit_id": str(uuid.uuid4())},
            ["body", "unit_id"],
        ),
    ]
    for body, loc in cases:
        response = await client.post("/api/v1/webhooks", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        assert problem["code"] == "validation_error"
        assert [e["loc"][:2] for e in problem["errors"]] == [loc], body


async def test_unit_staff_manage_only_their_own_units_webhooks(
    client: httpx.AsyncClient, login: LoginFn, receiver: Receiver
) -> None:
    admin, unit1, unit2 = await login("admin"), await login("unit1"), await login("unit2")
    # unit1 acts for one unit: the webhook is that unit's without saying so.
    own = await create_webhook(client, unit1, receiver.url(), ["job.*"])
    assert own["unit_id"] == str(UNIT_1)
    explicit = await create_webhook(client, unit1, receiver.url(), ["*"], unit_id=str(UNIT_1))
    foreign = await client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url(), "events": ["*"], "unit_id": str(UNIT_2)},
        headers=unit1,
    )
    assert foreign.status_code == 403
    assert foreign.json()["code"] == "forbidden"

    of_unit_2 = await create_webhook(client, admin, receiver.url(), ["*"], unit_id=str(UNIT_2))
    everything = await create_webhook(client, admin, receiver.url(), ["*"])

    listed = await client.get("/api/v1/webhooks", headers=unit1)
    assert {w["id"] for w in listed.json()["items"]} == {own["id"], explicit["id"]}
    for method, path in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("GET", "/deliveries"),
        ("POST", f"/deliveries/{uuid.uuid4()}/retry"),
    ]:
        for other in (of_unit_2, everything):
            response = await client.request(
                method,
                f"/api/v1/webhooks/{other['id']}{path}",
                headers=unit1,
                json={"active": False} if method == "PATCH" else None,
            )
            assert response.status_code == 404, (method, path, response.text)
    assert (await client.get(f"/api/v1/webhooks/{own['id']}", headers=unit2)).status_code == 404

    every = await client.get("/api/v1/webhooks", headers=admin)
    assert {w["id"] for w in every.json()["items"]} == {
        own["id"],
        explicit["id"],
        of_unit_2["id"],
        everything["id"],
    }
    by_unit = await client.get(f"/api/v1/webhooks?unit_id={UNIT_1}", headers=admin)
    assert {w["id"] for w in by_unit.json()["items"]} == {own["id"], explicit["id"]}

    paused = await client.patch(
        f"/api/v1/webhooks/{own['id']}", json={"active": False}, headers=unit1
    )
    assert paused.status_code == 200
    assert paused.json()["active"] is False
    assert (await client.delete(f"/api/v1/webhooks/{own['id']}", headers=unit1)).status_code == 204


async def test_other_roles_cannot_manage_webhooks(
    client: httpx.AsyncClient, login: LoginFn, receiver: Receiver
) -> None:
    body = {"url": receiver.url(), "events": ["*"]}
    for username in ("courier1", "staff1", "supervisor", "viewer", "resident1"):
        headers = await login(username)
        created = await client.post("/api/v1/webhooks", json=body, headers=headers)
        assert created.status_code == 403, username
        assert created.json()["code"] == "forbidden"
        assert (await client.get("/api/v1/webhooks", headers=headers)).status_code == 403

    dashboard = await dashboard_key(client, await login("admin"), BANNER)
    assert (await client.post("/api/v1/webhooks", json=body, headers=dashboard)).status_code == 403

    anonymous = await client.get("/api/v1/webhooks")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
