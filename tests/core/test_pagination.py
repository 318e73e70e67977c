"""Cursors: signed for one list (endpoint, path, filters, sort); anything else is 422
``invalid_cursor`` on every list, and a real cursor pages through the whole list."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import (
    CursorShape,
    PageParams,
    SortKey,
    cursor_signing_key,
    encode_cursor,
)
from app.models import AuditEntry, OutboxEvent, User, Webhook, WebhookDelivery
from app.models.audit import AuditAction
from app.models.enums import DeliveryStatus
from tests.conftest import LoginFn

# Who reads each list that takes a cursor. A new list without a row here fails
# test_every_list_with_a_cursor_is_covered, so that it is tested like the others.
READERS = {
    # First: the admin's reads of /users below add to it.
    "/api/v1/admin/audit-log": "admin",
    "/api/v1/users": "admin",
    "/api/v1/communities": "admin",
    "/api/v1/units": "admin",
    "/api/v1/courier-companies": "admin",
    "/api/v1/courier-branches": "admin",
    "/api/v1/check-ins": "admin",
    "/api/v1/reports": "admin",
    "/api/v1/jobs": "admin",
    "/api/v1/points/me": "courier1",
    "/api/v1/leaderboard": "courier1",
    "/api/v1/rewards": "admin",
    "/api/v1/redemptions": "admin",
    "/api/v1/wishes": "admin",
    "/api/v1/webhooks": "admin",
    "/api/v1/webhooks/{webhook_id}/deliveries": "admin",
}
# Lists the demo (with the webhooks made below) fills with more than one page of two.
LONG_LISTS = {
    "/api/v1/admin/audit-log",
    "/api/v1/users",
    "/api/v1/communities",
    "/api/v1/units",
    "/api/v1/courier-companies",
    "/api/v1/courier-branches",
    "/api/v1/check-ins",
    "/api/v1/reports",
    "/api/v1/webhooks",
    "/api/v1/webhooks/{webhook_id}/deliveries",
}


def cursor_routes(app: Any) -> list[str]:
    return sorted(
        path
        for path, operations in app.openapi()["paths"].items()
        for operation in operations.values()
        if any(p["name"] == "cursor" for p in operation.get("parameters", []))
    )


PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "Canon_40D.jpg"


@pytest.fixture
async def reports(client: httpx.AsyncClient, login: LoginFn) -> None:
    """Three reports in 东街社区, through the API."""
    for n in range(3):
        response = await client.post(
            "/api/v1/reports",
            data={
                "category_code": "chaotic_parking",
                "description": f"巷口乱停车 {n}",
                "lat": "40.8436",
                "lng": "107.1499",
            },
            files=[("photos", ("p.jpg", PHOTO.read_bytes(), "image/jpeg"))],
            headers=await login("courier1"),
        )
        assert response.status_code == 201, response.text


@pytest.fixture
async def webhook_id(session: AsyncSession, reports: None) -> uuid.UUID:
    """Three webhooks, the first with three deliveries, and three audit entries (made directly:
    this is about lists)."""
    admin_id = await session.scalar(select(User.id).where(User.username == "admin"))
    session.add_all(
        AuditEntry(
            occurred_at=datetime(2026, 11, 1 + n, tzinfo=UTC),
            action=AuditAction.personal_data_export.value,
            actor_id=admin_id,
            subject_id=admin_id,
        )
        for n in range(3)
    )
    hooks = [
        Webhook(
            url=f"https://hooks.suishoupai.cn/{n}",
            secret="s" * 32,
            events=["report.*"],
            created_by_id=admin_id,
            created_at=datetime(2026, 11, 1 + n, tzinfo=UTC),
        )
        for n in range(3)
    ]
    session.add_all(hooks)
    events = [OutboxEvent(type="report.accept", payload={}) for _ in range(3)]
    session.add_all(events)
    await session.flush()
    session.add_all(
        WebhookDelivery(
            webhook_id=hooks[0].id,
            event_id=event.id,
            event_created_at=event.created_at,
            status=DeliveryStatus.pending,
        )
        for event in events
    )
    await session.commit()
    return hooks[0].id


def concrete(path: str, webhook_id: uuid.UUID) -> str:
    return path.replace("{webhook_id}", str(webhook_id))


async def walk(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], limit: int
) -> list[Any]:
    items: list[Any] = []
    cursor = None
    separator = "&" if "?" in url else "?"
    for _ in range(200):
        query = f"{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(url + query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ran out")


def assert_invalid_cursor(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_cursor"
    assert [error["loc"] for error in problem["errors"]] == [["query", "cursor"]]


def unsigned(values: list[Any]) -> str:
    """A cursor as they used to be made: base64 of the JSON values, no signature."""
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_every_list_with_a_cursor_is_covered(app: FastAPI) -> None:
    assert cursor_routes(app) == sorted(READERS)


async def test_a_real_cursor_pages_through_every_list(
    client: httpx.AsyncClient, login: LoginFn, webhook_id: uuid.UUID
) -> None:
    for path, username in READERS.items():
        url = concrete(path, webhook_id)
        headers = await login(username)
        whole = (await client.get(f"{url}?limit=200", headers=headers)).json()
        assert whole["next_cursor"] is None, path
        paged = await walk(client, url, headers, limit=2)
        assert paged == whole["items"], path
        first = await client.get(f"{url}?limit=200&cursor=", headers=headers)
        assert first.json() == whole, path
        if path in LONG_LISTS:
            assert len(whole["items"]) > 2, path


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%%%",
        "AAAA",
        "A" * 2000,
        unsigned(["zzz", "00000000-0000-0000-0000-000000000000"]),
        unsigned([{"t": "2026-01-01T00:00:00"}, {"u": "00000000-0000-0000-0000-000000000000"}]),
        unsigned([1, 2]),
        unsigned([40]),
        unsigned([-1]),
        "eyJ9" + "A" * 22,
    ],
)
async def test_garbage_is_an_invalid_cursor_on_every_list(
    client: httpx.AsyncClient, login: LoginFn, webhook_id: uuid.UUID, cursor: str
) -> None:
    for path, username in READERS.items():
        url = concrete(path, webhook_id)
        response = await client.get(url, params={"cursor": cursor}, headers=await login(username))
        assert_invalid_cursor(response)
        # The list itself still answers.
        assert (await client.get(url, headers=await login(username))).status_code == 200


async def test_a_cut_or_edited_cursor_is_refused(
    client: httpx.AsyncClient, login: LoginFn, webhook_id: uuid.UUID
) -> None:
    for path, username in READERS.items():
        if path not in LONG_LISTS:
            continue
        url = concrete(path, webhook_id)
        headers = await login(username)
        cursor = (await client.get(f"{url}?limit=1", headers=headers)).json()["next_cursor"]
        assert cursor, path
        flipped = "B" if cursor[5] == "A" else "A"
        for bad in (cursor[:-3], cursor[:5] + flipped + cursor[6:], cursor + "AAAA", cursor[8:]):
            assert_invalid_cursor(await client.get(url, params={"cursor": bad}, headers=headers))


async def test_a_cursor_belongs_to_its_own_list(
    client: httpx.AsyncClient, login: LoginFn, webhook_id: uuid.UUID
) -> None:
    cursors = {}
    for path in LONG_LISTS:
        url = concrete(path, webhook_id)
        page = (await client.get(f"{url}?limit=1", headers=await login(READERS[path]))).json()
        cursors[path] = page["next_cursor"]
    for path, username in READERS.items():
        url = concrete(path, webhook_id)
        for origin, cursor in cursors.items():
            if origin == path:
                continue
            response = await client.get(
                url, params={"cursor": cursor}, headers=await login(username)
            )
            assert_invalid_cursor(response)


async def test_a_cursor_holds_only_for_the_filters_and_sort_it_was_made_with(
    client: httpx.AsyncClient, login: LoginFn, reports: None
) -> None:
    admin = await login("admin")
    first = (await client.get("/api/v1/users?limit=2&q=staff", headers=admin)).json()
    cursor = first["next_cursor"]
    assert cursor
    same = await client.get(f"/api/v1/users?q=staff&limit=5&cursor={cursor}", headers=admin)
    assert same.status_code == 200
    assert all("staff" in user["username"] for user in same.json()["items"])
    # Parameters the list does not read (a cache buster) do not matter.
    busted = await client.get(
        f"/api/v1/users?_=1764&q=staff&limit=5&cursor={cursor}", headers=admin
    )
    assert busted.json() == same.json()
    for other in ("q=unit", "", "q=staff&role=admin"):
        assert_invalid_cursor(
            await client.get(f"/api/v1/users?{other}&cursor={cursor}", headers=admin)
        )

    newest = (await client.get("/api/v1/reports?limit=1", headers=admin)).json()["next_cursor"]
    oldest = (await client.get("/api/v1/reports?limit=1&sort=created_at", headers=admin)).json()
    assert newest
    assert oldest["next_cursor"]
    assert_invalid_cursor(
        await client.get(f"/api/v1/reports?sort=created_at&cursor={newest}", headers=admin)
    )


async def test_a_delivery_cursor_belongs_to_its_webhook(
    client: httpx.AsyncClient, login: LoginFn, webhook_id: uuid.UUID
) -> None:
    admin = await login("admin")
    url = f"/api/v1/webhooks/{webhook_id}/deliveries"
    cursor = (await client.get(f"{url}?limit=1", headers=admin)).json()["next_cursor"]
    others = (await client.get("/api/v1/webhooks", headers=admin)).json()["items"]
    other = next(hook["id"] for hook in others if hook["id"] != str(webhook_id))
    response = await client.get(
        f"/api/v1/webhooks/{other}/deliveries", params={"cursor": cursor}, headers=admin
    )
    assert_invalid_cursor(response)


def _users_list(app: Any, secret_key: str) -> PageParams:
    """The page parameters GET /api/v1/users makes for a request without filters."""
    identity = json.dumps(["GET", "/api/v1/users", []], separators=(",", ":"))
    return PageParams(
        limit=50, cursor=None, list_identity=identity, signing_key=cursor_signing_key(secret_key)
    )


async def test_a_cursor_signed_with_another_key_or_holding_the_wrong_kinds_is_refused(
    client: httpx.AsyncClient, login: LoginFn, app: FastAPI
) -> None:
    admin = await login("admin")
    secret = app.state.settings.secret_key
    sort = CursorShape.of([SortKey(User.username), SortKey(User.id)])
    # The test's own forgery is accepted, so the refusals below are about what they change.
    last_id = uuid.UUID(int=2**128 - 1)
    genuine = encode_cursor(_users_list(app, secret), sort, ["staff1", last_id])
    accepted = await client.get(f"/api/v1/users?cursor={genuine}", headers=admin)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["items"][0]["username"] > "staff1"

    other_key = encode_cursor(_users_list(app, secret + "x"), sort, ["staff1", uuid.uuid4()])
    assert_invalid_cursor(await client.get(f"/api/v1/users?cursor={other_key}", headers=admin))

    wrong: list[tuple[CursorShape, list[Any]]] = [
        (CursorShape(sort.sort, (int, str)), [5, "x" * 32]),
        (CursorShape(sort.sort, (str, str)), ["staff1", "not-a-uuid-but-32-characters-long"]),
        (CursorShape(sort.sort, (str,)), ["staff1"]),
        (CursorShape(sort.sort, (datetime, str)), [datetime.now(UTC), "0" * 32]),
    ]
    for shape, values in wrong:
        forged = encode_cursor(_users_list(app, secret), shape, values)
        assert_invalid_cursor(await client.get(f"/api/v1/users?cursor={forged}", headers=admin))


def test_cursors_are_compact(app: FastAPI) -> None:
    from app.models import Report

    shape = CursorShape.of([SortKey(Report.created_at, True), SortKey(Report.id, True)])
    params = _users_list(app, "k")
    cursor = encode_cursor(params, shape, [datetime.now(UTC), uuid.uuid4()])
    assert len(cursor) < 100
    assert cursor.isascii()
    assert not {"=", "+", "/"} & set(cursor)
