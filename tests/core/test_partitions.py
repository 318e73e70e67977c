"""The case tables' month partitions (PostgreSQL): made by the migration and ahead of time, a
case and its rows in the month it was filed, a page skipping the months after its cursor, old
months detached whole and attached again, uniqueness held in each partition."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.partitions import (
    AttachRefused,
    Month,
    attach_month,
    attached_months,
    detach_before,
    make_ahead,
    make_month,
)
from app.models.partitioning import CASE_TABLES, partition_name
from tests.conftest import PG_URL, LoginFn
from tests.reports.conftest import SubmitFn
from tests.reports.test_read_statement_count import add_case

postgresql = pytest.mark.skipif(not PG_URL, reason="partitions are PostgreSQL's")

NOW = datetime.now(UTC)
# Three past months, made for the test's cases (the migration makes this month and after).
PAST = [Month(2026, 8), Month(2026, 9), Month(2026, 10)]


def _at(month: Month, day: int) -> datetime:
    return month.start().astimezone(UTC) + timedelta(days=day, hours=3)


async def _home(session: AsyncSession, table: str, column: str, value: uuid.UUID) -> set[str]:
    rows = await session.execute(
        text(f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE {column} = :v"),
        {"v": value},
    )
    return {row[0] for row in rows}


@postgresql
async def test_the_migration_makes_this_month_two_ahead_and_a_default(
    session: AsyncSession,
) -> None:
    for table in CASE_TABLES:
        kind = await session.scalar(
            text("SELECT relkind::text FROM pg_class WHERE relname = :t"), {"t": table.name}
        )
        assert kind == "p", table.name
        default = await session.scalar(
            text("SELECT to_regclass(:n)::text"), {"n": f"{table.name}_default"}
        )
        assert default == f"{table.name}_default"
    attached = await attached_months(session)
    this = Month.of(NOW)
    assert all({this, this.plus(1), this.plus(2)} <= set(months) for months in attached.values())


@postgresql
async def test_the_coming_months_are_made_once(session: AsyncSession) -> None:
    later = NOW + timedelta(days=200)
    made = await make_ahead(session, later, 2)
    wanted = [Month.of(later).plus(i) for i in range(3)]
    assert made == [
        partition_name(table.name, month.year, month.month)
        for month in wanted
        for table in CASE_TABLES
    ]
    await session.commit()
    assert await make_ahead(session, later, 2) == []
    attached = await attached_months(session)
    assert all(set(wanted) <= set(months) for months in attached.values())


@postgresql
async def test_a_filed_case_and_its_rows_live_in_the_month_it_was_filed(
    submit: SubmitFn, session: AsyncSession
) -> None:
    response = await submit("courier1")
    assert response.status_code == 201, response.text
    case_id = uuid.UUID(response.json()["id"])
    month = Month.of(datetime.fromisoformat(response.json()["created_at"]))
    assert await _home(session, "reports", "id", case_id) == {
        partition_name("reports", month.year, month.month)
    }
    for table in ("photos", "report_events"):
        assert await _home(session, table, "report_id", case_id) == {
            partition_name(table, month.year, month.month)
        }


@pytest.fixture
async def months_of_cases(session: AsyncSession) -> dict[Month, list[uuid.UUID]]:
    """Four cases in each of three past months (with photos and jobs)."""
    for month in PAST:
        assert await make_month(session, month)
    made: dict[Month, list[uuid.UUID]] = {}
    for month in PAST:
        made[month] = [
            await add_case(session, _at(month, day), photos=1, jobs=1, rated=False)
            for day in (1, 5, 9, 13)
        ]
    await session.commit()
    return made


def _capture(app: FastAPI) -> tuple[list[tuple[str, Any]], Any]:
    sent: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        sent.append((args[2], args[3]))

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    return sent, record


async def _partitions_read(session: AsyncSession, statement: str, parameters: Any) -> set[str]:
    """The partitions ``statement`` reads when PostgreSQL runs it (EXPLAIN ANALYZE: those left
    out when it was planned or started, or at each run of a subquery, are not)."""
    conn = await session.connection()
    explain = "EXPLAIN (ANALYZE, FORMAT JSON) "
    plan = (await conn.exec_driver_sql(explain + statement, parameters)).scalar()
    return _relations_run(plan)


def _relations_run(plan: Any) -> set[str]:
    """The tables an EXPLAIN ANALYZE (FORMAT JSON) shows were read (not those never run)."""
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if node.get("Actual Loops") == 0:
            return
        if "Relation Name" in node:
            found.add(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    assert plan is not None
    walk((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    return found


def _literal(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "'{" + ",".join(str(item) for item in value) + "}'"
    return "'" + str(value).replace("'", "''") + "'"


async def _partitions_read_generic(
    session: AsyncSession, statement: str, parameters: Any
) -> set[str]:
    """The partitions ``statement`` reads run as a connection runs it after its first five
    times: one plan for any values (a generic plan), whose months PostgreSQL can leave out
    only when it starts the statement with the values given."""
    conn = await session.connection()
    await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    await conn.exec_driver_sql(f"PREPARE probe AS {statement}")
    values = ", ".join(_literal(value) for value in parameters)
    explained = await conn.exec_driver_sql(
        f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE probe({values})"
    )
    plan = explained.scalar()
    await conn.exec_driver_sql("DEALLOCATE probe")
    return _relations_run(plan)


@postgresql
async def test_a_page_reads_no_month_after_its_cursor(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    months_of_cases: dict[Month, list[uuid.UUID]],
) -> None:
    headers = await login("staff1")
    sent, record = _capture(app)
    seen: list[str] = []
    cursor_month: Month | None = None
    url = "/api/v1/reports?limit=3"
    try:
        while url:
            sent.clear()
            page = (await client.get(url, headers=headers)).json()
            seen += [item["id"] for item in page["items"]]
            if cursor_month is not None:
                statement, parameters = next((s, p) for s, p in sent if "LIMIT" in s)
                read = await _partitions_read(session, statement, parameters)
                reports_read = {name for name in read if name.startswith("reports_")}
                later = {
                    partition_name("reports", m.year, m.month)
                    for m in (*PAST, Month.of(NOW))
                    if m > cursor_month
                }
                assert reports_read, read
                assert not reports_read & later, (cursor_month, reports_read)
            if not page.get("next_cursor"):
                break
            cursor_month = Month.of(datetime.fromisoformat(page["items"][-1]["created_at"]))
            url = f"/api/v1/reports?limit=3&cursor={page['next_cursor']}"
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)
    every = [str(case) for cases in months_of_cases.values() for case in cases]
    assert set(every) <= set(seen)
    assert len(seen) == len(set(seen))


@postgresql
async def test_old_months_are_detached_whole_with_their_rows(
    session: AsyncSession, months_of_cases: dict[Month, list[uuid.UUID]]
) -> None:
    detached = await detach_before(session, PAST[1])
    await session.commit()
    first = PAST[0]
    assert detached == [
        partition_name(table.name, first.year, first.month) for table in reversed(CASE_TABLES)
    ]
    gone = months_of_cases[first][0]
    assert await _home(session, "reports", "id", gone) == set()
    kept = months_of_cases[PAST[1]][0]
    assert await _home(session, "jobs", "report_id", kept) == {
        partition_name("jobs", PAST[1].year, PAST[1].month)
    }
    archived = partition_name("reports", first.year, first.month)
    assert await session.scalar(text(f"SELECT count(*) FROM {archived}")) == 4
    # The archive is self-contained: no foreign key of a detached table points into the cases.
    keys = await session.scalars(
        text(
            "SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
            " AND conrelid::regclass::text LIKE :pattern"
        ),
        {"pattern": f"%_p{first.year:04d}{first.month:02d}"},
    )
    onto_cases = [t for t in keys.all() if t.split("_p")[0] in {c.name for c in CASE_TABLES}]
    assert onto_cases == []


async def _keys_onto_cases(session: AsyncSession, month: Month) -> set[tuple[str, str]]:
    """The foreign keys of ``month``'s tables onto the case tables (table, referenced)."""
    rows = await session.execute(
        text(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid::regclass::text LIKE :pattern"
        ),
        {"pattern": f"%_p{month.year:04d}{month.month:02d}"},
    )
    cases = {c.name for c in CASE_TABLES}
    return {(t, r) for t, r in rows.all() if r.split("_p")[0] in cases}


