"""Transfer (转派): a report goes to another community of its county and keeps its filing time;
a community of another county, a missing one or its own is refused (422 naming the field) and
changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.jobs.conftest import ok, ok_list
from tests.reports.conftest import SubmitFn

CITY = demo_id("region", "巴彦淖尔市")
EAST = demo_id("community", "陕坝镇", "东街社区")
NORTH = demo_id("community", "陕坝镇", "北街社区")
REASON = "位置属于北街社区"


async def _far_community(client: httpx.AsyncClient, admin: dict[str, str]) -> str:
    """A community of 磴口县, another county of the city."""

    async def created(path: str, body: dict[str, Any]) -> str:
        response = await client.post(path, json=body, headers=admin)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    county = await created("/api/v1/regions", {"name": "磴口县", "parent_id": str(CITY)})
    township = await created("/api/v1/regions", {"name": "巴彦高勒镇", "parent_id": county})
    return await created("/api/v1/communities", {"name": "东风社区", "region_id": township})


async def test_a_report_moves_within_its_county_and_keeps_its_filing_time(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    filed = (await submit("courier1")).json()
    url = f"/api/v1/reports/{filed['id']}"
    assert filed["community"]["id"] == str(EAST)
    moved = ok(
        await client.post(
            f"{url}/transfer",
            json={"community_id": str(NORTH), "reason": REASON},
            headers=await login("staff1"),
        )
    )
    assert moved["status"] == "submitted"
    assert moved["community"]["id"] == str(NORTH)
    assert moved["created_at"] == filed["created_at"]

    # 北街社区's staff find it in their inbox; the timeline says where it came from.
    north = await login("staff2")
    listed = ok(await client.get("/api/v1/reports?status=submitted", headers=north))
    assert filed["id"] in {item["id"] for item in listed["items"]}
    timeline = ok_list(await client.get(f"{url}/timeline", headers=north))
    assert timeline[-1]["type"] == "transfer"

    # The day's count of reports filed moved with it.
    supervisor = await login("supervisor")
    for community, expected in ((EAST, 0), (NORTH, 1)):
        series = ok(
            await client.get(
                "/api/v1/stats/timeseries",
                params={"interval": "day", "metric": "submitted", "community_id": str(community)},
                headers=supervisor,
            )
        )
        assert sum(point["count"] for point in series["items"]) == expected, community


async def test_a_report_does_not_go_to_another_county_or_nowhere(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    far = await _far_community(client, await login("admin"))
    filed = (await submit("courier1")).json()
    url = f"/api/v1/reports/{filed['id']}"
    for username, community in (
        ("staff1", far),  # another county
        ("supervisor", far),  # the banner's supervisor does not supervise 磴口县
        ("staff1", "00000000-0000-4000-8000-000000000000"),  # no such community
        ("staff1", str(EAST)),  # where it is
    ):
        refused = await client.post(
            f"{url}/transfer",
            json={"community_id": community, "reason": REASON},
            headers=await login(username),
        )
        assert refused.status_code == 422, (username, community, refused.text)
        assert refused.json()["errors"][0]["loc"] == ["body", "community_id"], refused.text
    case = ok(await client.get(url, headers=await login("staff1")))
    assert case["community"]["id"] == str(EAST)
    assert case["version"] == filed["version"]
