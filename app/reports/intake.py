"""Submitting a report: photos checked and stored, the point routed, the case numbered.

Order matters for a phone on a bad network and for a store that must not leak: the photo work
(CPU) and the uploads to storage happen before the database transaction, which stays short;
if anything after the uploads fails, the uploaded objects are deleted again (and `gc-photos`
collects whatever a crash left behind)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Load

from app.auth.principal import Principal
from app.cases import day_counts
from app.cases.clocks import NO_HISTORY
from app.cases.parts import filing_role
from app.cases.timeline import timeline_entry
from app.core import idempotency
from app.core.config import Settings
from app.core.db import insert_new
from app.core.metrics import REPORTS_FILED, count_on_commit
from app.core.workcalendar import WorkingCalendar, due_at
from app.integrations import outbox
from app.models import (
    Category,
    Community,
    Grid,
    IntegrationFiling,
    Photo,
    Region,
    Report,
    ReportEvent,
    User,
)
from app.models.enums import (
    HoursKind,
    PhotoKind,
    ReportSource,
    ReportStatus,
    Role,
    StatsMetric,
)
from app.models.ids import new_id
from app.org.locator_cache import LocatorCache
from app.org.routing import Routed, route_point
from app.photos.pending import photos_in_hand
from app.photos.uploads import (
    PhotoFile,
    PhotoServices,
    photo_row,
    with_digests,
)
from app.reports import presenter, queries, submission
from app.reports.numbering import next_report_number
from app.reports.schemas import ReportCreated
from app.reports.submission import ReportSubmission, ThroughIntegration

log = logging.getLogger("app.reports.intake")

IDEMPOTENCY_SCOPE = "POST /api/v1/reports"


@dataclass(frozen=True)
class IntakeServices:
    photos: PhotoServices
    locator: LocatorCache
    calendar: WorkingCalendar

    @property
    def settings(self) -> Settings:
        return self.photos.settings


@dataclass(frozen=True)
class IntakeResult:
    """The answer, already in its JSON form (a ``ReportCreated``): the same dict is stored for
    retries and sent, so it is made once; a replay sends the stored one as it is."""

    body: dict[str, Any]
    status_code: int
    replayed: bool

    @property
    def report_id(self) -> str:
        return str(self.body["id"])

    @property
    def version(self) -> int:
        return int(self.body["version"])


def _branch(principal: Principal) -> uuid.UUID | None:
    """The courier's branch, from the grants loaded with the caller: no query."""
    return next(
        (g.scope_id for g in principal.grants if g.role == Role.courier and g.scope_id), None
    )


# The rows a new report's answer shows besides its category and photos, in one round trip (each
# table is matched on its primary key; community and grid may be absent), and only the columns
# the answer shows: not the boundaries. Built once: every submission runs it.
_NEW_REPORT_CONTEXT = (
    select(Region, User, Community, Grid)
    .select_from(Region)
    .join(User, User.id == bindparam("reporter_id"))
    .outerjoin(Community, Community.id == bindparam("community_id"))
    .outerjoin(Grid, Grid.id == bindparam("grid_id"))
    .where(Region.id == bindparam("region_id"))
    .options(
        Load(Region).load_only(Region.name, Region.path, raiseload=True),
        Load(User).load_only(User.display_name, User.phone, raiseload=True),
        Load(Community).load_only(Community.name, raiseload=True),
        Load(Grid).load_only(Grid.name, raiseload=True),
    )
)


async def _new_report_context(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    reporter_id: uuid.UUID,
    community_id: uuid.UUID | None,
    grid_id: uuid.UUID | None,
    category: Category,
    photos: Sequence[Photo],
    calendar: WorkingCalendar,
) -> presenter.ReportContext:
    region, reporter, community, grid = (
        await session.execute(
            _NEW_REPORT_CONTEXT,
            {
                "region_id": region_id,
                "reporter_id": reporter_id,
                "community_id": community_id,
                "grid_id": grid_id,
            },
        )
    ).one()
    return presenter.ReportContext(
        category=presenter.CategoryFacts.of(category),
        region=presenter.Named(region.id, region.name, region.path),
        # A report just filed is owned by its community's region (or a queue, without one).
        place_path=region.path if community is not None else None,
        reporter=presenter.Person(reporter.id, reporter.display_name, reporter.phone),
        community=None if community is None else presenter.Named(community.id, community.name),
        grid=None if grid is None else presenter.Named(grid.id, grid.name),
        photos=photos,
        jobs=[],  # a report just filed has no jobs and no rating yet
        rating=None,
        calendar=calendar,
        history=NO_HISTORY,
    )


