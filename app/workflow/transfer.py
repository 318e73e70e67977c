"""Transfer (转派): a report filed in the wrong community goes to the right one, still waiting
for acceptance there.

Where it may go: a community in the same county (旗县区) as the case — a point near a border
routed to the neighbour, a shop's address in the next street — or, for a supervisor, anywhere
in the regions they supervise (an administrator: anywhere). Not to a community of another
county the caller has nothing to do with: that county's staff would find a case nobody there
decided to take."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.cases import engine as case_engine
from app.cases.context import ActionContext
from app.cases.transitions import ReportAction
from app.core.errors import ValidationFailed
from app.models import Community, Region, Report
from app.models.enums import RegionLevel, Role
from app.workflow.schemas import TransferBody


async def _county_path(session: AsyncSession, region_id: uuid.UUID) -> str | None:
    """The path of the county that holds the region (None above county level)."""
    path = select(Region.path).where(Region.id == region_id).scalar_subquery()
    return await session.scalar(
        select(Region.path).where(Region.level == RegionLevel.county, path.startswith(Region.path))
    )


async def _destination(
    session: AsyncSession, principal: Principal, report: Report, community_id: uuid.UUID
) -> Community:
    """The community asked for, checked: 422 naming ``community_id`` otherwise."""
    community = await session.get(Community, community_id)
    if community is None:
        raise ValidationFailed.at(["body", "community_id"], "no such community")
    if community.id == report.community_id:
        raise ValidationFailed.at(["body", "community_id"], "the report is already there")
    target = await session.scalar(select(Region.path).where(Region.id == community.region_id))
    assert target is not None  # a community's region exists (foreign key)
    county = await _county_path(session, report.region_id)
    same_county = county is not None and target.startswith(county)
    supervised = principal.is_admin or principal.covers_region_path(target, Role.supervisor)
    if not same_county and not supervised:
        raise ValidationFailed.at(
            ["body", "community_id"],
            "a report goes to a community of its own county (旗县区), or of a region you supervise",
        )
    return community


async def transfer(ctx: ActionContext, report_id: uuid.UUID, body: TransferBody) -> Report:
    report, actors = await case_engine.load_for_action(
        ctx.session, ctx.principal, report_id, ctx.if_match
    )
    case_engine.ensure_allowed(report, ReportAction.transfer, actors)
    community = await _destination(ctx.session, ctx.principal, report, body.community_id)
    before = report.community_id
    report.community_id = community.id
    report.region_id = community.region_id
    report.grid_id = None
    await case_engine.transition(
        ctx.session,
        report,
        ReportAction.transfer,
        actors=actors,
        principal=ctx.principal,
        now=ctx.now,
        note=body.note,
        reason=body.reason,
        data={
            "from_community_id": str(before) if before else None,
            "to_community_id": str(community.id),
        },
    )
    return report
