"""``python -m app calendar import FILE``: JSON or CSV, all or nothing, every bad line named."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar.exceptions import CalendarFileRefused
from app.calendar.importer import ImportedDay, parse_csv, parse_json
from app.core.config import Settings
from app.main import create_app
from app.models import CalendarDay
from tests.calendar.conftest import ok
from tests.support import command_env, run_command

GOOD_JSON = """[
  {"date": "2027-02-06", "kind": "holiday", "name": "春节"},
  {"date": "2027/2/7", "kind": "holiday", "name": "春节"},
  {"date": "2027-02-20", "kind": "workday", "name": "春节调休"},
  {"date": "2028-01-01", "kind": "holiday", "name": "元旦"}
]
"""
GOOD_CSV = "date,kind,name\n2027-10-01,holiday,国庆节\n2027-10-09,workday,国庆节调休\n"
# Line 1 is the header; each later line has one thing wrong, but line 2.
BAD_CSV = """date,kind,name
2027-02-06,holiday,春节
06.02.2027,holiday,春节
2027-02-06,holiday,春节
2207-02-06,holiday,春节
2027-02-08,vacation,春节
2027-02-30,holiday,春节
2027-02-09,holiday,
"""


def problems(refused: pytest.ExceptionInfo[CalendarFileRefused]) -> list[str]:
    return [str(problem) for problem in refused.value.problems]


def test_a_good_json_file_gives_its_days_with_their_lines() -> None:
    assert parse_json(GOOD_JSON) == [
        ImportedDay(2, date(2027, 2, 6), False, "春节"),
        ImportedDay(3, date(2027, 2, 7), False, "春节"),
        ImportedDay(4, date(2027, 2, 20), True, "春节调休"),
        ImportedDay(5, date(2028, 1, 1), False, "元旦"),
    ]


def test_every_bad_line_of_a_csv_file_is_named() -> None:
    with pytest.raises(CalendarFileRefused) as refused:
        parse_csv(BAD_CSV)
    assert problems(refused) == [
        "line 3: unknown date format '06.02.2027' (write YYYY-MM-DD)",
        "line 4: duplicate date 2027-02-06 (first on line 2)",
        "line 5: year 2207 outside 2000–2100",
        "line 6: unknown kind 'vacation' (holiday or workday)",
        "line 7: 2027-02-30 is not a day of the calendar",
        "line 8: missing name",
    ]


def test_every_bad_entry_of_a_json_file_is_named_by_the_line_it_starts_on() -> None:
    text = """[
  {"date": "2027-02-06", "kind": "holiday", "name": "春节"},
  {"date": "20270207", "kind": "holiday", "name": "春节"},
  {
    "date": "2027-02-06",
    "kind": "holiday",
    "name": "春节"
  },
  {"date": "1999-12-31", "kind": "workday", "name": "x"},
  ["2027-02-09", "holiday", "春节"],
  {"date": "2027-02-10", "kind": "holiday", "name": "春节", "note": "?"}
]"""
    with pytest.raises(CalendarFileRefused) as refused:
        parse_json(text)
    assert problems(refused) == [
        "line 3: unknown date format '20270207' (write YYYY-MM-DD)",
        "line 4: duplicate date 2027-02-06 (first on line 2)",
        "line 9: year 1999 outside 2000–2100",
        "line 10: expected the fields date, kind, name",
        "line 11: unknown field(s) note",
    ]


def test_files_that_are_not_lists_of_days_are_refused() -> None:
    with pytest.raises(CalendarFileRefused) as refused:
        parse_json('[\n  {"date": "2027-02-06",\n')
    assert problems(refused)[0].startswith("line 3: not JSON")
    with pytest.raises(CalendarFileRefused) as refused:
        parse_json('{"days": []}')
    assert problems(refused)[0].startswith("line 1: the file must be a JSON array")
    with pytest.raises(CalendarFileRefused) as refused:
        parse_csv("day,is_workday,name\n2027-02-06,false,春节\n")
    assert problems(refused) == ["line 1: the header must name the columns date, kind, name"]
    with pytest.raises(CalendarFileRefused) as refused:
        parse_json("[]")
    assert problems(refused) == ["the file lists no days"]


async def _run_cli(database_url: str, *args: str) -> tuple[int, str]:
    return await run_command("calendar", "import", *args, env=command_env(database_url))


async def _stored(session: AsyncSession) -> dict[date, tuple[bool, str]]:
    session.expire_all()
    rows = await session.scalars(select(CalendarDay).order_by(CalendarDay.day))
    return {row.day: (row.is_workday, row.name) for row in rows}


@pytest.fixture
async def quick_app(
    database_url: str, settings_for: Callable[..., Settings]
) -> AsyncIterator[FastAPI]:
    """An API process that checks for calendar changes every 0.2 s."""
    application = create_app(settings_for(database_url, calendar_refresh_seconds=0.2))
    yield application
    await application.state.engine.dispose()


async def test_the_command_imports_and_running_processes_follow(
    database_url: str, quick_app: FastAPI, session: AsyncSession, tmp_path: Path
) -> None:
    transport = httpx.ASGITransport(app=quick_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        token = ok(
            await http.post(
                "/api/v1/auth/token", data={"username": "viewer", "password": "suishoupai-demo"}
            )
        )["access_token"]
        viewer = {"Authorization": f"Bearer {token}"}

        async def source_of(day: str) -> str:
            url = f"/api/v1/calendar?from={day}&to={day}"
            return str(ok(await http.get(url, headers=viewer))["days"][0]["source"])

        assert await source_of("2027-02-06") == "weekday_rule"

        good = tmp_path / "2027.json"
        good.write_text(GOOD_JSON, encoding="utf-8")
        status, output = await _run_cli(database_url, str(good))
        assert status == 0, output
        assert "2027: 3 days" in output
        assert "2028: 1 days" in output
        assert await _stored(session) == {
            date(2027, 2, 6): (False, "春节"),
            date(2027, 2, 7): (False, "春节"),
            date(2027, 2, 20): (True, "春节调休"),
            date(2028, 1, 1): (False, "元旦"),
        }
        # The running API process notices within its refresh interval.
        await asyncio.sleep(0.3)
        assert await source_of("2027-02-06") == "override"

    # A bad file: every bad line named, exit status 1, nothing changed.
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    status, output = await _run_cli(database_url, str(bad))
    assert status == 1
    for line in (3, 4, 5, 6, 7, 8):
        assert f"line {line}:" in output
    assert "unknown date format '06.02.2027'" in output
    assert "duplicate date 2027-02-06 (first on line 2)" in output
    assert "year 2207 outside 2000–2100" in output
    assert len(await _stored(session)) == 4

    # A good CSV checked with --dry-run changes nothing; imported, it replaces 2027 only.
    csv_file = tmp_path / "2027.csv"
    csv_file.write_text(GOOD_CSV, encoding="utf-8-sig")  # as a spreadsheet saves it
    status, output = await _run_cli(database_url, "--dry-run", str(csv_file))
    assert status == 0, output
    assert "nothing was changed" in output
    assert len(await _stored(session)) == 4
    status, output = await _run_cli(database_url, str(csv_file))
    assert status == 0, output
    assert await _stored(session) == {
        date(2027, 10, 1): (False, "国庆节"),
        date(2027, 10, 9): (True, "国庆节调休"),
        date(2028, 1, 1): (False, "元旦"),
    }
