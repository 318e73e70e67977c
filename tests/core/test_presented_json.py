"""The hot reads write their answers straight from plain values (app/core/responses.py): what a
client receives must be, key for key and value for value, what the response model would have
written — the same field names, nothing missing, nothing extra, numbers of the same kind."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from pydantic import BaseModel

from app.core.responses import PresentedJSON
from app.jobs.schemas import JobRead
from app.reports.schemas import ReportRead, TimelineEvent
from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn, submit  # noqa: F401  (the fixture)
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
        assert full.status_code == 200, user  # each of them sees the case, in their own view
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


async def test_a_timeline_reads_as_its_model_for_staff_and_for_the_reporter(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,  # noqa: F811
) -> None:
    report_id = (await submit("courier1")).json()["id"]
    staff = await login("staff1")
    accepted = await client.post(f"/api/v1/reports/{report_id}/accept", json={}, headers=staff)
    assert accepted.status_code == 200
    for body, internal in (("已通知物业", True), ("已安排处理", False)):
        comment = {"body": body, "internal": internal}
        url = f"/api/v1/reports/{report_id}/comments"
        assert (await client.post(url, json=comment, headers=staff)).status_code == 201

    url = f"/api/v1/reports/{report_id}/timeline"
    seen_by_staff = (await client.get(url, headers=staff)).json()
    seen_by_reporter = (await client.get(url, headers=await login("courier1"))).json()
    for event in [*seen_by_staff, *seen_by_reporter]:
        assert_as_the_model_writes(TimelineEvent, event)
    assert [e["type"] for e in seen_by_staff] == ["submitted", "accept", "comment", "comment"]
    assert seen_by_staff[0]["photos"] == []  # the report's own photos are the case's
    assert seen_by_staff[1]["actor"]["display_name"]
    assert [e["note"] for e in seen_by_reporter if e["type"] == "comment"] == ["已安排处理"]
    # The reporter sees what happened and their own part, not which member of staff acted.
    assert seen_by_reporter[0]["actor"]["display_name"]
    assert all(e["actor"] is None for e in seen_by_reporter[1:])


def test_a_float_that_is_not_a_number_is_written_as_the_models_write_it() -> None:
    """JSON has no NaN or Infinity: an answer holding one would not parse in a client."""

    class Point(BaseModel):
        lat: float
        lng: float

    values = {"lat": float("nan"), "lng": float("inf")}
    written = PresentedJSON(values).body
    assert written == Point(**values).model_dump_json().encode() == b'{"lat":null,"lng":null}'
