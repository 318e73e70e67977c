"""Marking a report as a duplicate (重复) links it to an earlier case of the same community,
among the cases the caller may see: one elsewhere reads as absent, not as "of another
community", so the answer tells nothing about cases beyond the caller's reach."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import LoginFn
from tests.integrations.conftest import NORTH_STREET, community_point
from tests.jobs.conftest import ok
from tests.reports.conftest import SubmitFn


def _refusal(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "duplicate_of"]
    return str(error["msg"])


async def test_the_original_is_looked_for_among_the_cases_the_caller_sees(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn, session: AsyncSession
) -> None:
    east_first = (await submit("courier1")).json()["id"]
    east_again = (await submit("courier2")).json()["id"]
    lat, lng = await community_point(session, NORTH_STREET)
    north = (await submit("resident1", lat=lat, lng=lng)).json()["id"]
    url = f"/api/v1/reports/{east_again}/mark-duplicate"
    staff = await login("staff1")

    absent = _refusal(
        await client.post(url, json={"duplicate_of": str(uuid.uuid4())}, headers=staff)
    )
    elsewhere = _refusal(await client.post(url, json={"duplicate_of": north}, headers=staff))
    assert elsewhere == absent == "no such report"
    # The banner's supervisor sees both communities: for them it is a case of another one.
    supervisor = await login("supervisor")
    foreign = _refusal(await client.post(url, json={"duplicate_of": north}, headers=supervisor))
    assert "same community" in foreign

    marked = ok(await client.post(url, json={"duplicate_of": east_first}, headers=staff))
    assert marked["status"] == "duplicate"
    assert marked["duplicate_of"] == east_first