@postgresql
async def test_a_detached_month_is_attached_again_with_its_rows_and_keys(
    session: AsyncSession, months_of_cases: dict[Month, list[uuid.UUID]]
) -> None:
    first = PAST[0]
    keys_before = await _keys_onto_cases(session, first)
    assert keys_before  # photos, events, jobs … name their cases
    await detach_before(session, PAST[1])
    await session.commit()

    attached = await attach_month(session, first)
    await session.commit()
    assert attached == [partition_name(t.name, first.year, first.month) for t in CASE_TABLES]
    case = months_of_cases[first][0]
    for table, column in (("reports", "id"), ("jobs", "report_id"), ("photos", "report_id")):
        assert await _home(session, table, column, case) == {
            partition_name(table, first.year, first.month)
        }
    assert all(first in months for months in (await attached_months(session)).values())
    # The keys onto the cases came back with the attaching: the month is whole again.
    assert await _keys_onto_cases(session, first) == keys_before
    assert await attach_month(session, first) == []  # nothing of it stands apart now


@postgresql
async def test_a_month_is_not_attached_without_its_cases_or_over_newer_rows(
    session: AsyncSession, months_of_cases: dict[Month, list[uuid.UUID]]
) -> None:
    first = PAST[0]
    await detach_before(session, PAST[1])
    await session.commit()
    # A case filed into that month meanwhile went to the default partition.
    late = await add_case(session, _at(first, 20), photos=1, jobs=0, rated=False)
    await session.commit()
    assert await _home(session, "reports", "id", late) == {"reports_default"}
    with pytest.raises(AttachRefused, match="default partitions"):
        await attach_month(session, first)
    await session.rollback()
    for table, column in (("photos", "report_id"), ("reports", "id")):
        await session.execute(text(f"DELETE FROM {table} WHERE {column} = :id"), {"id": late})
    # The month's cases dropped, the rows hanging off them kept: they would name no case.
    await session.execute(text(f"DROP TABLE {partition_name('reports', first.year, first.month)}"))
    await session.commit()
    with pytest.raises(AttachRefused, match="cases come first"):
        await attach_month(session, first)


