"""What the statistics answer to a request they cannot serve: a problem (422) naming the
parameter at fault, or "not found" (404) for a place that does not exist or that the caller may
not name, the two alike."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from app.demo.seed import demo_id
from tests.conftest import LoginFn

STATS = "/api/v1/stats"
STATS_PATHS = (
    "summary",
    "units",
    "units/export",
    "communities",
    "categories",
    "couriers",
    "timeseries",
)
# A box of a few kilometres in 陕坝镇: 250 m cells fit.
BOX = "107.10,40.80,107.20,40.90"


def assert_problem(
    response: httpx.Response, status: int, code: str, loc: list[str] | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code
    assert problem["status"] == status
    if loc is not None:
        assert loc in [error["loc"] for error in problem["errors"]], problem
    return problem


# (path, query, the parameter named). Each path with only the parameters the case is about.
UNSERVABLE = [
    # The period: `from` not before `to`, longer than three years, or not a time with a zone.
    (
        "summary",
        {"from": "2026-03-01T00:00:00+08:00", "to": "2026-02-01T00:00:00+08:00"},
        "from",
    ),
    ("units", {"from": "2026-03-01T00:00:00+08:00", "to": "2026-03-01T00:00:00+08:00"}, "from"),
    ("summary", {"from": "2023-01-01T00:00:00+08:00", "to": "2026-01-03T00:00:00+08:00"}, "to"),
    ("communities", {"from": "2026-03-01T08:00:00"}, "from"),
    ("categories", {"to": "2026-03-01"}, "to"),
    ("couriers", {"from": "1767225600"}, "from"),
    ("timeseries", {"to": "yesterday"}, "to"),
    ("units/export", {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "from"),
    # The series' interval and measure; the file's format.
    ("timeseries", {"interval": "hour"}, "interval"),
    ("timeseries", {"metric": "reworked"}, "metric"),
    ("units/export", {"format": "pdf"}, "format"),
    # The heat map's box: four numbers, within the globe, minimum below maximum.
    ("heatmap", {}, "bbox"),
    ("heatmap", {"bbox": "107.1,40.8,107.2"}, "bbox"),
    ("heatmap", {"bbox": "107.1,40.8,107.2,40.9,1"}, "bbox"),
    ("heatmap", {"bbox": "west,south,east,north"}, "bbox"),
    ("heatmap", {"bbox": "107.1,40.8,107.2,nan"}, "bbox"),
    ("heatmap", {"bbox": "107.1,40.8,inf,40.9"}, "bbox"),
    ("heatmap", {"bbox": "107.1,40.8,181,40.9"}, "bbox"),
    ("heatmap", {"bbox": "107.1,-91,107.2,40.9"}, "bbox"),
    ("heatmap", {"bbox": "107.2,40.8,107.1,40.9"}, "bbox"),
    ("heatmap", {"bbox": "107.1,40.9,107.2,40.8"}, "bbox"),
    ("heatmap", {"bbox": "107.1,40.8,107.1,40.9"}, "bbox"),
    # More than 10,000 cells: some 220 by 220 of 50 m.
    ("heatmap", {"bbox": "0,0,0.1,0.1", "cell_m": 50}, "bbox"),
    # The cell's side.
    ("heatmap", {"bbox": BOX, "cell_m": 49.9}, "cell_m"),
    ("heatmap", {"bbox": BOX, "cell_m": 50001}, "cell_m"),
    ("heatmap", {"bbox": BOX, "cell_m": "nan"}, "cell_m"),
    ("heatmap", {"bbox": BOX, "cell_m": "inf"}, "cell_m"),
    ("heatmap", {"bbox": BOX, "cell_m": "wide"}, "cell_m"),
    # A category the service does not have, and places that are not ids.
    ("summary", {"category": "no_such_category"}, "category"),
    ("units", {"category": "Chaotic_Parking"}, "category"),
    ("summary", {"region_id": "陕坝镇"}, "region_id"),
    ("communities", {"community_id": "1"}, "community_id"),
    ("units", {"unit_id": "unit1"}, "unit_id"),
]


@pytest.mark.parametrize(
    ("path", "query", "parameter"),
    UNSERVABLE,
    ids=[f"{path}-{parameter}-{index}" for index, (path, _, parameter) in enumerate(UNSERVABLE)],
)
async def test_an_unservable_request_is_a_problem_naming_the_parameter(
    client: httpx.AsyncClient, login: LoginFn, path: str, query: dict[str, Any], parameter: str
) -> None:
    response = await client.get(f"{STATS}/{path}", params=query, headers=await login("supervisor"))
    assert_problem(response, 422, "validation_error", ["query", parameter])


async def test_the_limits_themselves_are_served(client: httpx.AsyncClient, login: LoginFn) -> None:
    supervisor = await login("supervisor")
    three_years = {"from": "2024-01-01T00:00:00+08:00", "to": "2027-01-01T00:00:00+08:00"}
    response = await client.get(f"{STATS}/summary", params=three_years, headers=supervisor)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0
    for cell_m, box in ((50, "0,0,0.04,0.04"), (50_000, BOX)):
        response = await client.get(
            f"{STATS}/heatmap", params={"bbox": box, "cell_m": cell_m}, headers=supervisor
        )
        assert response.status_code == 200, response.text
        assert response.json()["cell_m"] == cell_m
        assert response.json()["features"] == []
    # A category, a top class of categories, a time with its zone written with a space for
    # the "+" a client did not encode.
    for query in (
        {"category": "chaotic_parking"},
        {"category": "event_street_order"},
        {"from": "2026-03-01T00:00:00 08:00"},
    ):
        response = await client.get(f"{STATS}/categories", params=query, headers=supervisor)
        assert response.status_code == 200, (query, response.text)


SHANBA = demo_id("region", "陕坝镇")
TOUDAOQIAO_TOWNSHIP = demo_id("region", "头道桥镇")
TOUDAOQIAO = demo_id("community", "头道桥镇", "头道桥社区")
EAST_STREET = demo_id("community", "陕坝镇", "东街社区")
UNIT_3 = demo_id("unit", "旗交通运输局")

# (who asks, the filter, a place it may not name); the same filter naming nothing that exists
# must answer the same.
OUT_OF_REACH = [
    ("supervisor2", "region_id", TOUDAOQIAO_TOWNSHIP),
    ("supervisor2", "community_id", TOUDAOQIAO),
    ("supervisor2", "unit_id", UNIT_3),
    ("staff1", "region_id", TOUDAOQIAO_TOWNSHIP),
    ("grid1", "community_id", TOUDAOQIAO),
    ("unit1", "region_id", SHANBA),
    ("unit3", "community_id", EAST_STREET),
]


@pytest.mark.parametrize(("role", "name", "place"), OUT_OF_REACH)
async def test_a_place_out_of_reach_is_not_found_as_one_that_does_not_exist(
    client: httpx.AsyncClient, login: LoginFn, role: str, name: str, place: uuid.UUID
) -> None:
    headers = await login(role)
    answers = []
    for named in (place, uuid.uuid4()):
        response = await client.get(f"{STATS}/summary", params={name: str(named)}, headers=headers)
        problem = assert_problem(response, 404, "not_found")
        answers.append({k: v for k, v in problem.items() if k != "request_id"})
    assert answers[0] == answers[1]


@pytest.mark.parametrize("name", ["region_id", "community_id", "unit_id"])
async def test_a_place_that_does_not_exist_is_not_found_by_the_administrator_either(
    client: httpx.AsyncClient, login: LoginFn, name: str
) -> None:
    headers = await login("admin")
    for path in STATS_PATHS:
        response = await client.get(
            f"{STATS}/{path}", params={name: str(uuid.uuid4())}, headers=headers
        )
        assert_problem(response, 404, "not_found")
    response = await client.get(
        f"{STATS}/heatmap", params={name: str(uuid.uuid4()), "bbox": BOX}, headers=headers
    )
    assert_problem(response, 404, "not_found")
