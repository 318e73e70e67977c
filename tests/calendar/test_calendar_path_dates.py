"""A day in the path of /admin/calendar/{day} is a date written YYYY-MM-DD and nothing else: a
number is not taken for a Unix time (which set, read or removed a day of 1970), and a year that
is not a whole number, which the year's route does not match, is refused instead of reaching
the day's."""

from __future__ import annotations

import httpx
import pytest

from tests.calendar.conftest import ok, problem
from tests.conftest import LoginFn


# Unix times of a midnight: 1970-01-01, 1969-12-31, 2000-01-01, 2027-07-01; and one that is not.
@pytest.mark.parametrize(
    "day", ["4.081148635815027e-239", "-8.64e4", "9.466848e8", "1.8144e9", "2027.5"]
)
async def test_a_number_is_not_a_day(client: httpx.AsyncClient, login: LoginFn, day: str) -> None:
    admin = await login("admin")
    url = f"/api/v1/admin/calendar/{day}"
    for refused in (
        await client.put(url, json={"is_workday": True, "name": "调休"}, headers=admin),
        await client.get(url, headers=admin),
        await client.delete(url, headers=admin),
    ):
        body = problem(refused, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["path", "day"]
    # No day was set in the years the numbers fall in, where the calendar takes days.
    for year in (2000, 2027):
        assert ok(await client.get(f"/api/v1/admin/calendar/{year}", headers=admin))["days"] == []


async def test_a_day_written_as_a_date_still_works(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    admin = await login("admin")
    url = "/api/v1/admin/calendar/2027-02-20"
    set_day = ok(
        await client.put(url, json={"is_workday": True, "name": "春节调休"}, headers=admin)
    )
    assert set_day["date"] == "2027-02-20"
    assert ok(await client.get(url, headers=admin))["name"] == "春节调休"
    assert (await client.delete(url, headers=admin)).status_code == 204
