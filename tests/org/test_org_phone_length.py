"""A community's or a unit's phone number fits the column it is kept in (40 characters): a "+"
and 40 digits, which the pattern allows, is a 422 naming the field, on SQLite as on PostgreSQL
(which refused to store it: a 500), and nothing changes."""

from __future__ import annotations

import httpx
import pytest

from app.demo.seed import demo_id
from tests.conftest import LoginFn

EAST_STREET = demo_id("community", "陕坝镇", "东街社区")
LEAD_UNIT = demo_id("unit", "旗农牧和科技局")
TOO_LONG = "+" + "1" * 40
LONGEST = "+" + "1" * 39


@pytest.mark.parametrize(
    "url", [f"/api/v1/communities/{EAST_STREET}", f"/api/v1/units/{LEAD_UNIT}"]
)
async def test_a_phone_longer_than_its_column_is_refused(
    client: httpx.AsyncClient, login: LoginFn, url: str
) -> None:
    admin = await login("admin")
    before = (await client.get(url, headers=admin)).json()
    refused = await client.patch(url, json={"phone": TOO_LONG}, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["body", "phone"]
    assert (await client.get(url, headers=admin)).json()["phone"] == before["phone"]

    kept = await client.patch(url, json={"phone": LONGEST}, headers=admin)
    assert kept.status_code == 200, kept.text
    assert (await client.get(url, headers=admin)).json()["phone"] == LONGEST
