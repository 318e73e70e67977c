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
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Load

from app.auth.principal import Principal
from app.cases import clock_timers, day_counts
from app.cases.clocks import NO_HISTORY
from app.core import idempotency
from app.core.config import Settings
from app.core.db import insert_new
from app.core.metrics import REPORTS_FILED, count_on_commit
from app.core.workcalendar import WorkingCalendar
from app.integrations import outbox
from app.models import (
    Category,
    Community,
    Grid,
    Photo,
    Region,
    Report,
    ReportEvent,
    User,
)
from app.models.enums import (
    PhotoKind,
    ReportSource,
    StatsMetric,
)
from app.org.locator_cache import LocatorCache
from app.org.routing import route_point
from app.photos.pending import photos_in_hand
from app.photos.uploads import (
    PhotoFile,
    PhotoServices,
    photo_row,
    with_digests,
)
from app.reports import new_rows, presenter, queries, submission
from app.reports.numbering import county_code, take_number
from app.reports.schemas import ReportCreated
from app.reports.submission import ReportSubmission

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
            filed = await _insert(
                session, principal, sub, services, category, source, (lat, lng), (files, after), now
            )
            created = await _number_and_announce(session, principal, filed, now)
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
) -> _Filed:
    """Write the report under its provisional number. ``files``: the report's photos, and the
    "after" ones of a hazard cleared on the spot."""
    assert principal.user_id is not None
    lat, lng = point
    before, after = files
    routed = await route_point(session, principal, lat, lng, sub.grid_id, services.locator)
    # Looked up before the new report is written, so it cannot find itself.
    duplicates = await queries.open_reports_near(
        session,
        lat=lat,
        lng=lng,
        radius_m=category.duplicate_radius_m,
        category=category.code,
        limit=services.settings.possible_duplicates_limit,
    )
    report = new_rows.new_report(
        principal, sub, services.calendar, category, source, point, routed, now=now
    )
    entry = new_rows.submitted_entry(principal, sub, report, routed, now)
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
    county = await county_code(session, context.region.path)
    await _write(session, sub, report, photos, entry, now)
    return _Filed(report, context, duplicates, county)


@dataclass(frozen=True)
class _Filed:
    """A report written under its provisional number, with what its answer needs."""

    report: Report
    context: presenter.ReportContext
    duplicates: Sequence[queries.OpenReportNear]
    county: str


async def _number_and_announce(
    session: AsyncSession, principal: Principal, filed: _Filed, now: datetime
) -> ReportCreated:
    """The filing's last writes: its case number (locking the county's counter until the
    commit that follows), then the event that carries it."""
    report = filed.report
    report.number = await take_number(session, report.id, filed.county, now)
    announced = outbox.new_event(
        "report.submitted", report, region_path=filed.context.region.path, unit_ids=(), now=now
    )
    await insert_new(session, [announced])
    read = presenter.to_read(report, filed.context, principal, now)
    # The fields as they are (nested models are not validated again), not a dump of them.
    return ReportCreated(
        **dict(read), possible_duplicates=queries.possible_duplicates(filed.duplicates)
    )


async def _write(
    session: AsyncSession,
    sub: ReportSubmission,
    report: Report,
    photos: Sequence[Photo],
    entry: ReportEvent,
    now: datetime,
) -> None:
    # Nothing about a report just filed needs to be read back: its rows are written as plain
    # inserts, in the order of their foreign keys, without the unit of work.
    await insert_new(session, [report])
    clock_timers.wake(session, report.id, report.accept_due_at)  # its accept clock starts
    await insert_new(session, [entry])
    await insert_new(session, photos)
    if sub.integration is not None:
        await insert_new(session, [new_rows.filing(report, sub.integration, now)])
    day_counts.note(
        session, StatsMetric.submitted, report.created_at, report.region_id, report.community_id
    )
