"""Helpers for the calendar tests: a 2027 schedule of the kind the State Council publishes each
December (test data, not the real notice), and answers checked on the way."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx

from app.core.workcalendar import CHINA_TZ
from tests.reports.conftest import community_1_point, submit  # noqa: F401

# 春节 2027: Saturday 6 February to Friday 12 February off; Saturday 20 February a make-up
# working day (调休), as is Sunday 31 January.
SPRING_FESTIVAL_2027: list[dict[str, Any]] = [
    *(
        {"date": str(date(2027, 2, 6) + timedelta(days=n)), "is_workday": False, "name": "春节"}
        for n in range(7)
    ),
    {"date": "2027-01-31", "is_workday": True, "name": "春节调休"},
    {"date": "2027-02-20", "is_workday": True, "name": "春节调休"},
]


def china(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


async def import_spring_festival(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    ok(
        await client.put(
            "/api/v1/admin/calendar/2027", json={"days": SPRING_FESTIVAL_2027}, headers=admin
        )
    )
