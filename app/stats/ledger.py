"""The ledger (台账): every case the caller may see that matches the case list's filters, one row
a case with its key dates, oldest first, for download as CSV or Excel (app/stats/tabular.py).

The cases are read a batch at a time, by key (filing time, then id) after the last row of the
batch before, each batch in a short read-only transaction of its own: an export of any size
holds one batch in memory and no connection while its bytes travel. What a row shows of people
follows the case list: the reporter's name for those who see the case's people, the phone
number masked except to the reporter (app/reports/presenter.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.auth.scope import report_scope
from app.cases.columns import lead_unit_name
from app.cases.visibility import case_view
from app.core.pagination import SortKey, after_cursor, planned_for_its_values
from app.core.pruning import prunes, within_period
from app.labels.service import labels_in
from app.models import Category, Community, Grid, Region, Report, User
from app.models.enums import ReportStatus
from app.reports.presenter import Person, reporter_fields
from app.reports.queries import FILED_AT_ID, ReportFilters, filter_conditions
from app.stats.tabular import Cell

BATCH_SIZE: Final = 2_000
LEDGER_SHEET: Final = "台账"
LEDGER_HEADERS: Final = (
    "案件编号",
    "状态",
    "类别",
    "来源",
    "优先级",
    "描述",
    "地址",
    "纬度",
    "经度",
    "所属区域",
    "社区",
    "网格",
    "上报人",
    "上报人电话",
    "上报时间",
    "立案时间",
    "派遣时间",
    "办结时间",
    "结案时间",
    "受理时限",
    "办结时限",
    "主办单位",
    "督办级别",
    "返工次数",
    "挂账时长(小时)",
    "结案类型",
    "满意度",
)
HUNDREDTH_OF_AN_HOUR: Final = 36.0  # seconds


@dataclass(frozen=True)
class LedgerQuery:
    """Whose ledger, of which cases, at what moment ("now" decides the overdue filter and the
    length of a hold still running)."""

    principal: Principal
    filters: ReportFilters
    now: datetime

    def conditions(self) -> list[ColumnElement[bool]]:
        """The caller's scope and the case list's filters (its sort aside: oldest first)."""
        return [
            report_scope(self.principal),
            *filter_conditions(self.principal, self.filters, self.now),
        ]


# The columns of a report that a row shows (its people aside). Read as plain columns, not as
# Report objects: an ORM instance costs more to build than the whole row costs to write.
_SHOWN = (
    Report.id,
    Report.number,
    Report.status,
    Report.priority,
    Report.description,
    Report.address,
    Report.lat,
    Report.lng,
    Report.region_id,
    Report.supervision_level,
    Report.held_seconds,
    Report.rework_count,
    Report.closure_type,
    Report.satisfaction,
    Report.created_at,
    Report.accepted_at,
    Report.dispatched_at,
    Report.on_hold_at,
    Report.resolved_at,
    Report.closed_at,
    Report.accept_due_at,
    Report.resolve_due_at,
)
PLACE_REGION = aliased(Region)
# What People reads of a case: what its view of the case's people depends on (with the paths as
# ``case_with_paths`` joins them: the owning region's and the community's region's), and the
# people. (PostgreSQL's ledger decides the same in SQL: app/stats/ledger_sql.py.)
PEOPLE_COLUMNS = (
    Report.reporter_id,
    Report.community_id,
    Region.path.label("region_path"),
    PLACE_REGION.path.label("place_path"),
    Report.source,
    User.display_name.label("reporter_name"),
    User.phone.label("reporter_phone"),
)


def cases_statement(query: LedgerQuery, *, lead_unit: bool = True) -> Select[*tuple[Any, ...]]:
    """The cases with what a row shows and what decides what it shows of their people, oldest
    first; without ``lead_unit``, the lead unit is left for the caller to join."""
    return (
        select(
            *_SHOWN,
            *PEOPLE_COLUMNS,
            Category.name.label("category_name"),
            Region.name.label("region_name"),
            Community.name.label("community_name"),
            Grid.name.label("grid_name"),
            *([lead_unit_name()] if lead_unit else []),
        )
        .join(Region, Region.id == Report.region_id)
        .outerjoin(Community, Community.id == Report.community_id)
        .outerjoin(PLACE_REGION, PLACE_REGION.id == Community.region_id)
        .join(Category, Category.code == Report.category_code)
        .join(User, User.id == Report.reporter_id)
        .outerjoin(Grid, Grid.id == Report.grid_id)
        .where(*query.conditions())
        .order_by(Report.created_at, Report.id)
    )


LEDGER_ORDER = (SortKey(Report.created_at), SortKey(Report.id))


def _after(row: Any) -> ColumnElement[bool]:
    """The cases after ``row`` in the ledger's order: a row-value comparison, where the
    index scan of the next batch starts (spelled out as an OR it would read every case of the
    batches before again, and a ledger of 100,000 cases would cost 50 times as much)."""
    return after_cursor(LEDGER_ORDER, (row.created_at, row.id))


def _through(row: Any) -> ColumnElement[bool]:
    """The cases up to ``row`` in the ledger's order, ``row`` included."""
    keys = tuple_(Report.created_at, Report.id)
    return keys <= tuple_(
        literal(row.created_at, Report.created_at.type), literal(row.id, Report.id.type)
    )


