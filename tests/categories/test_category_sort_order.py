"""A category's sort order is a number the database holds: one beyond a 32-bit integer is a
422 naming the field, on SQLite as on PostgreSQL (which refused the write with a 500), and the
category is left as it was."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LoginFn

NEW_CATEGORY = {
    "code": "broken_swing",
    "name": "秋千损坏",
    "name_en": "Broken swing",
    "kind": "event",
    "accept_within_hours": 4,
    "resolve_within_hours": 24,
}


@pytest.mark.parametrize("sort_order", [2**31, -(2**31) - 1, 2**40])
async def test_a_sort_order_beyond_the_column_is_refused(
    client: httpx.AsyncClient, login: LoginFn, sort_order: int
) -> None:
    admin = await login("admin")
    before = (await client.get("/api/v1/categories/road_damage", headers=admin)).json()

    changed = await client.patch(
        "/api/v1/categories/road_damage", json={"sort_order": sort_order}, headers=admin
    )
    created = await client.post(
        "/api/v1/categories", json={**NEW_CATEGORY, "sort_order": sort_order}, headers=admin
    )
    for refused in (changed, created):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["loc"] == ["body", "sort_order"]
    assert (await client.get("/api/v1/categories/road_damage", headers=admin)).json() == before
    missing = await client.get("/api/v1/categories/broken_swing", headers=admin)
    assert missing.status_code == 404


async def test_the_largest_sort_order_is_kept(client: httpx.AsyncClient, login: LoginFn) -> None:
    admin = await login("admin")
    changed = await client.patch(
        "/api/v1/categories/road_damage", json={"sort_order": 2**31 - 1}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["sort_order"] == 2**31 - 1
    created = await client.post(
        "/api/v1/categories", json={**NEW_CATEGORY, "sort_order": -(2**31)}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert created.json()["sort_order"] == -(2**31)
