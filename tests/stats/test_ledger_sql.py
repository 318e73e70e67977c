"""The ledger written by PostgreSQL (app/stats/ledger_sql.py, app/stats/ledger_text.py) is the
ledger Python writes a cell at a time (app/stats/ledger.py, app/stats/tabular.py): the same CSV,
byte for byte, and the same sheet, for cases whose every cell is awkward — quotes, commas, line
breaks, carriage returns, text that starts like a formula, Excel's own escapes, characters XML
forbids, emoji, empty texts and NULLs, numbers in each of the forms Python writes, a hold still
running, negative numbers, dates on a second's edge and at midnight — and for callers who see the
reporter as the case list shows them: in full, masked, or not at all.

Both files come through the API; the Python one with the database's writing turned off, as on
SQLite. PostgreSQL only: elsewhere the ledger is Python's anyway."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.service import load_grants
from app.core.clock import FrozenClock
from app.demo.seed import demo_id
from app.models import Category, Community, Report, Unit, User
from app.models.enums import ReportStatus
from app.reports.queries import ReportFilters
from app.stats import ledger_text
from app.stats.ledger import LedgerQuery
from app.stats.ledger_sql import copy_statement
from tests.conftest import PG_URL, LoginFn
from tests.reports.conftest import SubmitFn

pytestmark = pytest.mark.skipif(not PG_URL, reason="the ledger is written by PostgreSQL")

EXPORT = "/api/v1/reports/export"
CSV: dict[str, Any] = {"format": "csv"}
# The moment of every download (the hold still running is as long in each); tokens are issued
# and checked by the same clock.
NOW = datetime.now(UTC).replace(microsecond=345_678)
LEAD_UNIT = str(demo_id("unit", "旗农牧和科技局"))  # unit1's, paired with 东街社区
CALLERS = ("admin", "staff1", "resident1", "courier1", "viewer", "unit1")
CHINA_MIDNIGHT = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # a whole day: the serial's ".0"

# Each filed case's awkward cells, set in the database past the API's checks.
AWKWARD: list[dict[str, Any]] = [
    {
        "description": 'He said "hi", then\nleft\r\n=SUM(A1)',
        "address": '=1+1, "quoted"',
        "accepted_at": CHINA_MIDNIGHT,
        "supervision_level": "yellow",
    },
    {
        "description": "+86 emoji 😀 中文 _x0041_ and _\x01x0042_ and _x004G_",
        "address": "",
        "lat": -33.8688,
        "lng": -0.0,
        "closure_type": "special",
        "satisfaction": "basically_satisfied",
    },
    {
        "description": "-5 degrees\ttab",
        "address": None,
        "lat": 41.0,
        "lng": 1234567890123456.8,  # Python writes it without an exponent
        "dispatched_at": datetime(2026, 12, 1, 1, 2, 3, 999_999, tzinfo=UTC),
    },
    {
        "description": "@mention",
        "address": "\ttabbed",
        "lat": 1e-05,
        "lng": 1.23456e22,
        "rework_count": -1,
        "held_seconds": -10.0,
        "resolved_at": datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
    },
    {
        "description": "\rCR first",
        "address": "ctl:\x01\x08\x0b\x0c\x0e\x1f\ufffe\uffff end & <b>tag</b> > x\r",
        "lat": float("nan"),
        "lng": float("-inf"),
        "closed_at": datetime(999, 5, 6, 7, 8, 9, tzinfo=UTC),
    },
    {
        # Past Excel's 32,767 characters of a cell, with what needs escaping either side.
        "description": "&" + "x" * 32_760 + '&<>"\r\n_x0041_' + "y" * 10,
        "status": ReportStatus.on_hold,
        "on_hold_at": NOW - timedelta(hours=1, minutes=23, seconds=45, microseconds=678_901),
        "held_seconds": 1234.5678,
    },
    {
        # What COPY's formats escape or mark: backslashes, its NULL and end-of-data markers.
        "description": "C:\\temp\\new \\N \\. \\\\ end\\",
        "address": "\\.",
    },
]


@dataclass
class Ledger:
    numbers: list[str]


@pytest.fixture
async def awkward(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn, session: AsyncSession
) -> Ledger:
    app.state.clock = FrozenClock(NOW)
    numbers = []
    for i, values in enumerate(AWKWARD):
        username = "courier1" if i % 3 == 1 else "resident1"
        answer = await submit(username, description=f"案件 {i}")
        assert answer.status_code == 201, answer.text
        numbers.append(answer.json()["number"])
        if i in (0, 2):  # a lead unit; one that declined, which no row shows
            await whistled_to_the_lead_unit(client, login, answer.json()["id"], declined=i == 2)
        case_id = uuid.UUID(answer.json()["id"])
        await session.execute(update(Report).where(Report.id == case_id).values(**values))
    # Names from the other tables, awkward too: the category, the community, the lead unit,
    # and the reporters (a number with separators, masked a character at a time).
    await session.execute(
        update(Category).where(Category.code == "chaotic_parking").values(name='"乱停",车')
    )
    await session.execute(
        update(Community).where(Community.name == "东街社区").values(name="-东街\n社区")
    )
    await session.execute(
        update(Unit).where(Unit.id == uuid.UUID(LEAD_UNIT)).values(name="@单位\r甲 😀")
    )
    await session.execute(
        update(User).where(User.username == "resident1").values(display_name='=吴桂兰, "小吴"')
    )
    await session.execute(
        update(User)
        .where(User.username == "courier1")
        .values(display_name="\\快递\t员\r", phone="+86 (0478) 812-3456")
    )
    await session.commit()
    return Ledger(numbers)


async def whistled_to_the_lead_unit(
    client: httpx.AsyncClient, login: LoginFn, case_id: str, *, declined: bool
) -> None:
    staff1 = await login("staff1")
    url = f"/api/v1/reports/{case_id}"
    accepted = await client.post(f"{url}/accept", json={}, headers=staff1)
    assert accepted.status_code == 200, accepted.text
    whistled = await client.post(f"{url}/whistle", json={"unit_ids": [LEAD_UNIT]}, headers=staff1)
    assert whistled.status_code == 200, whistled.text
    if declined:
        (job,) = whistled.json()["jobs"]
        refused = await client.post(
            f"/api/v1/jobs/{job['id']}/decline",
            json={"reason_code": "wrong_area", "reason": "不在辖区"},
            headers=await login("unit1"),
        )
        assert refused.status_code == 200, refused.text


async def download(client: httpx.AsyncClient, headers: dict[str, str], file_format: str) -> bytes:
    response = await client.get(EXPORT, params={"format": file_format}, headers=headers)
    assert response.status_code == 200, response.text
    return response.content


@pytest.fixture
def written_in_python(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Downloads through the Python writer while the context is open; and a check that the
    downloads outside it were PostgreSQL's."""

    class Switch:
        def __init__(self) -> None:
            self.python_batches = 0
            self.on = False

        def __enter__(self) -> None:
            self.on = True

        def __exit__(self, *_: object) -> None:
            self.on = False

    switch = Switch()
    by_the_database = ledger_text.written_by_the_database
    python = ledger_text._written_in_python

    def written_by_the_database(session: AsyncSession) -> bool:
        return not switch.on and by_the_database(session)

    def counted(*args: Any, **kwargs: Any) -> Any:
        switch.python_batches += 1
        return python(*args, **kwargs)

    monkeypatch.setattr(ledger_text, "written_by_the_database", written_by_the_database)
    monkeypatch.setattr(ledger_text, "_written_in_python", counted)
    return switch


