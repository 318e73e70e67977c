"""Escalating (上报) hands a case to the region above: its supervisors take it over, and the
community and the township it happened in keep it in sight — to read, from the inside, not to
act on as its owner any more."""

from __future__ import annotations

import httpx

from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.jobs.conftest import ok, ok_list
from tests.reports.conftest import SubmitFn
from tests.workflow.test_acting_roles import TUANJIE, grant

BANNER = demo_id("region", "杭锦后旗")


async def _ids(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    listed = ok(await client.get("/api/v1/reports?limit=100", headers=headers))
    return {item["id"] for item in listed["items"]}


async def test_the_township_keeps_an_escalated_case_in_sight_but_the_banner_owns_it(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    report_id = (await submit("courier1")).json()["id"]
    url = f"/api/v1/reports/{report_id}"
    ok(await client.post(f"{url}/accept", json={}, headers=await login("staff1")))
    township = await login("supervisor2")  # 陕坝镇, where 东街社区 is
    escalated = ok(
        await client.post(f"{url}/escalate", json={"reason": "需要旗级协调"}, headers=township)
    )
    assert escalated["region"]["id"] == str(BANNER)

    for username in ("supervisor2", "staff1", "supervisor"):
        headers = await login(username)
        assert report_id in await _ids(client, headers), username
        case = ok(await client.get(url, headers=headers))
        assert case["reporter"]["display_name"], username  # seen from the inside
        timeline = ok_list(await client.get(f"{url}/timeline", headers=headers))
        assert [e["type"] for e in timeline][-1] == "escalate"
        assert timeline[-1]["actor"] is not None, username

    # Putting it on hold is now the banner's decision, not the township's.
    refused = await client.post(f"{url}/hold", json={"reason": "冬季停工"}, headers=township)
    assert refused.status_code == 403, refused.text
    held = await client.post(
        f"{url}/hold", json={"reason": "冬季停工"}, headers=await login("supervisor")
    )
    assert held.status_code == 200, held.text

    # A supervisor of another township sees nothing of it.
    await grant(client, login, "resident1", "supervisor", TUANJIE)
    other = await client.get(url, headers=await login("resident1"))
    assert other.status_code == 404, other.text
