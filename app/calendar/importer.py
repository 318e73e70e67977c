"""Reading a calendar import file (``python -m app calendar import FILE``): JSON or CSV, every
bad line named, nothing returned unless every line is good.

JSON: an array of ``{"date": "2027-02-06", "kind": "holiday", "name": "春节"}``, a line is the
one where the day's object begins. CSV: a header ``date,kind,name`` and one day per row. Dates
are ``YYYY-MM-DD`` (``YYYY/MM/DD`` and single-digit months and days are read too, as
spreadsheets write them); ``kind`` is ``holiday`` or ``workday``."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from app.calendar.exceptions import CalendarFileRefused, LineProblem
from app.core.workcalendar import FIRST_CALENDAR_YEAR, LAST_CALENDAR_YEAR

FIELDS = ("date", "kind", "name")
KINDS = {"holiday": False, "workday": True}
NAME_MAX = 50
_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")


@dataclass(frozen=True)
class ImportedDay:
    line: int
    day: date
    is_workday: bool
    name: str


def read_calendar_file(path: Path) -> list[ImportedDay]:
    """The file's days; :class:`CalendarFileRefused` naming every bad line otherwise."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarFileRefused([LineProblem(0, f"cannot read {path}: {exc}")]) from exc
    is_json = path.suffix.lower() == ".json" or (
        path.suffix.lower() != ".csv" and text.lstrip().startswith("[")
    )
    return parse_json(text) if is_json else parse_csv(text)


def parse_json(text: str) -> list[ImportedDay]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalendarFileRefused([LineProblem(exc.lineno, f"not JSON: {exc.msg}")]) from exc
    if not isinstance(document, list):
        raise CalendarFileRefused(
            [LineProblem(1, 'the file must be a JSON array of {"date", "kind", "name"} objects')]
        )
    return _validated(_json_entries(text))


def _json_entries(text: str) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Each element of the (valid) top-level array with the line it begins on."""
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0) + 1  # past "["
    while True:
        position = _skip_space(text, position)
        if text[position] == "]":
            return
        value, end = decoder.raw_decode(text, position)
        yield text.count("\n", 0, position) + 1, value if isinstance(value, dict) else None
        position = _skip_space(text, end)
        if text[position] == ",":
            position += 1


def _skip_space(text: str, position: int) -> int:
    while text[position] in " \t\r\n":
        position += 1
    return position


def parse_csv(text: str) -> list[ImportedDay]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if sorted(header) != sorted(FIELDS):
        raise CalendarFileRefused(
            [LineProblem(1, f"the header must name the columns {', '.join(FIELDS)}")]
        )
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, dict[str, Any] | None]]:
        for row in reader:
            # A row with too many cells keeps the rest under the key None.
            yield reader.line_num, None if None in row else row

    return _validated(rows())


def _validated(entries: Iterator[tuple[int, dict[str, Any] | None]]) -> list[ImportedDay]:
    days: list[ImportedDay] = []
    problems: list[LineProblem] = []
    first_line: dict[date, int] = {}
    for line, entry in entries:
        if entry is None:
            problems.append(LineProblem(line, f"expected the fields {', '.join(FIELDS)}"))
            continue
        found = [LineProblem(line, message) for message in _entry_problems(entry)]
        problems += found
        if found:
            continue
        day = _parse_date(str(entry["date"]).strip())
        assert isinstance(day, date)
        if day in first_line:
            problems.append(
                LineProblem(line, f"duplicate date {day} (first on line {first_line[day]})")
            )
            continue
        first_line[day] = line
        kind = str(entry["kind"]).strip().lower()
        days.append(ImportedDay(line, day, KINDS[kind], str(entry["name"]).strip()))
    if not problems and not days:
        problems.append(LineProblem(0, "the file lists no days"))
    if problems:
        raise CalendarFileRefused(problems)
    return days


def _entry_problems(entry: dict[str, Any]) -> Iterator[str]:
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        yield f"unknown field(s) {', '.join(unknown)}"
    missing = [name for name in FIELDS if entry.get(name) in (None, "")]
    if missing:
        yield f"missing {', '.join(missing)}"
    if entry.get("date") not in (None, ""):
        parsed = _parse_date(str(entry["date"]).strip())
        if isinstance(parsed, str):
            yield parsed
    if entry.get("kind") not in (None, "") and str(entry["kind"]).strip().lower() not in KINDS:
        yield f"unknown kind {entry['kind']!r} (holiday or workday)"
    name = entry.get("name")
    if name not in (None, "") and not str(name).strip():
        yield "missing name"
    elif name is not None and len(str(name).strip()) > NAME_MAX:
        yield f"name longer than {NAME_MAX} characters"


def _parse_date(value: str) -> date | str:
    """The date, or what is wrong with it."""
    match = _DATE.fullmatch(value)
    if match is None:
        return f"unknown date format {value!r} (write YYYY-MM-DD)"
    year, month, day = (int(part) for part in match.groups())
    if not FIRST_CALENDAR_YEAR <= year <= LAST_CALENDAR_YEAR:
        return f"year {year} outside {FIRST_CALENDAR_YEAR}–{LAST_CALENDAR_YEAR}"
    try:
        return date(year, month, day)
    except ValueError:
        return f"{value} is not a day of the calendar"