async def submit_report(
    session: AsyncSession,
    principal: Principal,
    sub: ReportSubmission,
    services: IntakeServices,
    idempotency_key: str | None,
    now: datetime,
) -> IntakeResult:
    user_id = submission.check_submitter(principal)
    source = submission.source(principal, sub.source)
    key = idempotency.validate_key(idempotency_key)
    fingerprint = ""
    if key:
        # Hashing megabytes of photos would hold up every other request: not on the event
        # loop. The photo work reuses the digests.
        sub = replace(sub, photos=await asyncio.to_thread(with_digests, sub.photos))
        fingerprint = submission.fingerprint(sub)
        replay = await idempotency.find(session, user_id, key, IDEMPOTENCY_SCOPE, fingerprint)
        if replay is not None:
            return IntakeResult(replay.body, replay.status_code, replayed=True)

    category, lat, lng = await submission.check_fields(session, sub, services.settings, now)
    try:
        async with (
            photos_in_hand(session, services.photos, user_id, sub.photos_sent, now) as files,
            photos_in_hand(session, services.photos, user_id, sub.after_sent, now) as after,
        ):
            created = await _insert(
                session, principal, sub, services, category, source, (lat, lng), (files, after), now
            )
            body = created.model_dump(mode="json")
            if key and not await idempotency.save(
                session, user_id, key, IDEMPOTENCY_SCOPE, fingerprint, 201, body
            ):
                raise _TwinCommittedFirst  # out of the block: the photos stored now go again
    except _TwinCommittedFirst:
        # Undo ours (claimed uploads are given back), answer with the twin's answer.
        await session.rollback()
        assert key is not None  # raised only after saving under the key
        replay = await idempotency.winner(session, user_id, key, IDEMPOTENCY_SCOPE, fingerprint)
        return IntakeResult(replay.body, replay.status_code, replayed=True)
    count_on_commit(session, REPORTS_FILED.labels(category.code, source.value))
    return IntakeResult(body, 201, replayed=False)


class _TwinCommittedFirst(Exception):
    """A request with the same Idempotency-Key committed while this one worked."""


async def _insert(
    session: AsyncSession,
    principal: Principal,
    sub: ReportSubmission,
    services: IntakeServices,
    category: Category,
    source: ReportSource,
    point: tuple[float, float],
    files: tuple[Sequence[PhotoFile], Sequence[PhotoFile]],
    now: datetime,
) -> ReportCreated:
    """``files``: the report's photos, and the "after" ones of a hazard cleared on the spot."""
    assert principal.user_id is not None
    lat, lng = point
    before, after = files
    routed = await route_point(session, principal, lat, lng, sub.grid_id, services.locator)
    number = await next_report_number(session, now)
    # Looked up before the new report is written, so it cannot find itself.
    duplicates = await queries.open_reports_near(
        session,
        lat=lat,
        lng=lng,
        radius_m=category.duplicate_radius_m,
        category=category.code,
        limit=services.settings.possible_duplicates_limit,
    )
    report = _new_report(
        principal, sub, services, category, source, point, routed, number=number, now=now
    )
    entry = _submitted_entry(principal, sub, report, routed, now)
    photos = [
        photo_row(
            photo,
            report_id=report.id,
            kind=kind,
            position=index,
            uploaded_by_id=principal.user_id,
            now=now,
            # The "after" photos came with the filing: its timeline entry shows them.
            event_id=entry.id if kind is PhotoKind.resolution else None,
            flags=submission.flags(photo, lat, lng, now, services.settings),
        )
        for kind, taken in ((PhotoKind.report, before), (PhotoKind.resolution, after))
        for index, photo in enumerate(taken)
    ]
    context = await _new_report_context(
        session,
        region_id=routed.region_id,
        reporter_id=principal.user_id,
        community_id=routed.community_id,
        grid_id=routed.grid_id,
        category=category,
        photos=photos,
        calendar=services.calendar,
    )
    submission.check_within_integration(sub, context.region.path)
    await _write(session, sub, report, photos, entry, context.region.path, now)
    read = presenter.to_read(report, context, principal, now)
    # The fields as they are (nested models are not validated again), not a dump of them.
    return ReportCreated(**dict(read), possible_duplicates=queries.possible_duplicates(duplicates))


def _new_report(
    principal: Principal,
    sub: ReportSubmission,
    services: IntakeServices,
    category: Category,
    source: ReportSource,
    point: tuple[float, float],
    routed: Routed,
    *,
    number: str,
    now: datetime,
) -> Report:
    lat, lng = point
    return Report(
        id=new_id(),
        number=number,
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
            services.calendar,
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


def _submitted_entry(
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


async def _write(
    session: AsyncSession,
    sub: ReportSubmission,
    report: Report,
    photos: Sequence[Photo],
    entry: ReportEvent,
    region_path: str,
    now: datetime,
) -> None:
    # Nothing about a report just filed needs to be read back: its rows are written as plain
    # inserts, in the order of their foreign keys, without the unit of work.
    await insert_new(session, [report])
    await insert_new(session, [entry])
    await insert_new(session, photos)
    if sub.integration is not None:
        await insert_new(session, [_filing(report, sub.integration, now)])
    day_counts.note(
        session, StatsMetric.submitted, report.created_at, report.region_id, report.community_id
    )
    await insert_new(
        session,
        [
            outbox.new_event(
                "report.submitted", report, region_path=region_path, unit_ids=(), now=now
            )
        ],
    )


def _filing(report: Report, through: ThroughIntegration, now: datetime) -> IntegrationFiling:
    return IntegrationFiling(
        report_id=report.id,
        api_key_id=through.api_key_id,
        integration=through.name,
        media_url=through.media_url,
        **asdict(through.contact),
        created_at=now,
    )