def sheet_xml(content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return book.read("xl/worksheets/sheet1.xml")


def cells(content: bytes) -> list[tuple[Any, ...]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


async def both_writers(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    params: dict[str, Any],
    written_in_python: Any,
) -> tuple[bytes, bytes]:
    """The same download written by PostgreSQL, then by Python."""
    by_the_database = await client.get(EXPORT, params=params, headers=headers)
    assert by_the_database.status_code == 200, by_the_database.text
    with written_in_python:
        by_python = await client.get(EXPORT, params=params, headers=headers)
    assert by_python.status_code == 200, by_python.text
    return by_the_database.content, by_python.content


def case_numbers(csv_file: bytes) -> list[str]:
    lines = io.StringIO(csv_file.decode("utf-8-sig"), newline="")
    return sorted(record[0] for record in list(csv.reader(lines))[1:])


async def listed_numbers(
    client: httpx.AsyncClient, headers: dict[str, str], filters: dict[str, Any]
) -> list[str]:
    listed = await client.get("/api/v1/reports", params={**filters, "limit": 100}, headers=headers)
    assert listed.status_code == 200, listed.text
    return sorted(case["number"] for case in listed.json()["items"])


async def test_the_csv_is_python_s_byte_for_byte(
    client: httpx.AsyncClient, login: LoginFn, awkward: Ledger, written_in_python: Any
) -> None:
    for username in CALLERS:
        files = await both_writers(client, await login(username), CSV, written_in_python)
        assert files[0] == files[1], username
    assert written_in_python.python_batches == len(CALLERS)
    # The awkward cases are there (the admin's file), each a record of its own.
    admin = await download(client, await login("admin"), "csv")
    for number in awkward.numbers:
        assert admin.count(number.encode()) == 1
    assert '"\'=吴桂兰, ""小吴"""'.encode() in admin
    assert "'-东街\n社区".encode() in admin
    assert admin.count("@单位\r甲 😀".encode()) == 1  # the lead that declined is not shown
    assert '"\\快递\t员\r"'.encode() in admin  # a carriage return alone is quoted too
    lines = io.StringIO(admin.decode("utf-8-sig"), newline="")
    records = {record[0]: record for record in csv.reader(lines)}
    assert records[awkward.numbers[6]][5:7] == [AWKWARD[6]["description"], "\\."]


async def test_the_sheet_is_python_s_cell_for_cell(
    client: httpx.AsyncClient, login: LoginFn, awkward: Ledger, written_in_python: Any
) -> None:
    for username in CALLERS:
        params = {"format": "xlsx"}
        by_the_database, by_python = await both_writers(
            client, await login(username), params, written_in_python
        )
        # The sheet's XML itself, and what a reader makes of it.
        assert sheet_xml(by_the_database) == sheet_xml(by_python), username
        assert cells(by_the_database) == cells(by_python), username
    assert written_in_python.python_batches == len(CALLERS)
    rows = {row[0]: row for row in cells(await download(client, await login("admin"), "xlsx"))}
    assert set(awkward.numbers) <= set(rows)
    held = rows[awkward.numbers[5]]
    assert len(str(held[5])) == 32_767  # the description, cut at Excel's limit
    assert isinstance(held[24], float)  # the hours on hold, a number
    assert held[24] == pytest.approx((1234.5678 + 5025.678901) / 3600, abs=0.005)
    backslashes = rows[awkward.numbers[6]]
    assert (backslashes[5], backslashes[6]) == (AWKWARD[6]["description"], "\\.")


async def test_rows_read_in_small_batches_are_the_rows_read_at_once(
    client: httpx.AsyncClient,
    login: LoginFn,
    awkward: Ledger,
    written_in_python: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Batches of two cases, read two at a time, each through the keys where it ends: they
    meet with no case missed or read twice, the months left carried over."""
    headers = await login("admin")
    at_once = {fmt: await download(client, headers, fmt) for fmt in ("csv", "xlsx")}
    monkeypatch.setattr(ledger_text, "TEXT_BATCH_SIZE", {"csv": 2, "xlsx": 2})
    assert await download(client, headers, "csv") == at_once["csv"]
    assert sheet_xml(await download(client, headers, "xlsx")) == sheet_xml(at_once["xlsx"])
    assert written_in_python.python_batches == 0
    assert len(cells(at_once["xlsx"])) > 2 * 2


async def test_a_last_batch_found_whole_is_followed_by_more(
    client: httpx.AsyncClient,
    login: LoginFn,
    awkward: Ledger,
    written_in_python: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cases filed while the ledger is read come after the batches planned: the batch read
    last is then whole, and the reading goes on after it. As if every batch were the last
    (the keys where a batch ends never found), the file is the same."""
    headers = await login("admin")
    at_once = {fmt: await download(client, headers, fmt) for fmt in ("csv", "xlsx")}
    monkeypatch.setattr(ledger_text, "TEXT_BATCH_SIZE", {"csv": 2, "xlsx": 2})
    planned: list[Any] = []

    async def never_found(*args: Any) -> None:
        planned.append(args)

    monkeypatch.setattr(ledger_text, "_batch_end", never_found)
    assert await download(client, headers, "csv") == at_once["csv"]
    assert sheet_xml(await download(client, headers, "xlsx")) == sheet_xml(at_once["xlsx"])
    # One look per batch of each file (the headers' row aside): each was read as a last page.
    cases = len(cells(at_once["xlsx"])) - 1
    assert len(planned) == 2 * (cases // 2 + 1)
    assert written_in_python.python_batches == 0


# What to search for, and which of the awkward cases it finds (ILIKE: whatever the case).
SEARCHES = {"C:\\temp\\new": [6], "'; DROP TABLE reports; --": [], '%_"\\': [], 'he SAID "hi"': [0]}


@pytest.mark.parametrize("search", SEARCHES)
async def test_the_filters_written_into_the_statement_are_the_filters(
    client: httpx.AsyncClient, login: LoginFn, awkward: Ledger, written_in_python: Any, search: str
) -> None:
    """COPY takes no parameters: the list's filters are written into its statement as SQL
    literals. Text that would break out of a literal or a pattern finds what the list finds."""
    headers = await login("admin")
    filters = {"q": search, "created_from": (NOW - timedelta(days=1)).isoformat()}
    file, by_python = await both_writers(client, headers, {**CSV, **filters}, written_in_python)
    assert file == by_python
    numbers = await listed_numbers(client, headers, filters)
    assert case_numbers(file) == numbers
    # (the words as they are: no wildcard, no escape)
    assert numbers == sorted(awkward.numbers[i] for i in SEARCHES[search])


# Every filter of the case list, each written into the statement as literals.
FILTERS: list[dict[str, Any]] = [
    {"status": ["submitted", "accepted"]},
    {"category": "chaotic_parking"},
    {"community_id": "the first case's"},
    {"region_id": str(demo_id("region", "杭锦后旗"))},
    {"unit_id": LEAD_UNIT},
    {"mine": "true"},
    {"overdue": "true"},
    {"bbox": "100,30,120,50"},
    {"near": "40.75,107.4,50000"},
    {"created_to": (NOW + timedelta(days=1)).isoformat(), "sort": "created_at"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda filters: ",".join(filters))
@pytest.mark.parametrize("username", ["supervisor", "resident1"])
async def test_every_list_filter_is_the_list_s(
    client: httpx.AsyncClient,
    login: LoginFn,
    awkward: Ledger,
    written_in_python: Any,
    filters: dict[str, Any],
    username: str,
) -> None:
    """Each of the list's filters, written into the batch's statement as literals, gives the
    Python writer's file and the list's cases: for a supervisor (a region's subtree) and a
    resident (their own reports)."""
    headers = await login(username)
    if "community_id" in filters:
        first = await client.get(
            "/api/v1/reports", params={"q": awkward.numbers[0]}, headers=await login("admin")
        )
        filters = {"community_id": first.json()["items"][0]["community"]["id"]}
    file, by_python = await both_writers(client, headers, {**CSV, **filters}, written_in_python)
    assert file == by_python
    assert case_numbers(file) == await listed_numbers(client, headers, filters)


async def test_the_people_follow_the_case_list_in_both(
    client: httpx.AsyncClient, login: LoginFn, awkward: Ledger, session: AsyncSession
) -> None:
    """The reporter's two cells: in full to the reporter, masked to the community's staff, not
    at all to a dashboard viewer."""
    phone = await session.scalar(select(User.phone).where(User.username == "resident1"))
    assert phone
    first = awkward.numbers[0]  # resident1's
    shown: dict[str, tuple[Any, Any]] = {}
    for username in ("resident1", "staff1", "viewer"):
        rows = cells(await download(client, await login(username), "xlsx"))
        (row,) = [row for row in rows if row[0] == first]
        shown[username] = (row[12], row[13])
    assert shown["resident1"] == ('\'=吴桂兰, "小吴"', phone)
    assert shown["staff1"][0] == shown["resident1"][0]
    assert shown["staff1"][1] != phone
    assert "*" in shown["staff1"][1]
    assert shown["viewer"] == (None, None)


async def test_a_download_given_up_mid_batch_leaves_the_connections_sound(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    awkward: Ledger,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client that goes away while the next batch's COPY is under way (each batch made to
    take a minute): the batch is cancelled, on the server too, the connection goes back to the
    pool usable (or is dropped), and the next download is whole."""
    headers = await login("admin")
    whole = await download(client, headers, "csv")
    admin = (await session.scalars(select(User).where(User.username == "admin"))).one()
    principal = Principal(admin.id, "admin", await load_grants(session, admin.id))
    query = LedgerQuery(principal, ReportFilters(), NOW)
    statement = copy_statement

    def slow(*args: Any) -> str:
        # (the sleep first: pg_stat_activity shows a statement's first kilobyte)
        return (
            "WITH slow AS MATERIALIZED (SELECT pg_sleep(60)) SELECT batch.* "
            f"FROM ({statement(*args)}) AS batch WHERE (SELECT count(*) FROM slow) = 1"
        )

    monkeypatch.setattr(ledger_text, "copy_statement", slow)
    running = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()"
    )

    async def batches_running() -> int:
        count = await session.scalar(running)
        await session.rollback()  # (the activity is read once a transaction)
        return int(count or 0)

    monkeypatch.setattr(ledger_text, "TEXT_BATCH_SIZE", {"csv": 2, "xlsx": 2})
    for _ in range(3):  # more downloads given up than the pool keeps idle connections
        batches = ledger_text.ledger_text_batches(app.state.sessionmaker, query, "csv")
        reading_the_first = asyncio.ensure_future(anext(batches))
        for _ in range(200):  # until the first batch's COPY is under way
            if await batches_running():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the batch's COPY never started")
        reading_the_first.cancel()
        # Not a minute: the batch's COPY is cancelled, not waited for.
        done, _ = await asyncio.wait({reading_the_first}, timeout=10)
        assert done, "the batch's COPY was waited for"
        assert reading_the_first.cancelled()
        await asyncio.wait_for(batches.aclose(), timeout=10)
        assert await batches_running() == 0
    monkeypatch.setattr(ledger_text, "copy_statement", statement)
    assert await download(client, headers, "csv") == whole
