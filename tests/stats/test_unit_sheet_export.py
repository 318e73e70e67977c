"""The unit sheet as a file (`GET /stats/units/export`): the rows of `GET /stats/units`, the
same for CSV and Excel, with Chinese headers; a unit's staff get their own unit's row."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import openpyxl
import pytest

from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn, submit  # noqa: F401

UNIT1 = str(demo_id("unit", "旗农牧和科技局"))
UNIT2 = str(demo_id("unit", "旗红十字会"))


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def whistled(client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn) -> None:  # noqa: F811
    """A case of 东街 whistled to unit1 (which accepts) and unit2 (which declines)."""
    staff, unit1, unit2 = await login("staff1"), await login("unit1"), await login("unit2")
    filed = await submit("courier1")
    assert filed.status_code == 201, filed.text
    report_id = filed.json()["id"]
    ok(await client.post(f"/api/v1/reports/{report_id}/accept", json={}, headers=staff))
    jobs = ok(
        await client.post(
            f"/api/v1/reports/{report_id}/whistle",
            json={"unit_ids": [UNIT1, UNIT2]},
            headers=staff,
        )
    )["jobs"]
    job_of = {job["unit"]["id"]: job["id"] for job in jobs}
    ok(await client.post(f"/api/v1/jobs/{job_of[UNIT1]}/accept", json={}, headers=unit1))
    ok(
        await client.post(
            f"/api/v1/jobs/{job_of[UNIT2]}/decline",
            json={"reason_code": "wrong_area", "reason": "不在辖区"},
            headers=unit2,
        )
    )


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _xlsx(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(map(str, header), row, strict=True)) for row in rows]


@pytest.mark.usefixtures("whistled")
async def test_the_file_holds_the_sheets_rows(client: httpx.AsyncClient, login: LoginFn) -> None:
    supervisor = await login("supervisor")
    sheet = ok(await client.get("/api/v1/stats/units", headers=supervisor))["items"]
    by_name = {row["name"]: row for row in sheet}
    url = "/api/v1/stats/units/export"
    as_csv = {row["单位"]: row for row in _csv(await client.get(url, headers=supervisor))}
    as_xlsx = {
        row["单位"]: row
        for row in _xlsx(await client.get(f"{url}?format=xlsx", headers=supervisor))
    }
    assert set(as_csv) == set(as_xlsx) == set(by_name)  # every unit, those with no work too
    lead, declining = as_xlsx["旗农牧和科技局"], as_xlsx["旗红十字会"]
    assert (lead["收到派单"], lead["接单"], lead["退单"]) == (1, 1, 0)
    assert (declining["收到派单"], declining["退单"], declining["退单：属地不符"]) == (1, 1, 1)
    assert declining["退单率"] == by_name["旗红十字会"]["decline_rate"] == 1.0
    assert as_csv["旗红十字会"]["退单：属地不符"] == "1"


@pytest.mark.usefixtures("whistled")
async def test_a_units_staff_get_their_own_row(client: httpx.AsyncClient, login: LoginFn) -> None:
    rows = _csv(await client.get("/api/v1/stats/units/export", headers=await login("unit2")))
    assert [(row["单位"], row["退单"]) for row in rows] == [("旗红十字会", "1")]


async def test_an_unknown_format_is_refused(client: httpx.AsyncClient, login: LoginFn) -> None:
    answer = await client.get(
        "/api/v1/stats/units/export?format=pdf", headers=await login("supervisor")
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["query", "format"]
