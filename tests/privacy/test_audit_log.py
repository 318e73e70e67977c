"""The audit log: administrators' reads of unmasked phones are recorded with their subject, the
log is for administrators only, and its filters narrow it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.privacy.conftest import audit_rows

AUDIT_LOG = "/api/v1/admin/audit-log"
ADMIN = demo_id("user", "admin")


async def test_an_administrators_directory_read_is_recorded_per_person(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    admin = await login("admin")
    page = await client.get(
        "/api/v1/users", params={"q": "staff1"}, headers={**admin, "X-Request-ID": "dir-1"}
    )
    shown = {user["id"] for user in page.json()["items"]}
    assert {"staff1", "staff10", "staff11"} <= {u["username"] for u in page.json()["items"]}
    assert all("*" not in user["phone"] for user in page.json()["items"])

    rows = await audit_rows(session, action="user.read_unmasked")
    assert {str(row.subject_id) for row in rows} == shown
    assert all(row.actor_id == ADMIN for row in rows)
    assert all(row.request_id == "dir-1" for row in rows)
    assert all(row.detail == {"fields": ["phone"]} for row in rows)

    staff2 = demo_id("user", "staff2")
    one = await client.get(f"/api/v1/users/{staff2}", headers=admin)
    assert one.status_code == 200
    assert [row.actor_id for row in await audit_rows(session, subject_id=staff2)] == [ADMIN]


async def test_reads_without_unmasked_fields_are_not_recorded(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    staff = await client.get("/api/v1/users", headers=await login("staff1"))
    assert staff.status_code == 200
    assert any("*" in (user["phone"] or "") for user in staff.json()["items"])
    mine = await client.get(f"/api/v1/users/{ADMIN}", headers=await login("admin"))
    assert mine.status_code == 200
    # A page refused for its cursor showed nothing, so nothing is on record.
    refused = await client.get(
        "/api/v1/users", params={"cursor": "garbage"}, headers=await login("admin")
    )
    assert refused.status_code == 422
    assert await audit_rows(session) == []


@pytest.mark.parametrize("username", ["staff1", "supervisor", "viewer", "courier1", "unit1"])
async def test_only_administrators_read_the_log(
    client: httpx.AsyncClient, login: LoginFn, username: str
) -> None:
    response = await client.get(AUDIT_LOG, headers=await login(username))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_log_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert (await client.get(AUDIT_LOG)).status_code == 401


async def test_the_filters_narrow_the_log(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    admin = await login("admin")
    await client.get(f"/api/v1/users/{demo_id('user', 'staff1')}", headers=admin)
    await client.get("/api/v1/me/export", headers=await login("courier1"))
    await client.get(f"/api/v1/users/{demo_id('user', 'courier1')}", headers=admin)

    async def entries(**params: str) -> list[tuple[str, str, str]]:
        response = await client.get(AUDIT_LOG, params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [
            (e["action"], e["actor"]["username"], e["subject"]["username"])
            for e in response.json()["items"]
        ]

    everything = [
        ("user.read_unmasked", "admin", "courier1"),
        ("personal_data.export", "courier1", "courier1"),
        ("user.read_unmasked", "admin", "staff1"),
    ]
    assert await entries() == everything
    assert await entries(subject_id=str(demo_id("user", "courier1"))) == everything[:2]
    assert await entries(actor_id=str(ADMIN)) == [everything[0], everything[2]]
    assert await entries(action="personal_data.export") == [everything[1]]

    [export_row] = await audit_rows(session, action="personal_data.export")
    at = export_row.occurred_at
    assert await entries(**{"from": at.isoformat()}) == everything[:2]
    assert await entries(**{"to": at.isoformat()}) == everything[2:]
    later = (at + timedelta(days=1)).isoformat()
    assert await entries(**{"from": later}) == []

    item = (await client.get(AUDIT_LOG, params={"limit": 1}, headers=admin)).json()["items"][0]
    assert item["client_address"]
    assert item["request_id"]
    assert item["actor"]["display_name"] == "系统管理员"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-12-01T00:00:00"}, "from"),
        ({"from": "1764547200"}, "from"),  # a Unix time is no RFC 3339 moment
        ({"to": "2026-12-01"}, "to"),
        ({"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "to"),
        ({"action": "report.read"}, "action"),
        ({"subject_id": "courier1"}, "subject_id"),
    ],
)
async def test_bad_filters_are_named(
    client: httpx.AsyncClient, login: LoginFn, params: dict[str, str], field: str
) -> None:
    response = await client.get(AUDIT_LOG, params=params, headers=await login("admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", field]


async def test_a_cancelled_subject_is_listed_under_the_tombstone(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    """A cancelled subject is listed under the tombstone: the log records that an access
    happened, and shows no more of the person than the rest of the service does."""
    admin = await login("admin")
    await client.get(f"/api/v1/users/{demo_id('user', 'grid1')}", headers=admin)
    await client.post(
        f"/api/v1/users/{demo_id('user', 'grid1')}/cancel",
        json={"reason": "本人申请"},
        headers=admin,
    )
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    items = (
        await client.get(
            AUDIT_LOG,
            params={"subject_id": str(demo_id("user", "grid1")), "from": since},
            headers=admin,
        )
    ).json()["items"]
    assert [(e["action"], e["subject"]["display_name"]) for e in items] == [
        ("account.cancel", "已注销用户"),
        ("user.read_unmasked", "已注销用户"),
    ]
    assert items[0]["detail"]["by"] == "administrator"
    assert items[0]["detail"]["reason"] == "本人申请"
