"""GET /me/export: a copy of the caller's own personal data, as an attachment, on record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import demo_id
from app.models import ApiKey, RefreshToken, User, Webhook
from tests.conftest import LoginFn
from tests.privacy.conftest import ActFn, FileFn, audit_rows

EXPORT = "/api/v1/me/export"


async def test_a_reporter_gets_every_part_of_their_data(
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    file_report: FileFn,
    act: ActFn,
) -> None:
    report = await file_report("courier1", description="东街巷口乱停车，挡住了消防通道")
    await act("staff1", report["id"], "accept")
    comment = await client.post(
        f"/api/v1/reports/{report['id']}/comments",
        json={"body": "车还在，下午三点拍的"},
        headers=await login("courier1"),
    )
    assert comment.status_code == 201, comment.text
    note = await client.post(
        f"/api/v1/reports/{report['id']}/comments",
        json={"body": "车主是邻居老王，先电话劝离", "internal": True},
        headers=await login("staff1"),
    )
    assert note.status_code == 201, note.text

    before = datetime.now(UTC)
    response = await client.get(EXPORT, headers=await login("courier1"))
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="suishoupai-personal-data-courier1-' in disposition
    assert disposition.endswith('.json"')
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["format"] == "suishoupai.personal-data.v1"
    generated = datetime.fromisoformat(data["generated_at"])
    assert before - timedelta(seconds=1) <= generated <= datetime.now(UTC)

    courier = await session.get_one(User, demo_id("user", "courier1"))
    profile = data["profile"]
    assert (profile["id"], profile["username"]) == (str(courier.id), "courier1")
    assert profile["display_name"] == "孙浩"
    assert profile["phone"] == courier.phone
    assert "*" not in profile["phone"]

    assert [(r["role"], r["scope_type"]) for r in data["roles"]] == [("courier", "branch")]
    assert data["roles"][0]["scope_name"]
    assert data["sessions"], "the sign-in of this test"
    assert data["sessions"][0]["user_agent"].startswith("python-httpx")
    assert data["sessions"][0]["revoked_at"] is None
    assert sorted((c["community"]["name"], c["status"]) for c in data["check_ins"]) == [
        ("东街社区", "approved"),
        ("南街社区", "approved"),
    ]

    [filed] = data["reports"]
    assert filed["number"] == report["number"]
    assert filed["description"] == "东街巷口乱停车，挡住了消防通道"
    assert filed["status"] == "accepted"
    assert filed["location"] == report["location"]
    assert filed["community"]["name"] == "东街社区"
    [photo] = filed["photos"]
    # A file kept for later: the bearer form, which does not expire.
    assert photo["url"] == f"/api/v1/photos/{report['photos'][0]['id']}"
    assert photo["original_filename"] == "IMG_0042.jpg"
    image = await client.get(photo["url"], headers=await login("courier1"))
    assert image.status_code == 200
    assert image.headers["content-type"].startswith("image/")

    # Their own comment; the staff's internal note is the organisation's, not theirs.
    assert [(c["report"]["number"], c["body"]) for c in data["comments"]] == [
        (report["number"], "车还在，下午三点拍的")
    ]
    assert "老王" not in response.text
    assert data["ratings"] == []
    assert data["points"]["balance"] == 10
    assert [(e["rule"], e["points"], e["report"]["number"]) for e in data["points"]["entries"]] == [
        ("accepted", 10, report["number"])
    ]
    assert data["webhooks"] == []
    assert data["api_keys"] == []


async def test_keys_and_webhooks_are_listed_without_their_secrets(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    admin = await login("admin")
    created = await client.post(
        "/api/v1/api-keys",
        json={"name": "数据大屏", "region_id": str(demo_id("region", "杭锦后旗"))},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    key_secret = created.json()["key"]
    hook = Webhook(
        url="https://hooks.suishoupai.cn/admin",
        secret="webhook-signing-secret-0123456789abcdef",
        events=["report.*"],
        created_by_id=demo_id("user", "admin"),
    )
    session.add(hook)
    await session.commit()

    response = await client.get(EXPORT, headers=admin)
    assert response.status_code == 200, response.text
    data = response.json()
    [key] = data["api_keys"]
    assert (key["name"], key["prefix"], key["region"]["name"]) == (
        "数据大屏",
        created.json()["prefix"],
        "杭锦后旗",
    )
    [exported_hook] = data["webhooks"]
    assert exported_hook["url"] == "https://hooks.suishoupai.cn/admin"
    assert exported_hook["active"] is True
    stored_key = await session.scalar(select(ApiKey).where(ApiKey.id == uuid.UUID(key["id"])))
    assert stored_key is not None
    token_hashes = (await session.scalars(select(RefreshToken.token_hash))).all()
    admin_row = await session.get_one(User, demo_id("user", "admin"))
    for secret in (key_secret, stored_key.key_hash, hook.secret, admin_row.password_hash):
        assert secret not in response.text
    assert not any(token_hash in response.text for token_hash in token_hashes)


async def test_each_export_is_on_record_and_listed_in_the_next(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    courier = await login("courier2")
    courier_id = demo_id("user", "courier2")
    first = await client.get(EXPORT, headers={**courier, "X-Request-ID": "export-one"})
    assert first.status_code == 200
    assert first.json()["accesses"] == []

    [row] = await audit_rows(session, subject_id=courier_id)
    assert row.action == "personal_data.export"
    assert row.actor_id == courier_id
    assert row.request_id == "export-one"
    assert row.client_address
    assert row.detail == {"reports": 0, "sessions": 1}

    second = (await client.get(EXPORT, headers=courier)).json()
    assert [(a["action"], a["by_self"]) for a in second["accesses"]] == [
        ("personal_data.export", True)
    ]
    logged = await client.get(
        "/api/v1/admin/audit-log",
        params={"subject_id": str(courier_id)},
        headers=await login("admin"),
    )
    assert [(e["action"], e["actor"]["username"]) for e in logged.json()["items"]] == [
        ("personal_data.export", "courier2"),
        ("personal_data.export", "courier2"),
    ]


async def test_the_export_is_only_ever_the_callers_own(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, file_report: FileFn
) -> None:
    await file_report("courier1", description="courier1 的案件")
    other = await client.get(EXPORT, headers=await login("courier2"))
    assert other.status_code == 200
    assert other.json()["profile"]["username"] == "courier2"
    assert other.json()["reports"] == []
    assert "courier1" not in other.text
    # There is no way to name someone else: the caller is the subject.
    with_id = await client.get(
        EXPORT,
        params={"user_id": str(demo_id("user", "courier1"))},
        headers=await login("courier2"),
    )
    assert with_id.json()["profile"]["username"] == "courier2"
    assert all(
        row.actor_id == row.subject_id == demo_id("user", "courier2")
        for row in await audit_rows(session, action="personal_data.export")
    )


async def test_an_export_needs_a_signed_in_person(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    assert (await client.get(EXPORT)).status_code == 401
    created = await client.post(
        "/api/v1/api-keys",
        json={"name": "大屏", "region_id": str(demo_id("region", "杭锦后旗"))},
        headers=await login("admin"),
    )
    key = created.json()["key"]
    refused = await client.get(EXPORT, headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