def page_statement(
    session: AsyncSession,
    query: LedgerQuery,
    last: Any,
    batch_size: int,
    cases: Select[*tuple[Any, ...]] | None = None,
    through: Any = None,
) -> Select[*tuple[Any, ...]]:
    """The ``batch_size`` cases after ``last`` (a row of the batch before, or None), with what
    their rows show (``cases``: ``cases_statement`` or one made from it); or, ``through`` a
    row (``batch_end_statement``'s), every case after ``last`` up to it, however many."""
    page = cases_statement(query) if cases is None else cases
    page = page.limit(batch_size) if through is None else page.where(_through(through))
    if last is not None:
        page = page.where(_after(last))
    if prunes(session):  # the months from the last row's to the period's end alone
        start = query.filters.created_from if last is None else last.created_at
        page = page.where(*within_period(FILED_AT_ID, start, query.filters.created_to))
    return page


def batch_end_statement(
    session: AsyncSession, query: LedgerQuery, last: Any, batch_size: int
) -> Select[*tuple[Any, ...]]:
    """The keys (``created_at``, ``id``) of the ``batch_size``-th case after ``last``: where a
    whole batch after ``last`` ends; no row when fewer are left. A batch read ``through`` them
    needs nothing of the batch before but where it ends, so batches can be read side by side."""
    keys = cases_statement(query, lead_unit=False).with_only_columns(Report.created_at, Report.id)
    return page_statement(session, query, last, batch_size, keys).offset(batch_size - 1).limit(1)


def _held_hours(row: Any, now: datetime) -> float:
    """Every hold's length, the one still running included, in calendar hours to the hundredth.
    Worked out in doubles as app/stats/ledger_sql.py works it out in PostgreSQL, step for step,
    so that both write the same figure: the running hold's seconds exact to the microsecond
    then rounded to a double, hundredths of an hour (36 s) rounded half to even (``round`` and
    PostgreSQL's ``round`` of a double both do), then divided by 100."""
    seconds: float = row.held_seconds
    if row.status is ReportStatus.on_hold and row.on_hold_at is not None:
        seconds += (now - row.on_hold_at).total_seconds()
    return round(seconds / HUNDREDTH_OF_AN_HOUR) / 100


class People:
    """The reporter's name and phone number as the case list shows them to one caller, for
    every row of a ledger: whether the caller sees a case's people depends only on the case's
    community, owning region, community's region and whether the caller reported it
    (app/cases/visibility.py), and a ledger has few of those; so has it of reporters' phones.
    Each is worked out once."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self._sees: dict[tuple[Any, ...], bool] = {}
        self._phones: dict[tuple[uuid.UUID, str | None], str | None] = {}

    def cells(self, row: Any) -> tuple[str | None, str | None]:
        own = row.reporter_id == self.principal.user_id
        key = (row.community_id, own, row.region_path, row.place_path, row.source)
        sees = self._sees.get(key)
        if sees is None:
            case = Report(
                community_id=row.community_id, reporter_id=row.reporter_id, source=row.source
            )
            sees = case_view(self.principal, case, row.region_path, row.place_path).people
            self._sees[key] = sees
        if not sees:
            return None, None
        phone_key = (row.reporter_id, row.reporter_phone)
        if phone_key not in self._phones:
            case = Report(reporter_id=row.reporter_id)
            person = Person(row.reporter_id, row.reporter_name, row.reporter_phone)
            self._phones[phone_key] = reporter_fields(case, person, self.principal)["phone"]
        return row.reporter_name, self._phones[phone_key]


def _cells(row: Any, query: LedgerQuery, people: People) -> list[Cell]:
    """One case as a ledger row, in the order of LEDGER_HEADERS."""
    labels = labels_in("zh-CN").vocabularies
    reporter, phone = people.cells(row)
    return [
        row.number,
        labels["report_status"][row.status],
        row.category_name,
        labels["report_source"][row.source],
        labels["priority"][row.priority],
        row.description,
        row.address,
        row.lat,
        row.lng,
        row.region_name,
        row.community_name,
        row.grid_name,
        reporter,
        phone,
        row.created_at,
        row.accepted_at,
        row.dispatched_at,
        row.resolved_at,
        row.closed_at,
        row.accept_due_at,
        row.resolve_due_at,
        row.lead_unit,
        labels["supervision_level"].get(row.supervision_level or ""),
        row.rework_count,
        _held_hours(row, query.now),
        labels["closure_type"].get(row.closure_type or ""),
        labels["satisfaction"].get(row.satisfaction or ""),
    ]


async def count_ledger(session: AsyncSession, query: LedgerQuery) -> int:
    """How many rows the ledger has (for a progress bar: cases filed meanwhile may add some)."""
    total = await session.scalar(
        select(func.count()).select_from(Report).where(*query.conditions())
    )
    return int(total or 0)


async def ledger_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    *,
    batch_size: int = BATCH_SIZE,
) -> AsyncIterator[list[list[Cell]]]:
    """The ledger's rows, ``batch_size`` at a time, each batch read in a session of its own
    that is closed before the batch is handed on."""
    people = People(query.principal)
    last: Any = None
    while True:
        async with sessionmaker() as session, planned_for_its_values(session, True):
            page = page_statement(session, query, last, batch_size)
            rows = (await session.execute(page)).all()
            batch = [_cells(row, query, people) for row in rows]
        if batch:
            yield batch
        if len(rows) < batch_size:
            return
        last = rows[-1]
