"""``GET /events/recent``: the latest events a caller may see, newest first, with the bodies the
stream sends — what the big screen's ticker shows before its stream brings anything."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import LoginFn
from tests.reports.conftest import (
    SubmitFn,
    community_centre,
)

URL = "/api/v1/events/recent"


async def _recent(client: httpx.AsyncClient, headers: dict[str, str], **query: Any) -> Any:
    response = await client.get(URL, params=query, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_each_caller_gets_the_latest_events_of_its_places(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn, session: AsyncSession
) -> None:
    east = (await submit("courier1")).json()
    toudaoqiao_point = await community_centre(session, "头道桥社区")
    far = await submit("courier6", lat=toudaoqiao_point[0], lng=toudaoqiao_point[1])
    assert far.status_code == 201, far.text
    staff1 = await login("staff1")
    accepted = await client.post(f"/api/v1/reports/{east['id']}/accept", json={}, headers=staff1)
    assert accepted.status_code == 200, accepted.text

    banner = await _recent(client, await login("supervisor"))
    assert [(e["type"], e["report"]["id"]) for e in banner[:3]] == [
        ("report.accept", east["id"]),
        ("report.submitted", far.json()["id"]),
        ("report.submitted", east["id"]),
    ]
    assert banner[0]["id"] > banner[1]["id"] > banner[2]["id"]
    assert banner[0]["report"]["number"] == east["number"]
    assert banner[0]["report"]["status"] == "accepted"

    # 陕坝镇's supervisor and 东街社区's staff do not see 头道桥社区's case; its courier only his.
    for user in ("supervisor2", "staff1", "courier1"):
        seen = {e["report"]["id"] for e in await _recent(client, await login(user))}
        assert seen == {east["id"]}, user
    toudaoqiao = {e["report"]["id"] for e in await _recent(client, await login("staff5"))}
    assert toudaoqiao == {far.json()["id"]}
    assert await _recent(client, await login("resident1")) == []
    assert len(await _recent(client, await login("supervisor"), limit=1)) == 1


async def test_the_number_asked_for_is_bounded(client: httpx.AsyncClient, login: LoginFn) -> None:
    headers = await login("supervisor")
    for limit in ("0", "101", "many"):
        response = await client.get(URL, params={"limit": limit}, headers=headers)
        assert response.status_code == 422, (limit, response.text)
        assert response.json()["errors"][0]["loc"] == ["query", "limit"]
    assert (await client.get(URL)).status_code == 401
