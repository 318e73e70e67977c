"""Comments written at the same moment all land, each with its own place in the timeline."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn


async def test_ten_comments_at_once_all_land(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    report_id = (await submit("courier1")).json()["id"]
    url = f"/api/v1/reports/{report_id}/comments"
    staff, reporter = await login("staff1"), await login("courier1")
    bodies = [f"第{n}条留言" for n in range(10)]
    answers = await asyncio.gather(
        *(
            client.post(url, json={"body": body}, headers=staff if n % 2 else reporter)
            for n, body in enumerate(bodies)
        )
    )
    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
    seqs = [a.json()["seq"] for a in answers]
    assert sorted(seqs) == list(range(2, 12))  # after "submitted", one place each

    timeline = (await client.get(f"/api/v1/reports/{report_id}/timeline", headers=staff)).json()
    comments = [e for e in timeline if e["type"] == "comment"]
    assert sorted(e["note"] for e in comments) == sorted(bodies)
    assert [e["seq"] for e in timeline] == list(range(1, 12))
    assert {e["id"]: e["seq"] for e in comments} == {
        a.json()["id"]: a.json()["seq"] for a in answers
    }
    by_role = {e["note"]: e["actor_role"] for e in comments}
    assert by_role == {
        body: "community_staff" if n % 2 else "courier" for n, body in enumerate(bodies)
    }


async def test_comments_and_a_case_action_at_once_all_land(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    report_id = (await submit("courier1")).json()["id"]
    staff = await login("staff1")
    comments = [
        client.post(
            f"/api/v1/reports/{report_id}/comments",
            json={"body": f"备注{n}", "internal": True},
            headers=staff,
        )
        for n in range(5)
    ]
    accept = client.post(
        f"/api/v1/reports/{report_id}/accept", json={}, headers=await login("supervisor")
    )
    *answers, accepted = await asyncio.gather(*comments, accept)
    assert [a.status_code for a in answers] == [201] * 5, [a.text for a in answers]
    assert accepted.status_code == 200, accepted.text
    timeline = (await client.get(f"/api/v1/reports/{report_id}/timeline", headers=staff)).json()
    assert sorted(e["type"] for e in timeline) == ["accept", *["comment"] * 5, "submitted"]
    assert [e["seq"] for e in timeline] == list(range(1, 8))
