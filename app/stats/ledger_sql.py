"""The ledger's rows (app/stats/ledger.py) as the file's text, written by PostgreSQL: each batch's
statement returns every row as the CSV line or the sheet's ``<row>`` that app/stats/tabular.py
would write for it (each cell's SQL: app/stats/tabular_sql.py), and Python joins the rows.
Written a cell at a time in Python, 100,000 rows took 8 (CSV) and 12 (Excel) times as long as
PostgreSQL's own ``COPY`` of them; see README, "The ledger's ratio".

Two cells are not the database's to write: the reporter's name and phone number follow the case
list's access rules (``People``: app/cases/visibility.py, app/reports/presenter.py), which stay
in one place. The statement returns each row as the text before those two cells and the text
after them, with what ``People`` reads; the two cells are written in Python, once for each
reporter and what the caller sees of them, and put in between.

The batches are the Python path's: by key, each in a short transaction of its own, around the
same statement (``page_statement``, pruned to the months left). Elsewhere than on PostgreSQL
(SQLite) the rows are written a cell at a time in Python, to the same text."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Final, Literal

from sqlalchemy import (
    CTE,
    ColumnElement,
    DateTime,
    Float,
    Integer,
    Select,
    Subquery,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.pruning import KeyFollowsTime, within_period
from app.core.sql import settings_for_the_block
from app.labels.service import labels_in
from app.models import Job, Report, Unit
from app.models.enums import JobStatus, ReportStatus
from app.stats.ledger import (
    BATCH_SIZE,
    HUNDREDTH_OF_AN_HOUR,
    LEDGER_HEADERS,
    LedgerQuery,
    People,
    cases_statement,
    ledger_batches,
    page_statement,
)
from app.stats.tabular import (
    BATCH_ROWS,
    CSV_LINE_END,
    column_letters,
    csv_fields,
    csv_lines,
    inline_string_xml,
    row_xml,
    text_xml,
    xlsx_rows,
)
from app.stats.tabular_sql import (
    Kind,
    SqlColumn,
    csv_cell,
    excel_serial,
    joined,
    sql_string,
    xlsx_cell,
)

FileFormat = Literal["csv", "xlsx"]
# Cases read a batch. Each batch's statement is planned anew (for its values, see
# ledger_batches), some 15 ms at a time over the months of cases and of jobs; two batches are
# held at a time, some 25 MB of the sheet's rows each.
TEXT_BATCH_SIZE = 5_000
# A batch's transaction: its statement planned for its values (as ledger_batches's), and the
# memory to sort and join a batch's rows without temporary files (bench/stats.py gives its
# hand SQL as much).
_BATCH_SETTINGS: Final = {"plan_cache_mode": "force_custom_plan", "work_mem": "64MB"}

_CASE: Final = "ledger_case"  # the batch's cases (page_statement)
_LEAD: Final = "ledger_lead"  # their lead units
# A job's case, by the moment it was filed: its id (app/core/pruning.py).
_JOBS_CASE: Final = KeyFollowsTime(Job.report_id)
_REPORTS: Final = "reports"  # the table the cases are read from (Report), as the statement names it
_MOMENTS: Final = (
    "created_at",
    "accepted_at",
    "dispatched_at",
    "resolved_at",
    "closed_at",
    "accept_due_at",
    "resolve_due_at",
)
# What People reads of a row: the statement's columns after the text and the row's number.
_PEOPLE_KEY: Final = slice(3, 3 + len(People.READS))
_LETTERS: Final = column_letters(len(LEDGER_HEADERS))
_PEOPLE_AT: Final = LEDGER_HEADERS.index("上报人")  # the reporter, then the phone number
_NAME_LETTER, _PHONE_LETTER = _LETTERS[_PEOPLE_AT], _LETTERS[_PEOPLE_AT + 1]


def _column(name: str, kind: Kind = Kind.TEXT, vocabulary: str | None = None) -> SqlColumn:
    labels = labels_in("zh-CN").vocabularies[vocabulary] if vocabulary else None
    table = _LEAD if name == "lead_unit" else _CASE
    return SqlColumn(f"{table}.{name}", kind, labels)


@cache
def _cells_around_the_people() -> tuple[tuple[SqlColumn, ...], tuple[SqlColumn, ...]]:
    """The columns of LEDGER_HEADERS before the reporter's two and after them, as ``_cells``
    of app/stats/ledger.py fills them."""
    before = (
        _column("number"),
        _column("status", vocabulary="report_status"),
        _column("category_name"),
        _column("source", vocabulary="report_source"),
        _column("priority", vocabulary="priority"),
        _column("description"),
        _column("address"),
        _column("lat", Kind.FLOAT),
        _column("lng", Kind.FLOAT),
        _column("region_name"),
        _column("community_name"),
        _column("grid_name"),
    )
    after = (
        *(_column(moment, Kind.MOMENT) for moment in _MOMENTS),
        _column("lead_unit"),
        _column("supervision_level", vocabulary="supervision_level"),
        _column("rework_count", Kind.INTEGER),
        _column("held_hours", Kind.FLOAT),
        _column("closure_type", vocabulary="closure_type"),
        _column("satisfaction", vocabulary="satisfaction"),
    )
    assert len(before) == _PEOPLE_AT
    assert len(before) + 2 + len(after) == len(LEDGER_HEADERS)
    return before, after


@cache
def _row_text(file_format: FileFormat) -> tuple[str, str]:
    """The SQL of a row's text before the reporter's cells, and after them."""
    before, after = _cells_around_the_people()
    if file_format == "csv":
        return (
            joined([*map(csv_cell, before), "''"], ","),
            joined(["''", *map(csv_cell, after)], ",") + f" || {sql_string(CSV_LINE_END)}",
        )
    number = f"{_CASE}.row_number"
    start, end = row_xml("\0", "\1").split("\0")
    between, end = end.split("\1")
    after_letters = _LETTERS[_PEOPLE_AT + 2 :]
    serials: list[str | None] = [f"{_CASE}.{moment}_serial" for moment in _MOMENTS]
    serials += [None] * (len(after) - len(_MOMENTS))
    return (
        joined(
            [sql_string(start), number, sql_string(between)]
            + [
                xlsx_cell(column, letter, number)
                for column, letter in zip(before, _LETTERS[:_PEOPLE_AT], strict=True)
            ]
        ),
        joined(
            [
                xlsx_cell(column, letter, number, serial)
                for column, letter, serial in zip(after, after_letters, serials, strict=True)
            ]
            + [sql_string(end)]
        ),
    )


def _held_hours(now: datetime) -> ColumnElement[Any]:
    """Every hold's length in hours, as ledger._held_hours works it out in Python, step for
    step: the running hold's seconds exact (a numeric) then a double, hundredths of an hour
    rounded half to even (``round`` of a double), then divided by 100. The 0 added turns a
    negative zero into a zero, as Python's ``round``, which returns an int, does."""
    on_hold_at = Report.on_hold_at
    running = case(
        (
            and_(Report.status == ReportStatus.on_hold, on_hold_at.is_not(None)),
            cast(extract("epoch", literal(now, DateTime(timezone=True)) - on_hold_at), Float),
        ),
        else_=literal_column("0"),
    )
    hundredths = func.round((Report.held_seconds + running) / _double(HUNDREDTH_OF_AN_HOUR))
    return ((hundredths + literal_column("0")) / _double(100)).label("held_hours")


