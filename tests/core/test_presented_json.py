"""The hot reads write their answers straight from plain values (app/core/responses.py): what a
client receives must be, key for key and value for value, what the response model would have
written — the same field names, nothing missing, nothing extra, numbers of the same kind."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from pydantic import BaseModel

from app.jobs.schemas import JobRead
from app.reports.schemas import ReportRead
from tests.conftest import LoginFn
from tests.reports.test_read_statement_count import cases  # noqa: F401  (the fixture)


def assert_as_the_model_writes(model: type[BaseModel], answer: dict[str, Any]) -> None:
    assert model.model_validate(answer).model_dump(mode="json") == answer
    assert list(answer) == list(model.model_fields)  # and in the model's order


async def test_a_page_of_reports_and_a_case_read_as_their_model(
    client: httpx.AsyncClient,
    login: LoginFn,
    cases: dict[str, uuid.UUID],  # noqa: F811
) -> None:
    for user in ("staff1", "supervisor", "unit1", "grid1"):  # community, region, unit, reporter
        headers = await login(user)
        page = (await client.get("/api/v1/reports?limit=30", headers=headers)).json()
        assert page["items"], user
        assert set(page) == {"items", "next_cursor"}
        for item in page["items"]:
            assert_as_the_model_writes(ReportRead, item)
        full = await client.get(f"/api/v1/reports/{cases['full']}", headers=headers)
        if full.status_code == 200:
            case = full.json()
            assert_as_the_model_writes(ReportRead, case)
            assert case["photos"]
            assert case["deadlines"]
            assert case["rating"]
            assert full.headers["ETag"] == f'"{case["id"]}-v{case["version"]}"'
            assert full.headers["content-type"] == "application/json"


async def test_a_page_of_jobs_reads_as_its_model(
    client: httpx.AsyncClient,
    login: LoginFn,
    cases: dict[str, uuid.UUID],  # noqa: F811
) -> None:
    page = (await client.get("/api/v1/jobs?limit=30", headers=await login("unit1"))).json()
    assert page["items"]
    for item in page["items"]:
        assert_as_the_model_writes(JobRead, item)
        assert item["extensions"]
        assert item["deadlines"]
