"""Account cancellation (账号注销): by the person with their password, or by an administrator on
request. Personal fields erased, cases kept without the name, every way in closed, the points
ledger closed, the username never given out again; twice is harmless."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import demo_id
from app.models import AuthSession, CheckIn, PointsEntry, RoleAssignment, User, Webhook
from app.models.enums import CheckInStatus
from tests.conftest import DEMO_PASSWORD, LoginFn
from tests.privacy.conftest import ActFn, FileFn, audit_rows, close_in_house

CANCEL_ME = "/api/v1/me/cancel"


def cancel_url(username: str) -> str:
    return f"/api/v1/users/{demo_id('user', username)}/cancel"


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def without_request(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k not in ("request_id", "instance")}


async def test_a_reporter_cancels_and_their_case_stays_without_their_name(
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    file_report: FileFn,
    act: ActFn,
) -> None:
    courier = await session.get_one(User, demo_id("user", "courier1"))
    courier_id, name, phone = courier.id, courier.display_name, courier.phone
    assert phone
    report = await file_report("courier1")
    await act("staff1", report["id"], "accept")
    commented = await client.post(
        f"/api/v1/reports/{report['id']}/comments",
        json={"body": "车还在"},
        headers=await login("courier1"),
    )
    assert commented.status_code == 201
    tokens = (await sign_in(client, "courier1")).json()

    response = await client.post(
        CANCEL_ME,
        json={"password": DEMO_PASSWORD, "reason": "换了工作"},
        headers=bearer(tokens),
    )
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["user_id"] == str(courier_id)
    assert receipt["already_cancelled"] is False
    assert receipt["roles_removed"] == 1
    assert receipt["sessions_revoked"] == 2  # the fixture's sign-in and this test's
    assert receipt["check_ins_ended"] == 2
    assert receipt["points_forfeited"] == 10
    assert receipt["reports_kept"] == 1

    # Every way in is closed at once.
    for headers in (bearer(tokens), await login("courier1")):
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    renewed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert renewed.status_code == 401
    # Signing in is refused with the answer a wrong password gets.
    refused, wrong = await sign_in(client, "courier1"), await sign_in(client, "courier2", "x" * 9)
    assert refused.status_code == wrong.status_code == 401
    assert without_request(refused.json()) == without_request(wrong.json())

    # The case is kept; staff see who filed it only as a cancelled account.
    seen = await client.get(f"/api/v1/reports/{report['id']}", headers=await login("staff1"))
    assert seen.status_code == 200
    assert seen.json()["reporter"] == {
        "id": str(courier_id),
        "display_name": "已注销用户",
        "phone": None,
    }
    assert seen.json()["description"] == report["description"]
    timeline = await client.get(
        f"/api/v1/reports/{report['id']}/timeline", headers=await login("staff1")
    )
    assert "车还在" in timeline.text
    for answer in (seen, timeline):
        assert name not in answer.text
        assert phone not in answer.text
        assert "courier1" not in answer.text
    admin_view = await client.get(f"/api/v1/users/{courier_id}", headers=await login("admin"))
    user = admin_view.json()
    assert user["display_name"] == "已注销用户"
    assert user["phone"] is None
    assert user["username"] == f"cancelled#{courier_id.hex}"
    assert user["is_active"] is False
    assert user["cancelled_at"] == receipt["cancelled_at"]
    assert user["roles"] == []

    session.expire_all()
    check_ins = (
        await session.scalars(select(CheckIn).where(CheckIn.courier_id == courier_id))
    ).all()
    assert {c.status for c in check_ins} == {CheckInStatus.ended}
    assert (
        await session.scalar(
            select(func.count()).where(
                AuthSession.user_id == courier_id, AuthSession.revoked_at.is_(None)
            )
        )
        == 0
    )

    # The ledger is closed: zero, and closing the case pays no bonus to nobody.
    await close_in_house(act, "staff1", report["id"])
    entries = (
        await session.scalars(
            select(PointsEntry)
            .where(PointsEntry.user_id == courier_id)
            .order_by(PointsEntry.created_at)
            .execution_options(populate_existing=True)
        )
    ).all()
    assert [(e.rule, e.points, e.report_id is None) for e in entries] == [
        ("accepted", 10, False),
        ("account_closed", -10, True),
    ]

    [row] = await audit_rows(session, action="account.cancel")
    assert (row.actor_id, row.subject_id) == (courier_id, courier_id)
    assert row.detail["by"] == "self"
    assert row.detail["reason"] == "换了工作"
    assert row.detail["points_forfeited"] == 10


@pytest.mark.parametrize("taken", ["courier1", "Courier1", " courier1"])
async def test_the_former_username_cannot_be_taken_again(
    client: httpx.AsyncClient, login: LoginFn, taken: str
) -> None:
    cancelled = await client.post(
        CANCEL_ME, json={"password": DEMO_PASSWORD}, headers=await login("courier1")
    )
    assert cancelled.status_code == 200
    body = {"username": taken.strip(), "display_name": "孙浩", "password": "another-password"}
    registered = await client.post("/api/v1/auth/register", json=body)
    assert registered.status_code == 409, registered.text
    created = await client.post("/api/v1/users", json=body, headers=await login("admin"))
    assert created.status_code == 409
    # Nor can anyone sign in as the old name, with the old password or the new one.
    for password in (DEMO_PASSWORD, "another-password"):
        assert (await sign_in(client, taken, password)).status_code == 401
    # Another name is free as ever.
    other = {**body, "username": "courier1a"}
    assert (await client.post("/api/v1/auth/register", json=other)).status_code == 201


async def test_a_wrong_password_cancels_nothing(client: httpx.AsyncClient, login: LoginFn) -> None:
    headers = await login("resident1")
    response = await client.post(CANCEL_ME, json={"password": "not-my-password"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "password"]
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["cancelled_at"] is None
    assert (await client.post(CANCEL_ME, json={}, headers=headers)).status_code == 422


async def test_an_administrator_cancels_on_request_and_twice_is_harmless(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    admin = await login("admin")
    grid = demo_id("user", "grid1")
    grid_headers = await login("grid1")
    first = await client.post(
        cancel_url("grid1"), json={"reason": "本人书面申请注销"}, headers=admin
    )
    assert first.status_code == 200, first.text
    assert first.json()["already_cancelled"] is False
    assert first.json()["roles_removed"] == 1
    assert (await client.get("/api/v1/me", headers=grid_headers)).status_code == 401

    again = await client.post(cancel_url("grid1"), json={"reason": "重复提交"}, headers=admin)
    assert again.status_code == 200
    receipt = again.json()
    assert receipt["already_cancelled"] is True
    assert receipt["cancelled_at"] == first.json()["cancelled_at"]
    assert [receipt[k] for k in ("roles_removed", "sessions_revoked", "check_ins_ended")] == [0] * 3
    assert receipt["points_forfeited"] == 0
    session.expire_all()
    closing = await session.scalar(
        select(func.count()).where(
            PointsEntry.user_id == grid, PointsEntry.rule == "account_closed"
        )
    )
    assert closing == 1

    rows = await audit_rows(session, subject_id=grid)
    assert [(r.action, r.actor_id, r.detail["reason"]) for r in rows] == [
        ("account.cancel", demo_id("user", "admin"), "本人书面申请注销"),
        ("account.cancel", demo_id("user", "admin"), "重复提交"),
    ]
    assert [r.detail["already_cancelled"] for r in rows] == [False, True]

    # The tombstone stays as it was left.
    revived = await client.patch(
        f"/api/v1/users/{grid}",
        json={"is_active": True, "password": "a-new-password"},
        headers=admin,
    )
    assert revived.status_code == 409
    assert revived.json()["code"] == "account_cancelled"
    role = await client.post(
        f"/api/v1/users/{grid}/roles", json={"role": "reporter"}, headers=admin
    )
    assert role.status_code == 409
    assert await session.scalar(select(func.count()).where(RoleAssignment.user_id == grid)) == 0


async def test_nobody_but_an_administrator_cancels_someone_else(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    for username in ("staff1", "supervisor", "courier2", "resident1"):
        response = await client.post(
            cancel_url("courier1"), json={"reason": "想注销他"}, headers=await login(username)
        )
        assert response.status_code == 403, username
    assert (await client.post(cancel_url("courier1"), json={"reason": "x"})).status_code == 401
    assert (await client.get("/api/v1/me", headers=await login("courier1"))).status_code == 200

    admin = await login("admin")
    missing = await client.post(
        f"/api/v1/users/{uuid.uuid4()}/cancel", json={"reason": "x"}, headers=admin
    )
    assert missing.status_code == 404
    no_reason = await client.post(cancel_url("courier1"), json={"reason": ""}, headers=admin)
    assert no_reason.status_code == 422


async def make_second_admin(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    """admin2 (password ``admin2-password``), an active administrator besides ``admin``."""
    second = await client.post(
        "/api/v1/users",
        json={
            "username": "admin2",
            "display_name": "第二管理员",
            "password": "admin2-password",
            "roles": [{"role": "admin"}],
        },
        headers=admin,
    )
    assert second.status_code == 201, second.text
    body: dict[str, Any] = second.json()
    return body


async def test_the_last_administrator_cannot_be_cancelled(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    alone = await client.post(CANCEL_ME, json={"password": DEMO_PASSWORD}, headers=admin)
    assert alone.status_code == 409
    assert alone.json()["code"] == "last_administrator"
    assert (await client.get("/api/v1/me", headers=admin)).status_code == 200

    second = await make_second_admin(client, admin)
    done = await client.post(CANCEL_ME, json={"password": DEMO_PASSWORD}, headers=admin)
    assert done.status_code == 200
    # Now admin2 is the last one.
    admin2 = bearer((await sign_in(client, "admin2", "admin2-password")).json())
    last = await client.post(
        f"/api/v1/users/{second['id']}/cancel", json={"reason": "x"}, headers=admin2
    )
    assert last.status_code == 409


async def test_the_accounts_keys_and_webhooks_stop(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    admin = await login("admin")
    made = await client.post(
        "/api/v1/users",
        json={
            "username": "ops.zhang",
            "display_name": "张运维",
            "phone": "13900001111",
            "password": "ops-password",
            "roles": [{"role": "admin"}],
        },
        headers=admin,
    )
    ops_id = uuid.UUID(made.json()["id"])
    ops = bearer((await sign_in(client, "ops.zhang", "ops-password")).json())
    key = await client.post(
        "/api/v1/api-keys",
        json={"name": "大屏", "region_id": str(demo_id("region", "杭锦后旗"))},
        headers=ops,
    )
    dashboard = {"Authorization": f"Bearer {key.json()['key']}"}
    assert (await client.get("/api/v1/me", headers=dashboard)).status_code == 200
    hook = Webhook(
        url="https://hooks.suishoupai.cn/ops",
        secret="s" * 32,
        events=["report.*"],
        created_by_id=ops_id,
    )
    session.add(hook)
    await session.commit()

    receipt = await client.post(
        f"/api/v1/users/{ops_id}/cancel", json={"reason": "离职"}, headers=admin
    )
    assert receipt.status_code == 200
    assert (receipt.json()["api_keys_revoked"], receipt.json()["webhooks_disabled"]) == (1, 1)
    assert (await client.get("/api/v1/me", headers=dashboard)).status_code == 401
    assert (await client.get("/api/v1/me", headers=ops)).status_code == 401
    await session.refresh(hook)
    assert hook.is_active is False
    listed = await client.get("/api/v1/users", params={"q": "张运维"}, headers=admin)
    assert listed.json()["items"] == []
