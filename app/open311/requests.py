"""GET requests: the cases as Open311 service requests.

A case is one request: ``service_request_id`` is its number (SSP-…), ``status`` ``open`` until
it is closed, rejected or found a duplicate; the community (and the lead unit once the whistle
blew) is the agency responsible; the resolve-by deadline is the expected time; the reporter's
first photo is ``media_url``, as a signed link any client can open. Nothing of the reporter is
ever shown: Open311 has no field for them, and a public read must not have one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from app.cases.clocks import CLOCK_COLUMNS
from app.cases.columns import first_photo_id, lead_unit_name
from app.labels.service import labels_in
from app.models import Category, Community, IntegrationFiling, Region, Report
from app.models.enums import OPEN_REPORT_STATUSES, ReportStatus
from app.open311.errors import Open311Error

WINDOW: Final = timedelta(days=90)
MAX_PAGE_SIZE: Final = 1000
# How deep pages go: past this many cases a client narrows the window instead (as the
# specification expects a client to walk history, by dates).
MAX_OFFSET: Final = 100_000
STATUSES: Final = ("open", "closed")
CLOSED_STATUSES: Final = tuple(s for s in ReportStatus if s not in OPEN_REPORT_STATUSES)

_SHOWN = (
    Report.number,
    Report.category_code,
    Report.description,
    Report.address,
    Report.lat,
    Report.lng,
    Report.updated_at,
    Report.community_id,
    Report.region_id,
    Report.handled_on_the_spot,
    *CLOCK_COLUMNS,  # the deadlines' lights of extended_attributes
)


@dataclass(frozen=True)
class RequestQuery:
    """What GET requests asked for, read and checked (app/open311/params.py)."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    page: int = 1
    page_size: int = MAX_PAGE_SIZE
    extensions: bool = False

    def __post_init__(self) -> None:
        if (self.page - 1) * self.page_size >= MAX_OFFSET:
            raise Open311Error(
                400,
                f"page: at most the first {MAX_OFFSET:,} requests of a window are paged; "
                "narrow start_date and end_date",
            )

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """The filing period: 90 days at most, by default the last 90 days."""
        if self.start is not None and self.end is not None:
            if self.end <= self.start:
                raise Open311Error(400, "end_date must be after start_date")
            if self.end - self.start > WINDOW:
                raise Open311Error(400, "start_date to end_date spans more than 90 days")
            return self.start, self.end
        if self.start is not None:
            return self.start, self.start + WINDOW
        end = self.end or now
        return end - WINDOW, end


def _by_ids(ids: Sequence[str]) -> ColumnElement[bool]:
    """Case numbers, or the cases' UUIDs."""
    uuids = []
    for value in ids:
        try:
            uuids.append(uuid.UUID(value))
        except ValueError:
            continue
    return or_(Report.number.in_(ids), Report.id.in_(uuids))


def _filters(query: RequestQuery, now: datetime) -> list[ColumnElement[bool]]:
    if query.ids:
        return [_by_ids(query.ids)]
    start, end = query.window(now)
    conditions = [Report.created_at >= start, Report.created_at < end]
    if query.service_codes:
        conditions.append(Report.category_code.in_(query.service_codes))
    if query.statuses and set(query.statuses) != set(STATUSES):
        wanted = OPEN_REPORT_STATUSES if query.statuses == ("open",) else CLOSED_STATUSES
        conditions.append(Report.status.in_(list(wanted)))
    return conditions


def statement(query: RequestQuery, scope: ColumnElement[bool], now: datetime) -> Select[Any]:
    """The page of cases, newest first, with what a request shows beside the case. The page's
    cases are found first, by the filing index alone; what is shown beside each (its lead
    unit, its first photo, the media link it was filed with) is then read for those cases
    only, not for the rows skipped to reach a deep page."""
    page = (
        select(Report.id, Report.created_at)
        .where(scope, *_filters(query, now))
        .order_by(Report.created_at.desc(), Report.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
        .subquery("page")
    )
    return (
        select(
            Report,
            Category.name.label("service_name"),
            Category.hours_kind,
            Community.name.label("community_name"),
            Region.name.label("region_name"),
            lead_unit_name(),
            first_photo_id(),
            IntegrationFiling.media_url.label("filed_media_url"),
        )
        .join(page, page.c.id == Report.id)
        .join(Category, Category.code == Report.category_code)
        .join(Region, Region.id == Report.region_id)
        .outerjoin(Community, Community.id == Report.community_id)
        .outerjoin(IntegrationFiling, IntegrationFiling.report_id == Report.id)
        .order_by(page.c.created_at.desc(), page.c.id.desc())
        .options(load_only(*_SHOWN))
    )


async def read_page(
    session: AsyncSession, query: RequestQuery, scope: ColumnElement[bool], now: datetime
) -> list[Any]:
    return list((await session.execute(statement(query, scope, now))).all())


def agency(row: Any) -> str | None:
    names = [name for name in (row.community_name, row.lead_unit) if name]
    return "；".join(names) or None


def status_of(status: ReportStatus) -> str:
    return "open" if status in OPEN_REPORT_STATUSES else "closed"


def status_notes(report: Report) -> str:
    """The case's status in Chinese; a hazard its reporter cleared on the spot says so."""
    label: str = labels_in("zh-CN").vocabularies["report_status"][report.status]
    if report.handled_on_the_spot and report.accepted_at is None:
        return f"{label}（随手清：上报人当场处理）"
    return label