def _double(number: float) -> ColumnElement[float]:
    return literal_column(f"{number!r}::float8", Float)


def _worked_out(query: LedgerQuery, file_format: FileFormat) -> list[ColumnElement[Any]]:
    """What a row reads more than once, worked out once with the case: the hold's hours and,
    in the sheet, the row's number and each date's serial number."""
    columns: list[ColumnElement[Any]] = [_held_hours(query.now)]
    if file_format == "xlsx":
        number = bindparam("ledger_rows_before", type_=Integer) + func.row_number().over(
            order_by=(Report.created_at, Report.id)
        )
        columns.append(cast(number, Text).label("row_number"))  # as text: in every cell's ref
        columns += [
            literal_column(excel_serial(f"{_REPORTS}.{moment}"), Float).label(f"{moment}_serial")
            for moment in _MOMENTS
        ]
    return columns


def _lead_units(page: CTE, bounds: list[ColumnElement[bool]]) -> Subquery:
    """The lead unit of each case of the page (``lead_unit_name``: the latest lead job not
    declined), read in one pass over the jobs of the page's cases, by their ids in an array,
    where ``lead_unit_name`` would look each case's up in turn: in the months of the period
    left (``bounds``, known when the statement is planned) and, of those, from the least id of
    the page to the greatest (known when it starts)."""
    ids = select(page.c.id).scalar_subquery()
    return (
        select(Job.report_id, Unit.name.label("lead_unit"))
        .join(Unit, Unit.id == Job.unit_id)
        .where(
            Job.report_id == any_(func.array(ids)),
            # (PostgreSQL 15 has no min() or max() of uuids)
            Job.report_id.between(
                select(page.c.id).order_by(page.c.id).limit(1).scalar_subquery(),
                select(page.c.id).order_by(page.c.id.desc()).limit(1).scalar_subquery(),
            ),
            *bounds,
            Job.is_lead.is_(True),
            Job.status != JobStatus.declined,
        )
        .ext(distinct_on(Job.report_id))
        .order_by(Job.report_id, Job.created_at.desc(), Job.id.desc())
        .subquery(_LEAD)
    )


