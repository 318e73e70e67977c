"""Courier participation by company and branch (快递小哥参与, docs/product.md "Other sheets"):
check-ins now, and the period's reports, valid reports and points. Each figure is added up
by the database at both levels: a company's active couriers are counted once even when they
filed through two of its branches."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.scope import REGION_ROLES, STAFF_ROLES
from app.models import (
    CheckIn,
    Community,
    CourierBranch,
    CourierCompany,
    PointsEntry,
    Report,
)
from app.models.enums import CheckInStatus, ReportStatus
from app.points.schemas import EARNING_RULE_VALUES
from app.stats.schemas import CourierBranchRow, CourierCompanyRow, CourierSheet
from app.stats.selection import StatsQuery, counted_cases, region_subtree, within
from app.stats.summary import period_of

FIGURES = ("checked_in", "active", "reports", "valid_reports", "points")
Totals = dict[str, int]


def _communities_in_sight(query: StatsQuery) -> Select[Any] | None:
    """The communities whose check-ins and points the caller may count (None: all)."""
    principal = query.principal
    conditions: list[ColumnElement[bool]] = []
    if query.community_id is not None:
        conditions.append(Community.id == query.community_id)
    if query.region_id is not None:
        conditions.append(Community.region_id.in_(region_subtree(region_id=query.region_id)))
    if not principal.is_admin:
        own: list[ColumnElement[bool]] = []
        if paths := principal.region_paths(*REGION_ROLES):
            own.append(Community.region_id.in_(region_subtree(paths=paths)))
        if communities := principal.scope_ids(*STAFF_ROLES):
            own.append(Community.id.in_(communities))
        conditions.append(or_(*own) if own else Community.id.is_(None))
    if not conditions:
        return None
    return select(Community.id).where(*conditions)


async def _grouped(
    session: AsyncSession, statement: Select[Any], branch: Any
) -> dict[str, dict[uuid.UUID, Totals]]:
    """``statement``'s figures per branch and per company (two group-bys of one source)."""
    totals: dict[str, dict[uuid.UUID, Totals]] = {"branch": {}, "company": {}}
    for level, key in (("branch", branch), ("company", CourierBranch.company_id)):
        grouped = statement.add_columns(key.label("key")).group_by(key)
        for row in (await session.execute(grouped)).mappings():
            totals[level][row["key"]] = {k: v for k, v in row.items() if k != "key"}
    return totals


async def courier_sheet(session: AsyncSession, query: StatsQuery) -> CourierSheet:
    reports = (
        select(
            func.count().label("reports"),
            func.count()
            .filter(
                Report.accepted_at.is_not(None),
                Report.status.not_in([ReportStatus.rejected.value, ReportStatus.duplicate.value]),
            )
            .label("valid_reports"),
            func.count(Report.reporter_id.distinct()).label("active"),
        )
        .join(CourierBranch, CourierBranch.id == Report.reporter_branch_id)
        .where(*counted_cases(query))
    )
    in_sight = _communities_in_sight(query)
    check_ins = (
        select(func.count(CheckIn.courier_id.distinct()).label("checked_in"))
        .join(CourierBranch, CourierBranch.id == CheckIn.branch_id)
        .where(CheckIn.status == CheckInStatus.approved.value)
    )
    points = (
        select(func.coalesce(func.sum(PointsEntry.points), 0).label("points"))
        .join(CourierBranch, CourierBranch.id == PointsEntry.branch_id)
        .where(*within(PointsEntry.created_at, query), PointsEntry.rule.in_(EARNING_RULE_VALUES))
    )
    if in_sight is not None:
        check_ins = check_ins.where(CheckIn.community_id.in_(in_sight))
        points = points.where(PointsEntry.community_id.in_(in_sight))
    figures: dict[str, dict[uuid.UUID, Totals]] = {
        "branch": defaultdict(dict),
        "company": defaultdict(dict),
    }
    sources: tuple[tuple[Any, Any], ...] = (
        (reports, Report.reporter_branch_id),
        (check_ins, CheckIn.branch_id),
        (points, PointsEntry.branch_id),
    )
    for statement, branch in sources:
        for level, rows in (await _grouped(session, statement, branch)).items():
            for key, values in rows.items():
                figures[level][key].update(values)
    return CourierSheet(period=period_of(query), items=await _rows(session, figures))


async def _rows(
    session: AsyncSession, figures: dict[str, dict[uuid.UUID, Totals]]
) -> list[CourierCompanyRow]:
    branch_ids = list(figures["branch"])
    if not branch_ids:
        return []
    branches = (
        await session.execute(
            select(
                CourierBranch.id,
                CourierBranch.name,
                CourierBranch.company_id,
                CourierCompany.name.label("company"),
            )
            .join(CourierCompany, CourierCompany.id == CourierBranch.company_id)
            .where(CourierBranch.id.in_(branch_ids))
            .order_by(CourierCompany.name, CourierBranch.name)
        )
    ).all()
    companies: dict[uuid.UUID, CourierCompanyRow] = {}
    for branch in branches:
        if branch.company_id not in companies:
            totals = figures["company"][branch.company_id]
            companies[branch.company_id] = CourierCompanyRow(
                company_id=branch.company_id,
                name=branch.company,
                branches=[],
                **{name: int(totals.get(name, 0)) for name in FIGURES},
            )
        own = figures["branch"][branch.id]
        companies[branch.company_id].branches.append(
            CourierBranchRow(
                branch_id=branch.id,
                name=branch.name,
                **{name: int(own.get(name, 0)) for name in FIGURES},
            )
        )
    return sorted(companies.values(), key=lambda company: (-company.reports, company.name))
