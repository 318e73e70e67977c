"""A time series lists every bucket its period touches and no other, however the period's
moments are written (China time or UTC)."""

from __future__ import annotations

import httpx
import pytest

from app.stats.schemas import HeatMap
from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn, submit  # noqa: F401

NOVEMBER = [
    # The same period: November in China time.
    {"from": "2026-11-01T00:00:00+08:00", "to": "2026-12-01T00:00:00+08:00"},
    {"from": "2026-10-31T16:00:00Z", "to": "2026-11-30T16:00:00Z"},
]


@pytest.mark.parametrize("period", NOVEMBER)
@pytest.mark.parametrize(
    ("interval", "first", "last", "count"),
    [
        ("day", "2026-11-01", "2026-11-30", 30),
        # 1 November is a Sunday: its week began on Monday 26 October; 30 November is a Monday.
        ("week", "2026-10-26", "2026-11-30", 6),
        ("month", "2026-11-01", "2026-11-01", 1),
    ],
)
async def test_the_buckets_are_those_of_the_period(
    client: httpx.AsyncClient,
    login: LoginFn,
    period: dict[str, str],
    interval: str,
    first: str,
    last: str,
    count: int,
) -> None:
    answer = await client.get(
        "/api/v1/stats/timeseries",
        params={**period, "interval": interval},
        headers=await login("supervisor"),
    )
    assert answer.status_code == 200, answer.text
    starts = [item["start"] for item in answer.json()["items"]]
    assert (starts[0], starts[-1], len(starts)) == (first, last, count)


async def test_the_heat_map_has_the_shape_it_documents(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,  # noqa: F811
) -> None:
    filed = await submit("courier1")
    assert filed.status_code == 201, filed.text
    answer = await client.get(
        "/api/v1/stats/heatmap",
        params={"bbox": "107.10,40.80,107.20,40.90", "cell_m": 1000},
        headers=await login("supervisor"),
    )
    assert answer.status_code == 200, answer.text
    heat = HeatMap.model_validate(answer.json())
    assert [(cell.properties.count, cell.properties.open) for cell in heat.features] == [(1, 1)]
    assert heat.features[0].geometry["type"] == "Polygon"