def _text_statement(
    session: AsyncSession,
    query: LedgerQuery,
    last: Any,
    batch_size: int,
    file_format: FileFormat,
) -> Select[*tuple[Any, ...]]:
    """The batch's rows as text, with what ``People`` reads and the cursor's keys."""
    cases = cases_statement(query, lead_unit=False).add_columns(*_worked_out(query, file_format))
    page = page_statement(session, query, last, batch_size, cases).cte(_CASE)
    start = query.filters.created_from if last is None else last.created_at
    lead = _lead_units(page, within_period(_JOBS_CASE, start, query.filters.created_to))
    head, tail = _row_text(file_format)
    row = page.c
    # As the driver reads them (no conversion a row): what People reads, the cursor's keys.
    keys = (*People.READS, "created_at", "id")
    plain: list[Any] = [literal_column(f"{_CASE}.{name}").label(name) for name in keys]
    return (
        select(
            # As bytes: the file's UTF-8, with no decoding and encoding again in between.
            literal_column(f"convert_to({head}, 'UTF8')").label("head"),
            literal_column(f"convert_to({tail}, 'UTF8')").label("tail"),
            literal_column(f"{_CASE}.row_number" if file_format == "xlsx" else "NULL").label(
                "row_number"
            ),
            *plain,
        )
        .select_from(page.outerjoin(lead, lead.c.report_id == row.id))
        .order_by(row.created_at, row.id)
    )


Shown = tuple[str | None, str | None]  # the reporter's name and phone number, or None


@dataclass(frozen=True)
class WrittenRows:
    """Rows of the file, each ended, in UTF-8 (``csv_written_chunks``, ``xlsx_written_chunks``
    of app/stats/tabular.py write them out)."""

    data: bytes
    rows: int


