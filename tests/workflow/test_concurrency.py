"""Two people acting on one case at the same moment: exactly one wins; the other is told so
(409 or 412) and the case shows only the winner's change."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn


@pytest.mark.parametrize("attempt", range(3))
async def test_accept_and_reject_at_once(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn, attempt: int
) -> None:
    report = (await submit("courier1")).json()
    rid = report["id"]
    staff, supervisor = await login("staff1"), await login("supervisor")
    accept, reject = await asyncio.gather(
        client.post(f"/api/v1/reports/{rid}/accept", json={}, headers=staff),
        client.post(f"/api/v1/reports/{rid}/reject", json={"reason": "不属实"}, headers=supervisor),
    )
    statuses = sorted([accept.status_code, reject.status_code])
    assert statuses[0] == 200
    assert statuses[1] in (409, 412), (accept.text, reject.text)
    loser = reject if reject.status_code != 200 else accept
    assert loser.json()["code"] in ("invalid_transition", "precondition_failed")

    final = (await client.get(f"/api/v1/reports/{rid}", headers=staff)).json()
    winner = "accepted" if accept.status_code == 200 else "rejected"
    assert final["status"] == winner
    assert final["version"] == 2
    timeline = (await client.get(f"/api/v1/reports/{rid}/timeline", headers=staff)).json()
    assert [e["type"] for e in timeline] == [
        "submitted",
        "accept" if winner == "accepted" else "reject",
    ]


async def test_the_same_if_match_twice_lets_only_one_through(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    rid = (await submit("courier1")).json()["id"]
    staff = {**(await login("staff1")), "If-Match": f'"{rid}-v1"'}
    supervisor = {**(await login("supervisor")), "If-Match": f'"{rid}-v1"'}
    first, second = await asyncio.gather(
        client.post(f"/api/v1/reports/{rid}/accept", json={"priority": "high"}, headers=staff),
        client.post(f"/api/v1/reports/{rid}/accept", json={"priority": "low"}, headers=supervisor),
    )
    assert sorted([first.status_code, second.status_code])[0] == 200
    assert sorted([first.status_code, second.status_code])[1] in (409, 412)
    final = (await client.get(f"/api/v1/reports/{rid}", headers=await login("staff1"))).json()
    assert final["version"] == 2
    winner = first if first.status_code == 200 else second
    assert final["priority"] == winner.json()["priority"]
