"""The calendar through the API: who may read and change it, what a day says about itself,
the bulk replacement of a year (all or nothing), and readiness reporting coverage."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.clock import FrozenClock
from app.demo.seed import demo_id
from tests.calendar.conftest import (
    SPRING_FESTIVAL_2027,
    china,
    import_spring_festival,
    ok,
    problem,
)
from tests.conftest import LoginFn

ADMIN_WRITES = [
    ("PUT", "/api/v1/admin/calendar/2027-02-08", {"is_workday": False, "name": "春节"}),
    ("DELETE", "/api/v1/admin/calendar/2027-02-08", None),
    ("PUT", "/api/v1/admin/calendar/2027", {"days": SPRING_FESTIVAL_2027}),
    ("POST", "/api/v1/admin/calendar/recompute-deadlines", None),
]
ADMIN_READS = ["/api/v1/admin/calendar/2027-02-08", "/api/v1/admin/calendar/2027"]


async def _days(
    client: httpx.AsyncClient, headers: dict[str, str], first: str, last: str
) -> dict[str, Any]:
    days: dict[str, Any] = ok(
        await client.get(f"/api/v1/calendar?from={first}&to={last}", headers=headers)
    )
    return days


@pytest.mark.parametrize(("method", "url", "body"), ADMIN_WRITES)
async def test_only_admins_change_the_calendar(
    client: httpx.AsyncClient,
    login: LoginFn,
    method: str,
    url: str,
    body: dict[str, Any] | None,
) -> None:
    problem(await client.request(method, url, json=body), 401, "unauthorized")
    for username in ("staff1", "supervisor", "unit1", "courier1"):
        response = await client.request(method, url, json=body, headers=await login(username))
        problem(response, 403, "forbidden")
    # Nothing changed on the way.
    staff = await login("staff1")
    days = await _days(client, staff, "2027-02-08", "2027-02-08")
    assert days["days"][0]["source"] == "weekday_rule"


@pytest.mark.parametrize("url", ADMIN_READS)
async def test_only_admins_read_the_days_they_set(
    client: httpx.AsyncClient, login: LoginFn, url: str
) -> None:
    problem(await client.get(url), 401, "unauthorized")
    problem(await client.get(url, headers=await login("viewer")), 403, "forbidden")


async def test_every_signed_in_user_reads_the_calendar_with_reasons(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    problem(await client.get("/api/v1/calendar?from=2026-10-01&to=2026-10-01"), 401, "unauthorized")
    courier = await login("courier1")
    days = (await _days(client, courier, "2026-09-30", "2026-10-11"))["days"]
    by_date = {d["date"]: d for d in days}
    assert len(days) == 12
    assert by_date["2026-09-30"] == {
        "date": "2026-09-30",
        "is_workday": True,
        "source": "published",
        "name": None,
    }
    assert by_date["2026-10-01"] == {
        "date": "2026-10-01",
        "is_workday": False,
        "source": "published",
        "name": "国庆节",
    }
    # Saturday 10 October 2026: a make-up working day of the published schedule.
    assert by_date["2026-10-10"] == {
        "date": "2026-10-10",
        "is_workday": True,
        "source": "published",
        "name": "国庆节调休",
    }
    assert by_date["2026-10-11"]["is_workday"] is False  # an ordinary Sunday

    # 2027 is not published: the weekday rule decides, until an administrator sets the days.
    before = (await _days(client, courier, "2027-02-05", "2027-02-08"))["days"]
    assert [(d["is_workday"], d["source"]) for d in before] == [
        (True, "weekday_rule"),  # Friday
        (False, "weekday_rule"),
        (False, "weekday_rule"),
        (True, "weekday_rule"),  # Monday
    ]
    await import_spring_festival(client, await login("admin"))
    after = await _days(client, courier, "2027-02-05", "2027-02-08")
    assert [(d["date"], d["is_workday"], d["source"], d["name"]) for d in after["days"]] == [
        ("2027-02-05", True, "weekday_rule", None),
        ("2027-02-06", False, "override", "春节"),
        ("2027-02-07", False, "override", "春节"),
        ("2027-02-08", False, "override", "春节"),
    ]
    assert after["from"] == "2027-02-05"
    assert after["to"] == "2027-02-08"
    saturday = (await _days(client, courier, "2027-02-20", "2027-02-20"))["days"][0]
    assert saturday == {
        "date": "2027-02-20",
        "is_workday": True,
        "source": "override",
        "name": "春节调休",
    }


async def test_the_range_is_bounded(client: httpx.AsyncClient, login: LoginFn) -> None:
    viewer = await login("viewer")
    a_year = await _days(client, viewer, "2028-01-01", "2028-12-31")  # a leap year: 366 days
    assert len(a_year["days"]) == 366
    too_long = await client.get("/api/v1/calendar?from=2027-01-01&to=2028-01-02", headers=viewer)
    assert "366" in problem(too_long, 422, "validation_error")["detail"]
    backwards = await client.get("/api/v1/calendar?from=2027-02-02&to=2027-02-01", headers=viewer)
    problem(backwards, 422, "validation_error")
    not_a_date = await client.get("/api/v1/calendar?from=2027-02-30&to=2027-03-01", headers=viewer)
    problem(not_a_date, 422, "validation_error")


async def test_the_calendar_defaults_to_the_next_sixty_days(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn
) -> None:
    resident = await login("resident1")  # a token from today's clock, valid for a while
    app.state.clock = FrozenClock(china(2026, 6, 1, 9, 0))
    days = ok(await client.get("/api/v1/calendar", headers=resident))
    assert days["from"] == "2026-06-01"
    assert days["to"] == "2026-07-30"
    assert len(days["days"]) == 60
    assert days["covered_until"] == "2026-12-31"
    assert days["warning"] is None


async def test_one_day_set_read_changed_and_removed(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    url = "/api/v1/admin/calendar/2027-02-08"
    problem(await client.get(url, headers=admin), 404, "no_override")
    created = ok(await client.put(url, json={"is_workday": False, "name": " 春节 "}, headers=admin))
    assert created["date"] == "2027-02-08"
    assert created["is_workday"] is False
    assert created["name"] == "春节"
    assert created["set_by_id"] == str(demo_id("user", "admin"))
    assert ok(await client.get(url, headers=admin)) == created

    changed = ok(
        await client.put(url, json={"is_workday": True, "name": "春节调休"}, headers=admin)
    )
    assert (changed["is_workday"], changed["name"]) == (True, "春节调休")
    day = (await _days(client, admin, "2027-02-08", "2027-02-08"))["days"][0]
    assert (day["is_workday"], day["source"], day["name"]) == (True, "override", "春节调休")

    assert (await client.delete(url, headers=admin)).status_code == 204
    problem(await client.get(url, headers=admin), 404, "no_override")
    problem(await client.delete(url, headers=admin), 404, "no_override")
    day = (await _days(client, admin, "2027-02-08", "2027-02-08"))["days"][0]
    assert (day["is_workday"], day["source"]) == (True, "weekday_rule")


async def test_a_day_needs_a_name_and_a_year_within_range(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    url = "/api/v1/admin/calendar/2027-02-08"
    problem(
        await client.put(url, json={"is_workday": False}, headers=admin), 422, "validation_error"
    )
    problem(
        await client.put(url, json={"is_workday": False, "name": "  "}, headers=admin),
        422,
        "validation_error",
    )
    far = await client.put(
        "/api/v1/admin/calendar/2207-02-08",
        json={"is_workday": False, "name": "春节"},
        headers=admin,
    )
    assert "2000–2100" in problem(far, 422, "validation_error")["detail"]
    far_year = await client.put("/api/v1/admin/calendar/1999", json={"days": []}, headers=admin)
    problem(far_year, 422, "validation_error")


async def test_a_year_is_replaced_whole(client: httpx.AsyncClient, login: LoginFn) -> None:
    admin = await login("admin")
    await import_spring_festival(client, admin)
    year = ok(await client.get("/api/v1/admin/calendar/2027", headers=admin))
    assert [d["date"] for d in year["days"]] == sorted(d["date"] for d in SPRING_FESTIVAL_2027)
    # A day of another year is not touched by replacing 2027.
    ok(
        await client.put(
            "/api/v1/admin/calendar/2028-01-03",
            json={"is_workday": False, "name": "元旦"},
            headers=admin,
        )
    )

    national_day = [{"date": "2027-10-01", "is_workday": False, "name": "国庆节"}]
    replaced = ok(
        await client.put("/api/v1/admin/calendar/2027", json={"days": national_day}, headers=admin)
    )
    assert [(d["date"], d["name"]) for d in replaced["days"]] == [("2027-10-01", "国庆节")]
    festival = (await _days(client, admin, "2027-02-08", "2027-02-08"))["days"][0]
    assert festival["source"] == "weekday_rule"
    assert (
        ok(await client.get("/api/v1/admin/calendar/2028-01-03", headers=admin))["name"] == "元旦"
    )

    cleared = ok(await client.put("/api/v1/admin/calendar/2027", json={"days": []}, headers=admin))
    assert cleared == {"year": 2027, "days": []}


async def test_a_bad_year_list_changes_nothing_and_names_every_bad_entry(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    await import_spring_festival(client, admin)
    bad = [
        {"date": "2027-10-01", "is_workday": False, "name": "国庆节"},
        {"date": "2028-10-02", "is_workday": False, "name": "国庆节"},  # another year
        {"date": "2027-10-03", "is_workday": False, "name": "国庆节"},
        {"date": "2027-10-01", "is_workday": False, "name": "国庆节"},  # again
    ]
    response = await client.put("/api/v1/admin/calendar/2027", json={"days": bad}, headers=admin)
    body = problem(response, 422, "validation_error")
    assert [(e["loc"], e["msg"]) for e in body["errors"]] == [
        (["body", "days", 1, "date"], "2028-10-02 is not in 2027"),
        (["body", "days", 3, "date"], "duplicate date 2027-10-01 (first at 0)"),
    ]
    year = ok(await client.get("/api/v1/admin/calendar/2027", headers=admin))
    assert len(year["days"]) == len(SPRING_FESTIVAL_2027)
    assert "2027-10-01" not in {d["date"] for d in year["days"]}

    unknown_field = [{"date": "2027/10/01", "is_workday": "maybe", "name": "国庆节"}]
    response = await client.put(
        "/api/v1/admin/calendar/2027", json={"days": unknown_field}, headers=admin
    )
    problem(response, 422, "validation_error")


async def test_readiness_reports_the_calendar_without_failing(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    # 1 December 2026: the published schedule ends within the next 60 days.
    app.state.clock = FrozenClock(china(2026, 12, 1, 9, 0))
    ready = ok(await client.get("/readyz"))
    assert ready["status"] == "ok"
    assert ready["calendar"]["covered_until"] == "2026-12-31"
    assert "2027" in ready["calendar"]["warning"]

    await import_spring_festival(client, admin)
    ready = ok(await client.get("/readyz"))
    assert ready["calendar"] == {"covered_until": "2027-12-31", "warning": None}

    # 60 days before the end of 2027 its coverage runs out again; a day earlier it does not.
    app.state.clock = FrozenClock(china(2027, 11, 1, 9, 0))
    assert ok(await client.get("/readyz"))["calendar"]["warning"] is None
    app.state.clock = FrozenClock(china(2027, 11, 2, 9, 0))
    assert "2028" in ok(await client.get("/readyz"))["calendar"]["warning"]
