"""The statement of a batch of the ledger (app/stats/ledger.py) written by PostgreSQL: it
returns every row as the CSV line or the sheet's ``<row>`` that app/stats/tabular.py would
write for it (each cell's SQL: app/stats/tabular_sql.py), in UTF-8. Written a cell at a time in
Python, 100,000 rows took 8 (CSV) and 12 (Excel) times as long as PostgreSQL's own ``COPY`` of
them; see README, "The ledger's ratio".

Two cells are not the database's to write: the reporter's name and phone number follow the case
list's access rules (``People``: app/cases/visibility.py, app/reports/presenter.py), which stay
in one place. The statement returns each row as the text before those two cells and the text
after them, with what ``People`` reads (app/stats/ledger_text.py puts the two cells in).

The batch is the Python path's: the cases after a cursor, oldest first, pruned to the months
left (``page_statement``)."""

from __future__ import annotations

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
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pruning import KeyFollowsTime, within_period
from app.labels.service import labels_in
from app.models import Job, Report, Unit
from app.models.enums import JobStatus, ReportStatus
from app.stats.ledger import (
    HUNDREDTH_OF_AN_HOUR,
    LEDGER_HEADERS,
    LedgerQuery,
    People,
    cases_statement,
    page_statement,
)
from app.stats.tabular import (
    CSV_LINE_END,
    column_letters,
    row_xml,
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
PEOPLE_KEY: Final = slice(3, 3 + len(People.READS))
LETTERS: Final = column_letters(len(LEDGER_HEADERS))
_PEOPLE_AT: Final = LEDGER_HEADERS.index("上报人")  # the reporter, then the phone number
NAME_LETTER, PHONE_LETTER = LETTERS[_PEOPLE_AT], LETTERS[_PEOPLE_AT + 1]


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
    after_letters = LETTERS[_PEOPLE_AT + 2 :]
    serials: list[str | None] = [f"{_CASE}.{moment}_serial" for moment in _MOMENTS]
    serials += [None] * (len(after) - len(_MOMENTS))
    return (
        joined(
            [sql_string(start), number, sql_string(between)]
            + [
                xlsx_cell(column, letter, number)
                for column, letter in zip(before, LETTERS[:_PEOPLE_AT], strict=True)
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


def text_statement(
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
