"""Who am I, who may I see, and what an admin may change."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import LoginFn

ROLES = {
    "admin": ("admin", None),
    "supervisor": ("supervisor", "region"),
    "staff1": ("community_staff", "community"),
    "staff2": ("community_staff", "community"),
    "grid1": ("grid_worker", "community"),
    "unit1": ("unit_staff", "unit"),
    "unit2": ("unit_staff", "unit"),
    "unit3": ("unit_staff", "unit"),
    "courier1": ("courier", "branch"),
    "courier2": ("courier", "branch"),
    "viewer": ("viewer", "region"),
}


@pytest.mark.parametrize(("username", "expected"), ROLES.items())
async def test_every_demo_account_signs_in_and_shows_its_role(
    client: httpx.AsyncClient, login: LoginFn, username: str, expected: tuple[str, str | None]
) -> None:
    me = (await client.get("/api/v1/me", headers=await login(username))).json()
    assert me["username"] == username
    role, scope_type = expected
    assert {"role": role, "scope_type": scope_type} in [
        {"role": r["role"], "scope_type": r["scope_type"]} for r in me["roles"]
    ]
    for grant in me["roles"]:
        assert (grant["scope_id"] is None) == (grant["scope_type"] is None)
        if grant["scope_type"]:
            assert grant["scope_name"]


async def test_staff1_and_staff2_serve_the_first_two_communities_by_name(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    from sqlalchemy import select

    from app.models import Community

    names = sorted((await session.scalars(select(Community.name))).all())
    for username, expected in (("staff1", names[0]), ("staff2", names[1])):
        me = (await client.get("/api/v1/me", headers=await login(username))).json()
        assert me["roles"][0]["scope_name"] == expected


async def test_my_phone_is_shown_in_full_to_me(client: httpx.AsyncClient, login: LoginFn) -> None:
    me = (await client.get("/api/v1/me", headers=await login("courier1"))).json()
    assert me["phone"]
    assert "*" not in me["phone"]


async def test_staff_see_their_own_community_people_with_masked_phones(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    page = await client.get("/api/v1/users?limit=200", headers=await login("staff1"))
    assert page.status_code == 200
    people = {u["username"]: u for u in page.json()["items"]}
    assert {"staff1", "grid1", "courier1", "courier2"} <= set(people)
    assert "staff2" not in people
    assert "unit3" not in people
    assert "*" in people["courier1"]["phone"]
    assert "*" not in people["staff1"]["phone"]  # their own


async def test_staff_of_another_community_cannot_look_up_community_1_people(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    grid1 = (await client.get("/api/v1/me", headers=await login("grid1"))).json()
    hidden = await client.get(f"/api/v1/users/{grid1['id']}", headers=await login("staff2"))
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "not_found"
    seen = await client.get(f"/api/v1/users/{grid1['id']}", headers=await login("staff1"))
    assert seen.status_code == 200


async def test_unit_staff_see_only_their_unit(client: httpx.AsyncClient, login: LoginFn) -> None:
    names = {
        u["username"]
        for u in (await client.get("/api/v1/users?limit=200", headers=await login("unit1"))).json()[
            "items"
        ]
    }
    assert "unit1" in names
    assert not names & {"unit2", "unit3", "staff1", "grid1", "courier1"}


async def test_supervisor_sees_the_region_and_admin_sees_phones(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    sup = await client.get("/api/v1/users?limit=200", headers=await login("supervisor"))
    names = {u["username"] for u in sup.json()["items"]}
    assert {"staff1", "staff2", "unit1", "unit3", "grid1"} <= names
    admin = await client.get("/api/v1/users?q=courier1", headers=await login("admin"))
    [courier] = [u for u in admin.json()["items"] if u["username"] == "courier1"]
    assert "*" not in courier["phone"]


async def test_couriers_have_no_directory(client: httpx.AsyncClient, login: LoginFn) -> None:
    response = await client.get("/api/v1/users", headers=await login("courier1"))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_directory_pages_with_a_cursor(client: httpx.AsyncClient, login: LoginFn) -> None:
    admin = await login("admin")
    seen: list[str] = []
    cursor = None
    while True:
        url = "/api/v1/users?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=admin)).json()
        seen += [u["username"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) >= 12
    bad = await client.get("/api/v1/users?cursor=not-a-cursor", headers=admin)
    assert bad.status_code == 422


async def test_admin_creates_a_user_with_a_scoped_role(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    staff1 = (await client.get("/api/v1/me", headers=await login("staff1"))).json()
    community_id = staff1["roles"][0]["scope_id"]
    created = await client.post(
        "/api/v1/users",
        json={
            "username": "staff1b",
            "display_name": "赵敏",
            "password": "a-good-password",
            "roles": [{"role": "community_staff", "scope_id": community_id}],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["roles"][0]["scope_id"] == community_id
    again = await client.post(
        "/api/v1/users",
        json={"username": "staff1b", "display_name": "x", "password": "a-good-password"},
        headers=admin,
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("role", "scope_id", "message"),
    [
        ("community_staff", None, "needs a community"),
        ("community_staff", "00000000-0000-0000-0000-000000000000", "no such community"),
        ("admin", "00000000-0000-0000-0000-000000000000", "has no scope"),
    ],
)
async def test_role_assignment_is_validated(
    client: httpx.AsyncClient, login: LoginFn, role: str, scope_id: str | None, message: str
) -> None:
    me = (await client.get("/api/v1/me", headers=await login("resident1"))).json()
    response = await client.post(
        f"/api/v1/users/{me['id']}/roles",
        json={"role": role, "scope_id": scope_id},
        headers=await login("admin"),
    )
    assert response.status_code == 422
    assert message in response.json()["errors"][0]["msg"]


async def test_only_admins_manage_users(client: httpx.AsyncClient, login: LoginFn) -> None:
    me = (await client.get("/api/v1/me", headers=await login("resident1"))).json()
    for username in ("supervisor", "staff1", "unit1"):
        response = await client.post(
            f"/api/v1/users/{me['id']}/roles",
            json={"role": "admin"},
            headers=await login(username),
        )
        assert response.status_code == 403


async def test_api_key_reads_as_a_region_viewer_and_can_be_revoked(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    supervisor = (await client.get("/api/v1/me", headers=await login("supervisor"))).json()
    region_id = supervisor["roles"][0]["scope_id"]
    created = await client.post(
        "/api/v1/api-keys", json={"name": "大屏", "region_id": region_id}, headers=admin
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("ssp_")
    headers = {"Authorization": f"Bearer {key}"}
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["roles"] == [
        {
            "id": None,
            "role": "viewer",
            "scope_type": "region",
            "scope_id": region_id,
            "scope_name": supervisor["roles"][0]["scope_name"],
        }
    ]
    assert (await client.get("/api/v1/categories", headers=headers)).status_code == 200
    # read-only: a key cannot change itself
    assert (
        await client.patch("/api/v1/me", json={"display_name": "x"}, headers=headers)
    ).status_code == 403
    listed = (await client.get("/api/v1/api-keys", headers=admin)).json()
    assert all("key" not in k and "key_hash" not in k for k in listed)
    revoked = await client.delete(f"/api/v1/api-keys/{created.json()['id']}", headers=admin)
    assert revoked.status_code == 200
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    tampered = {"Authorization": f"Bearer {key[:-2]}xx"}
    assert (await client.get("/api/v1/me", headers=tampered)).status_code == 401


async def test_api_key_for_unknown_region_is_422(client: httpx.AsyncClient, login: LoginFn) -> None:
    response = await client.post(
        "/api/v1/api-keys",
        json={"name": "x", "region_id": "00000000-0000-0000-0000-000000000000"},
        headers=await login("admin"),
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/me", "GET, PATCH"),  # two routes share the path
        ("DELETE", "/api/v1/me", "GET, PATCH"),
        ("GET", "/api/v1/auth/token", "POST"),
        ("PUT", "/api/v1/users/{user_id}", "GET, PATCH"),
    ],
)
async def test_a_wrong_method_names_every_method_of_the_path(
    client: httpx.AsyncClient, login: LoginFn, method: str, path: str, allowed: str
) -> None:
    me = (await client.get("/api/v1/me", headers=await login("admin"))).json()
    url = path.format(user_id=me["id"])
    response = await client.request(method, url, headers=await login("admin"))
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "method_not_allowed"
    assert allowed in problem["detail"]
