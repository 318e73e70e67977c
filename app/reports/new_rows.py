"""The rows a new filing writes: the report itself, its first timeline entry and, for a request
that came through an integration, who filed it there."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from app.auth.principal import Principal
from app.cases.parts import filing_role
from app.cases.timeline import timeline_entry
from app.core.workcalendar import WorkingCalendar, due_at
from app.models import Category, IntegrationFiling, Report, ReportEvent
from app.models.enums import HoursKind, ReportSource, ReportStatus, Role
from app.models.ids import id_at
from app.org.routing import Routed
from app.reports.numbering import provisional_number
from app.reports.submission import ReportSubmission, ThroughIntegration


def _branch(principal: Principal) -> uuid.UUID | None:
    """The courier's branch, from the grants loaded with the caller: no query."""
    return next(
        (g.scope_id for g in principal.grants if g.role == Role.courier and g.scope_id), None
    )


def new_report(
    principal: Principal,
    sub: ReportSubmission,
    calendar: WorkingCalendar,
    category: Category,
    source: ReportSource,
    point: tuple[float, float],
    routed: Routed,
    *,
    now: datetime,
) -> Report:
    lat, lng = point
    report_id = id_at(now)  # the moment of filing (app/models/partitioning.py)
    return Report(
        id=report_id,
        number=provisional_number(report_id),
        # 随手清: filed as handled, waiting for the community's check (no clock runs).
        status=ReportStatus.resolved if sub.handled_on_the_spot else ReportStatus.submitted,
        handled_on_the_spot=sub.handled_on_the_spot,
        resolved_at=now if sub.handled_on_the_spot else None,
        version=1,
        category_code=category.code,
        priority=category.default_priority,
        source=source,
        description=sub.description.strip(),
        address=sub.address.strip() if sub.address else None,
        occurred_at=sub.occurred_at,
        lat=lat,
        lng=lng,
        submitted_lat=sub.lat,
        submitted_lng=sub.lng,
        submitted_coord_system=sub.coord_system.value,
        reporter_id=principal.user_id,
        reporter_branch_id=_branch(principal),
        community_id=routed.community_id,
        grid_id=routed.grid_id,
        region_id=routed.region_id,
        routing_method=routed.method,
        routing_distance_m=routed.distance_m,
        accept_due_at=None
        if sub.handled_on_the_spot
        else due_at(
            calendar,
            now,
            category.accept_within_hours,
            category.hours_kind is HoursKind.working,
        ),
        escalation_count=0,
        held_seconds=0.0,
        held_working_seconds=0.0,
        rework_count=0,
        reopen_count=0,
        created_at=now,
        updated_at=now,
    )


def submitted_entry(
    principal: Principal, sub: ReportSubmission, report: Report, routed: Routed, now: datetime
) -> ReportEvent:
    data: dict[str, Any] = {"routing": routed.method.value, "distance_m": routed.distance_m}
    if sub.integration is not None:
        data |= {"via": "open311", "integration": sub.integration.name}
    if sub.handled_on_the_spot:
        data["handled_on_the_spot"] = True
    return timeline_entry(
        report,
        seq=1,
        type="submitted",
        actor=principal,
        actor_role=filing_role(principal, report),
        to_status=report.status,
        data=data,
        at=now,
    )


def filing(report: Report, through: ThroughIntegration, now: datetime) -> IntegrationFiling:
    return IntegrationFiling(
        report_id=report.id,
        api_key_id=through.api_key_id,
        integration=through.name,
        media_url=through.media_url,
        **asdict(through.contact),
        created_at=now,
    )
