"""HEAD of a report: the GET's headers, the same access control, no body."""

from __future__ import annotations

import httpx

from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn


async def test_head_of_an_api_resource_keeps_its_etag_and_its_access_control(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    report_id = (await submit("courier1")).json()["id"]
    staff = await login("staff1")
    get = await client.get(f"/api/v1/reports/{report_id}", headers=staff)
    head = await client.head(f"/api/v1/reports/{report_id}", headers=staff)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]

    assert (await client.head(f"/api/v1/reports/{report_id}")).status_code == 401
    courier = await login("courier2")
    assert (await client.head(f"/api/v1/reports/{report_id}", headers=courier)).status_code == 404
