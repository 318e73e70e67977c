"""The statement of a batch of the ledger (app/stats/ledger.py) written by PostgreSQL's ``COPY``:
for CSV each row's cells as the text that app/stats/tabular.py would write for them, left to
COPY to quote; for the sheet each row's ``<row>`` element, one column in COPY's text format (each
cell's SQL: app/stats/tabular_sql.py). Written a cell at a time in Python, 100,000 rows took 8
(CSV) and 12 (Excel) times as long as a plain ``COPY`` of them; see README, "The ledger's ratio".

The reporter's name and phone number follow the case list's access rules: ``sees_people``
(app/cases/visibility.py) and ``masked_phone_sql`` (app/core/phones.py) are the SQL twins of
``case_view`` and ``mask_phone``, held equal to them by their tests.

The batch is the Python path's: the cases after a cursor, oldest first, pruned to the months
left (``page_statement``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar, Final, Literal

from sqlalchemy import (
    CTE,
    ColumnElement,
    DateTime,
    Float,
    Select,
    Subquery,
    Text,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.cases.visibility import sees_people
from app.core.phones import masked_phone_sql
from app.core.pruning import KeyFollowsTime, within_period
from app.core.sql import sql_string
from app.labels.service import labels_in
from app.models import Job, Region, Report, Unit, User
from app.models.enums import JobStatus, ReportStatus
from app.stats.ledger import (
    HUNDREDTH_OF_AN_HOUR,
    LEDGER_HEADERS,
    PLACE_REGION,
    LedgerQuery,
    cases_statement,
    page_statement,
)
from app.stats.tabular import ROW_END, row_xml
from app.stats.tabular_sql import (
    Kind,
    SqlColumn,
    csv_value,
    excel_serial,
    joined,
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
_PEOPLE_AT: Final = LEDGER_HEADERS.index("上报人")  # the reporter, then the phone number
# The batch's end line sorts after its rows, however many (a bigint's greatest value).
_AFTER_EVERY_ROW: Final = 2**63 - 1


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


def _people(principal: Principal) -> list[ColumnElement[Any]]:
    """The reporter's name and phone number as ``People`` shows them to ``principal``: the
    name to those who see the case's people, the number masked but to the reporter."""
    seen = sees_people(
        principal,
        community_id=Report.community_id,
        reporter_id=Report.reporter_id,
        region_path=Region.path,
        place_path=PLACE_REGION.path,
    )
    masked = literal_column(masked_phone_sql(f"{User.__tablename__}.phone"), Text)
    own = Report.reporter_id == principal.user_id if principal.user_id else false()
    return [
        case((seen, User.display_name)).label("shown_name"),
        case((seen, case((own, User.phone), else_=masked))).label("shown_phone"),
    ]


@cache
def _csv_values() -> tuple[str, ...]:
    """The SQL of each cell's text before COPY quotes it, NULL for an empty cell."""
    before, after = _cells_around_the_people()
    people = (_column("shown_name"), _column("shown_phone"))
    return tuple(csv_value(column) for column in (*before, *people, *after))


@cache
def _row_xml() -> str:
    """The SQL of a row's ``<row>`` element, its line's end aside (COPY ends each line)."""
    before, after = _cells_around_the_people()
    columns = (*before, _column("shown_name"), _column("shown_phone"), *after)
    start, end = row_xml("\0").split("\0")
    serials = {f"{_CASE}.{moment}": f"{_CASE}.{moment}_serial" for moment in _MOMENTS}
    return joined(
        [sql_string(start)]
        + [xlsx_cell(column, serials.get(column.sql)) for column in columns]
        + [sql_string(end.removesuffix(ROW_END))]
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
    in the sheet, each date's serial number."""
    in_the_batch = func.row_number().over(order_by=(Report.created_at, Report.id))
    columns: list[ColumnElement[Any]] = [
        _held_hours(query.now),
        in_the_batch.label("batch_row"),  # (the last, BatchEnd's, found by it: no sort)
    ]
    if file_format == "xlsx":
        columns += [
            literal_column(excel_serial(f"{_REPORTS}.{moment}"), Float).label(f"{moment}_serial")
            for moment in _MOMENTS
        ]
    return columns


def _lead_units(page: CTE, bounds: list[ColumnElement[bool]]) -> Subquery:
    """The lead unit of each case of the page (``lead_unit_name``: the latest lead job not
    declined), read in one pass over the jobs of the page's cases, joined to the page, where
    ``lead_unit_name`` would look each case's up in turn: in the months of the period left
    (``bounds``, known when the statement is planned) and, of those, from the least id of the
    page to the greatest (known when it starts)."""
    return (
        select(Job.report_id, Unit.name.label("lead_unit"))
        .join(Unit, Unit.id == Job.unit_id)
        .join(page, page.c.id == Job.report_id)
        .where(
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


def copy_statement(
    session: AsyncSession,
    query: LedgerQuery,
    last: Any,
    batch_size: int,
    file_format: FileFormat,
    through: Any = None,
) -> str:
    """The batch after ``last`` (a ``BatchEnd``, None: the first), ``batch_size`` cases or
    those up to ``through`` (``page_statement``), as the statement COPY writes out, all values
    written into it: in CSV, each row's cells; for the sheet, each row's ``<row>`` (COPY's text
    format, one column). A last line follows the rows: how many there were and the keys of the
    last (``BatchEnd.read``), where the next batch starts."""
    cases = (
        cases_statement(query, lead_unit=False)
        .add_columns(*_people(query.principal))
        .add_columns(*_worked_out(query, file_format))
    )
    page = page_statement(session, query, last, batch_size, cases, through).cte(_CASE)
    start = query.filters.created_from if last is None else last.created_at
    lead = _lead_units(page, within_period(_JOBS_CASE, start, query.filters.created_to))
    texts = _csv_values() if file_format == "csv" else (_row_xml(),)
    cells: list[ColumnElement[Any]] = [
        literal_column(sql).label(f"cell{i}") for i, sql in enumerate(texts)
    ]
    row = page.c
    rows = select(*cells, row.batch_row).select_from(
        page.outerjoin(lead, lead.c.report_id == row.id)
    )
    end: Select[*tuple[Any, ...]] = select(
        literal_column(BatchEnd.SQL.format(cases=_CASE)).label("cell0"),
        *(null().label(f"cell{i}") for i in range(1, len(cells))),
        literal_column(str(_AFTER_EVERY_ROW)).label("batch_row"),
    )
    both = union_all(rows, end).subquery("ledger_rows")
    statement = select(*(both.c[f"cell{i}"] for i in range(len(cells)))).order_by(both.c.batch_row)
    return str(
        statement.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
    )


@dataclass(frozen=True)
class BatchEnd:
    """The last line of a batch's COPY: its rows and the keys of the last (a cursor)."""

    rows: int
    created_at: datetime | None
    id: uuid.UUID | None

    # (as UTC text to the microsecond: the keys compare exactly with the next batch's)
    SQL: ClassVar[str] = (
        "(SELECT count(*) FROM {cases})::text || ' ' || coalesce((SELECT "
        "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || ' ' || id::text "
        "FROM {cases} WHERE batch_row = (SELECT count(*) FROM {cases})), '')"
    )

    @classmethod
    def read(cls, line: bytes) -> BatchEnd:
        count, *last = line.decode().split(",", 1)[0].strip().split(" ")
        if not last or not last[0]:
            return cls(int(count), None, None)
        moment = datetime.fromisoformat(last[0]).replace(tzinfo=UTC)
        return cls(int(count), moment, uuid.UUID(last[1]))