class _PeopleCells:
    """The reporter's two cells of each row as the file has them, in UTF-8, written once for
    each reporter, case's place and source (what ``People`` decides by)."""

    def __init__(self, people: People, file_format: FileFormat) -> None:
        self.people = people
        self._lines: dict[tuple[Any, ...], bytes] = {}
        self._shown_lines: dict[Shown, bytes] = {}
        self._texts: dict[tuple[Any, ...], Shown] = {}
        self.write = self._in_a_line if file_format == "csv" else self._in_a_row

    def _in_a_line(self, row: Any) -> bytes:
        line = self._lines.get(key := row[_PEOPLE_KEY])
        if line is None:
            shown = self.people.cells(row)
            line = self._shown_lines.get(shown)
            if line is None:
                line = self._shown_lines[shown] = csv_fields(shown).encode()
            self._lines[key] = line
        return line

    def _in_a_row(self, row: Any) -> bytes:
        texts = self._texts.get(key := row[_PEOPLE_KEY])
        if texts is None:
            name, phone = (
                None if cell is None else text_xml(cell) for cell in self.people.cells(row)
            )
            texts = self._texts[key] = (name, phone)
        name, phone = texts
        number = row.row_number
        return (
            ("" if name is None else inline_string_xml(f"{_NAME_LETTER}{number}", name))
            + ("" if phone is None else inline_string_xml(f"{_PHONE_LETTER}{number}", phone))
        ).encode()


def written_by_the_database(session: AsyncSession) -> bool:
    """Whether the rows' text is PostgreSQL's to write (SQLite has none of its functions)."""
    return session.get_bind().dialect.name == "postgresql"


async def ledger_text_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    *,
    batch_size: int | None = None,
) -> AsyncIterator[WrittenRows]:
    """The ledger's rows as the file's text (``csv_written_chunks``, ``xlsx_written_chunks``
    of app/stats/tabular.py write them out), a few hundred rows at a time; read ``batch_size``
    at a time (TEXT_BATCH_SIZE, or BATCH_SIZE where Python writes them), each batch in a
    session of its own, closed before the batch is handed on."""
    async with sessionmaker() as session:
        by_the_database = written_by_the_database(session)
    if by_the_database:
        size = batch_size or TEXT_BATCH_SIZE
        batches = _written_by_the_database(sessionmaker, query, file_format, size)
    else:
        batches = _written_in_python(sessionmaker, query, file_format, batch_size or BATCH_SIZE)
    async for batch in batches:
        yield batch


async def _written_by_the_database(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    batch_size: int,
) -> AsyncIterator[WrittenRows]:
    """Each batch is read while the one before is written out: PostgreSQL writes the next
    rows' text on one core while this process sends the last ones on the other. At most two
    batches are held, and a connection only while a batch is read."""
    people = _PeopleCells(People(query.principal), file_format)
    written = 1  # the headers' row
    reading = asyncio.ensure_future(
        _read(sessionmaker, query, file_format, None, written, batch_size)
    )
    try:
        while True:
            rows = await reading
            written += len(rows)
            more = len(rows) == batch_size
            if more:
                last = rows[-1]
                reading = asyncio.ensure_future(
                    _read(sessionmaker, query, file_format, last, written, batch_size)
                )
            for start in range(0, len(rows), BATCH_ROWS):
                part = rows[start : start + BATCH_ROWS]
                data = b"".join([row[0] + people.write(row) + row[1] for row in part])
                yield WrittenRows(data, len(part))
                # The reading of the next batch goes on: its round trips need the event loop,
                # which a writer that never waits (a fast client's) would otherwise not hand.
                await asyncio.sleep(0)
            if not more:
                return
    finally:
        if not reading.done():  # the download was given up
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading


async def _read(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    last: Any,
    written: int,
    batch_size: int,
) -> Sequence[Any]:
    """The batch after ``last`` (None: the first), its rows numbered after ``written``."""
    async with sessionmaker() as session, settings_for_the_block(session, _BATCH_SETTINGS):
        statement = _text_statement(session, query, last, batch_size, file_format)
        # Core rows: an ORM result would load each row through the ORM's machinery.
        connection = await session.connection()
        result = await connection.execute(statement, {"ledger_rows_before": written})
        return result.all()


async def _written_in_python(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    batch_size: int,
) -> AsyncIterator[WrittenRows]:
    written = 1  # the headers' row
    async for batch in ledger_batches(sessionmaker, query, batch_size=batch_size):
        if file_format == "csv":
            lines = csv_lines(batch)
        else:
            lines = xlsx_rows(written + 1, _LETTERS, batch)
        yield WrittenRows("".join(lines).encode(), len(lines))
        written += len(batch)
