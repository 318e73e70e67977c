"""The ledger (台账): every case the caller may see that matches the case list's filters, one row
a case with its key dates, oldest first, for download as CSV or Excel (app/stats/tabular.py).

The cases are read a batch at a time, by key (filing time, then id) after the last row of the
batch before, each batch in a short read-only transaction of its own: an export of any size
holds one batch in memory and no connection while its bytes travel. What a row shows of people
follows the case list: the reporter's name for those who see the case's people, the phone
number masked except to the reporter (app/reports/presenter.py)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import load_only

from app.auth.principal import Principal
from app.auth.scope import report_scope
from app.cases.columns import lead_unit_name
from app.cases.visibility import case_view
from app.core.pagination import SortKey, after_cursor, planned_for_its_values
from app.labels.service import labels_in
from app.models import Category, Community, Grid, Region, Report, User
from app.models.enums import ReportStatus
from app.reports.presenter import Person, case_with_paths, reporter_fields
from app.reports.queries import ReportFilters, filter_conditions
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
SECONDS_PER_HOUR: Final = 3600


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


# The columns of a report that a row shows or that decide what it shows.
_SHOWN = (
    Report.number,
    Report.status,
    Report.priority,
    Report.source,
    Report.description,
    Report.address,
    Report.lat,
    Report.lng,
    Report.reporter_id,
    Report.community_id,
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


def _statement(query: LedgerQuery) -> Select[Any]:
    """The cases with what a row shows, oldest first (region and community are the ones
    ``case_with_paths`` joins: the owning region and the case's community)."""
    return (
        case_with_paths()
        .add_columns(
            Category.name.label("category_name"),
            Region.name.label("region_name"),
            Community.name.label("community_name"),
            Grid.name.label("grid_name"),
            User.display_name.label("reporter_name"),
            User.phone.label("reporter_phone"),
            lead_unit_name(),
        )
        .join(Category, Category.code == Report.category_code)
        .join(User, User.id == Report.reporter_id)
        .outerjoin(Grid, Grid.id == Report.grid_id)
        .where(*query.conditions())
        .order_by(Report.created_at, Report.id)
        .options(load_only(*_SHOWN))
    )


LEDGER_ORDER = (SortKey(Report.created_at), SortKey(Report.id))


def _after(report: Report) -> ColumnElement[bool]:
    """The cases after ``report`` in the ledger's order: a row-value comparison, where the
    index scan of the next batch starts (spelled out as an OR it would read every case of the
    batches before again, and a ledger of 100,000 cases would cost 50 times as much)."""
    return after_cursor(LEDGER_ORDER, (report.created_at, report.id))


def _held_hours(report: Report, now: datetime) -> float:
    """Every hold's length, the one still running included, in calendar hours."""
    seconds = report.held_seconds
    if report.status is ReportStatus.on_hold and report.on_hold_at is not None:
        seconds += (now - report.on_hold_at).total_seconds()
    return round(seconds / SECONDS_PER_HOUR, 2)


def _reporter_cells(row: Any, principal: Principal) -> tuple[str | None, str | None]:
    """The reporter's name and phone number as the case list shows them to ``principal``;
    nothing for those who do not see the case's people."""
    report: Report = row.Report
    if not case_view(principal, report, row.region_path, row.place_path).people:
        return None, None
    person = Person(report.reporter_id, row.reporter_name, row.reporter_phone)
    shown = reporter_fields(report, person, principal)
    return shown["display_name"], shown["phone"]


def _cells(row: Any, query: LedgerQuery) -> list[Cell]:
    """One case as a ledger row, in the order of LEDGER_HEADERS."""
    report: Report = row.Report
    labels = labels_in("zh-CN").vocabularies
    reporter, phone = _reporter_cells(row, query.principal)
    return [
        report.number,
        labels["report_status"][report.status],
        row.category_name,
        labels["report_source"][report.source],
        labels["priority"][report.priority],
        report.description,
        report.address,
        report.lat,
        report.lng,
        row.region_name,
        row.community_name,
        row.grid_name,
        reporter,
        phone,
        report.created_at,
        report.accepted_at,
        report.dispatched_at,
        report.resolved_at,
        report.closed_at,
        report.accept_due_at,
        report.resolve_due_at,
        row.lead_unit,
        labels["supervision_level"].get(report.supervision_level or ""),
        report.rework_count,
        _held_hours(report, query.now),
        labels["closure_type"].get(report.closure_type or ""),
        labels["satisfaction"].get(report.satisfaction or ""),
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
    statement = _statement(query).limit(batch_size)
    last: Report | None = None
    while True:
        async with sessionmaker() as session, planned_for_its_values(session, True):
            page = statement if last is None else statement.where(_after(last))
            rows = (await session.execute(page)).all()
            batch = [_cells(row, query) for row in rows]
        if batch:
            yield batch
        if len(rows) < batch_size:
            return
        last = rows[-1].Report


async def rows_of(batches: AsyncIterable[Sequence[list[Cell]]]) -> AsyncIterator[list[Cell]]:
    """The rows of the batches, one at a time, as the writers of app/stats/tabular.py read."""
    async for batch in batches:
        for row in batch:
            yield row