@postgresql
async def test_a_month_the_default_partition_holds_is_left_to_it(session: AsyncSession) -> None:
    far = Month(2031, 7)
    case = await add_case(session, _at(far, 2), photos=1, jobs=0, rated=False)
    assert await _home(session, "reports", "id", case) == {"reports_default"}
    assert await make_month(session, far) == []
    assert await _home(session, "reports", "id", case) == {"reports_default"}


@postgresql
async def test_a_case_number_is_unique_within_its_month(
    session: AsyncSession, months_of_cases: dict[Month, list[uuid.UUID]]
) -> None:
    first, second = months_of_cases[PAST[0]][:2]
    number = await session.scalar(text("SELECT number FROM reports WHERE id = :i"), {"i": first})
    with pytest.raises(IntegrityError, match="reports_p202608_number"):
        await session.execute(
            text("UPDATE reports SET number = :n WHERE id = :i"), {"n": number, "i": second}
        )


@postgresql
async def test_a_case_id_must_be_its_filing_moment(session: AsyncSession) -> None:
    case = await add_case(session, _at(PAST[2], 3), photos=1, jobs=0, rated=False)
    with pytest.raises(IntegrityError, match="ck_reports_id_is_filing_moment"):
        await session.execute(
            text("UPDATE reports SET created_at = created_at - interval '1 day' WHERE id = :i"),
            {"i": case},
        )


def test_a_month_is_read_as_yyyy_mm_only() -> None:
    assert Month.parse("2026-02") == Month(2026, 2)
    assert Month(2026, 12).plus(1) == Month(2027, 1)
    assert Month(2026, 1).plus(-1) == Month(2025, 12)
    low, high = Month(2026, 12).bounds()
    # 2026-12-01 and 2027-01-01, midnight in China
    assert (low, high) == (
        "01a22d2f-3c00-0000-0000-000000000000",
        "01a2ccd4-6000-0000-0000-000000000000",
    )
    for bad in ("2026-13", "2026-1", "26-01", "2026/01", "2026-00", "latest"):
        with pytest.raises(ValueError, match="not a month"):
            Month.parse(bad)


@postgresql
async def test_a_pages_cases_are_read_with_their_rows_from_their_month_alone(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    months_of_cases: dict[Month, list[uuid.UUID]],
) -> None:
    """The cases of a page, their photos and their jobs are read by id: a range of the ids
    beside the array lets PostgreSQL read only the months they were filed in."""
    headers = await login("staff1")
    sent, record = _capture(app)
    try:
        page = (await client.get("/api/v1/reports?limit=3", headers=headers)).json()["items"]
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)
    months = {Month.of(datetime.fromisoformat(item["created_at"])) for item in page}
    assert months == {PAST[-1]}
    for table in ("photos", "jobs"):
        statement, parameters = next((s, p) for s, p in sent if f"FROM {table}" in s)
        read = {
            name
            for name in await _partitions_read_generic(session, statement, parameters)
            if name.startswith(f"{table}_")
        }
        assert read == {partition_name(table, PAST[-1].year, PAST[-1].month)}, read


@postgresql
async def test_a_units_page_of_jobs_is_read_from_its_cases_months_alone(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    months_of_cases: dict[Month, list[uuid.UUID]],
) -> None:
    """The jobs of a unit's page are read by id with their cases' range beside the ids: the
    months none of their cases was filed in are left out, where the ids alone had every
    month's key index probed."""
    headers = await login("unit1")
    sent, record = _capture(app)
    try:
        page = (await client.get("/api/v1/jobs?limit=3", headers=headers)).json()["items"]
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)
    assert {uuid.UUID(job["report_id"]) for job in page} <= set(months_of_cases[PAST[-1]])
    statement, parameters = next(
        (s, p) for s, p in sent if "FROM jobs" in s and "ANY" in s and "LIMIT" not in s
    )
    read = {
        name
        for name in await _partitions_read_generic(session, statement, parameters)
        if name.startswith("jobs_")
    }
    assert read == {partition_name("jobs", PAST[-1].year, PAST[-1].month)}, read
