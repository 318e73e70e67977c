"""Submitting a report: photos checked and stored, the point routed, the case numbered.

Order matters for a phone on a bad network and for a store that must not leak: the photo work
(CPU) and the uploads to storage happen before the database transaction, which stays short;
if anything after the uploads fails, the uploaded objects are deleted again (and `gc-photos`
collects whatever a crash left behind)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Load

from app.auth.principal import Principal
from app.cases.clocks import NO_HISTORY
from app.cases.parts import FILING_ROLES, SUBMITTING_ROLES, filing_role
from app.cases.timeline import timeline_entry
from app.core import idempotency
from app.core.config import Settings
from app.core.db import insert_new
from app.core.errors import FieldError, Forbidden, ValidationFailed
from app.core.geo import CoordSystem, haversine_m, to_wgs84
from app.core.metrics import REPORTS_FILED, count_on_commit
from app.core.workcalendar import WorkingCalendar, due_at
from app.integrations import outbox
from app.models import (
    Category,
    Community,
    CourierBranch,
    Grid,
    Photo,
    Region,
    Report,
    User,
)
from app.models.enums import (
    HoursKind,
    PhotoFlag,
    PhotoKind,
    ReportSource,
    ReportStatus,
    Role,
    RoutingMethod,
)
from app.org.locator_cache import Location, LocatorCache
from app.photos.processing import ProcessedPhoto
from app.photos.uploads import (
    PhotoServices,
    StoredPhoto,
    UploadedPhoto,
    kept_if_committed,
    photo_row,
    process_and_store,
    remove_objects,
    stored_keys,
    too_large,
    with_digests,
)
from app.reports import presenter, service
from app.reports.numbering import next_report_number
from app.reports.schemas import ReportCreated

log = logging.getLogger("app.reports.intake")

IDEMPOTENCY_SCOPE = "POST /api/v1/reports"
# China's extent with a margin (mainland, Hainan and the South China Sea islands excluded from
# the margin's purpose: catching swapped or zeroed coordinates, not drawing borders).
CHINA_BOX = (3.8, 73.4, 53.6, 135.1)  # min_lat, min_lng, max_lat, max_lng
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class ReportSubmission:
    category_code: str
    description: str
    lat: float
    lng: float
    coord_system: CoordSystem
    address: str | None
    occurred_at: datetime | None
    grid_id: uuid.UUID | None
    source: ReportSource | None
    photos: Sequence[UploadedPhoto]


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


def _fingerprint(sub: ReportSubmission) -> str:
    return idempotency.request_fingerprint(
        {
            "category_code": sub.category_code,
            "description": sub.description,
            "lat": sub.lat,
            "lng": sub.lng,
            "coord_system": sub.coord_system.value,
            "address": sub.address,
            "occurred_at": sub.occurred_at.isoformat() if sub.occurred_at else None,
            "grid_id": str(sub.grid_id) if sub.grid_id else None,
            "source": sub.source.value if sub.source else None,
            "photos": [p.sha256 or hashlib.sha256(p.data).hexdigest() for p in sub.photos],
        }
    )


def _check_submitter(principal: Principal) -> uuid.UUID:
    if principal.user_id is None or not principal.has_any(*SUBMITTING_ROLES):
        raise Forbidden("Your role cannot submit reports")
    return principal.user_id


async def _check_fields(
    session: AsyncSession, sub: ReportSubmission, settings: Settings, now: datetime
) -> tuple[Category, float, float]:
    errors: list[FieldError] = []
    category = await session.get(Category, sub.category_code)
    if category is None or not category.is_active:
        errors.append(FieldError(loc=["body", "category_code"], msg="no such category"))
    elif not category.is_leaf:
        errors.append(
            FieldError(
                loc=["body", "category_code"],
                msg="this is a class of categories; choose one of its categories",
            )
        )
    if not sub.description.strip():
        errors.append(FieldError(loc=["body", "description"], msg="must not be empty"))
    lat, lng = to_wgs84(sub.lat, sub.lng, sub.coord_system)
    if settings.restrict_to_china:
        min_lat, min_lng, max_lat, max_lng = CHINA_BOX
        if not (min_lat <= lat <= max_lat and min_lng <= lng <= max_lng):
            errors.append(
                FieldError(loc=["body", "lat"], msg="the point is outside China; check lat/lng")
            )
    if sub.occurred_at is not None:
        if sub.occurred_at.tzinfo is None:
            errors.append(
                FieldError(loc=["body", "occurred_at"], msg="give a time zone (RFC 3339)")
            )
        elif sub.occurred_at > now + CLOCK_SKEW:
            errors.append(FieldError(loc=["body", "occurred_at"], msg="is in the future"))
        elif sub.occurred_at < now - timedelta(days=settings.report_max_age_days):
            errors.append(
                FieldError(
                    loc=["body", "occurred_at"],
                    msg=f"is more than {settings.report_max_age_days} days ago",
                )
            )
    count = len(sub.photos)
    if not 1 <= count <= settings.max_photos_per_report:
        errors.append(
            FieldError(
                loc=["body", "photos"],
                msg=f"send 1 to {settings.max_photos_per_report} photos, not {count}",
            )
        )
    errors += too_large(sub.photos, settings)
    if errors:
        raise ValidationFailed("; ".join(e.msg for e in errors), errors=errors)
    assert category is not None
    return category, lat, lng


def _flags(
    photo: ProcessedPhoto, lat: float, lng: float, now: datetime, settings: Settings
) -> list[str]:
    flags = []
    gps = photo.gps
    if gps is not None and haversine_m(gps.lat, gps.lng, lat, lng) > settings.photo_max_distance_m:
        flags.append(PhotoFlag.exif_far_from_report.value)
    if photo.taken_at is not None and photo.taken_at < now - timedelta(
        hours=settings.photo_max_age_hours
    ):
        flags.append(PhotoFlag.taken_long_before_submission.value)
    return flags


def _source(principal: Principal, requested: ReportSource | None) -> ReportSource:
    """What kind of report this is: what the caller's role makes it, unless the caller may say
    otherwise (staff logging a hotline call or a case assigned from above)."""
    # The roles that may file each kind are those the timeline records it was filed in;
    # admins file what community staff may.
    held = principal.roles | ({Role.community_staff} if principal.is_admin else set())
    allowed = {ReportSource.resident} | {
        source for source, roles in FILING_ROLES.items() if not held.isdisjoint(roles)
    }
    if requested is not None:
        if requested not in allowed:
            raise ValidationFailed.at(["body", "source"], f"you cannot file a {requested} report")
        return requested
    for preferred in (ReportSource.courier, ReportSource.grid_patrol, ReportSource.hotline):
        if preferred in allowed:
            return preferred
    return ReportSource.resident


async def _queue_region(session: AsyncSession, principal: Principal) -> uuid.UUID:
    """Where a report no community covers waits: the reporter's own region if they have one
    (a courier's branch, a staff member's community, a supervisor's region), else the root."""
    assert principal.user_id is not None
    for grant in principal.grants:
        if grant.role in (Role.supervisor, Role.viewer) and grant.scope_id:
            return grant.scope_id
    community_ids = principal.scope_ids(Role.community_staff, Role.grid_worker)
    if community_ids:
        region = await session.scalar(
            select(Community.region_id).where(Community.id.in_(community_ids)).limit(1)
        )
        if region:
            return region
    branch_ids = principal.scope_ids(Role.courier)
    if branch_ids:
        region = await session.scalar(
            select(CourierBranch.region_id)
            .where(CourierBranch.id.in_(branch_ids), CourierBranch.region_id.is_not(None))
            .limit(1)
        )
        if region:
            return region
    root = await session.scalar(
        select(Region.id).where(Region.parent_id.is_(None)).order_by(Region.created_at).limit(1)
    )
    if root is None:
        raise ValidationFailed("No region is configured yet; an administrator must add one")
    return root


async def _route(
    session: AsyncSession,
    principal: Principal,
    sub: ReportSubmission,
    lat: float,
    lng: float,
    locator: LocatorCache,
) -> tuple[uuid.UUID | None, uuid.UUID | None, uuid.UUID, RoutingMethod, float | None]:
    """(community, grid, region, method, distance) for the point. A named grid decides for
    the grid workers of its community (routing ``grid``); for anyone else it must lie in the
    community the point is routed to, else 422: naming a grid cannot send a report elsewhere."""
    found = await locator.locate(session, lat, lng)
    if sub.grid_id is not None:
        grid = await _named_grid(session, sub.grid_id)
        if grid.community_id in principal.scope_ids(Role.grid_worker):
            # A grid worker knows their own grids better than a phone's position does.
            return grid.community_id, grid.id, grid.region_id, RoutingMethod.grid, None
        _check_grid_lies_where_routed(grid, found)
    if found is None:
        return None, None, await _queue_region(session, principal), RoutingMethod.region_queue, None
    method = RoutingMethod(found.method)
    return (
        found.community_id,
        # A named grid of the point's community says more than a grid's boundary drawn on the
        # map (grids may have none); it was checked to lie in that community.
        sub.grid_id or found.grid_id,
        found.region_id,
        method,
        round(found.distance_m, 1) if method is RoutingMethod.nearest else 0.0,
    )


@dataclass(frozen=True, slots=True)
class _NamedGrid:
    id: uuid.UUID
    name: str
    community_id: uuid.UUID
    community_name: str
    region_id: uuid.UUID


async def _named_grid(session: AsyncSession, grid_id: uuid.UUID) -> _NamedGrid:
    row = (
        await session.execute(
            select(Grid.id, Grid.name, Community.id, Community.name, Community.region_id)
            .join(Community, Grid.community_id == Community.id)
            .where(Grid.id == grid_id)
        )
    ).one_or_none()
    if row is None:
        raise ValidationFailed.at(["body", "grid_id"], "no such grid")
    return _NamedGrid(*row)


def _check_grid_lies_where_routed(grid: _NamedGrid, found: Location | None) -> None:
    """A grid named by anyone but the grid workers of its community only refines where the
    point goes; it may not send the report to another community."""
    if found is None:
        raise ValidationFailed.at(
            ["body", "grid_id"],
            f"the grid {grid.name} is in {grid.community_name}, but the point is in no "
            "community's area; leave grid_id out",
        )
    if found.community_id != grid.community_id:
        raise ValidationFailed.at(
            ["body", "grid_id"],
            f"the grid {grid.name} is in {grid.community_name}, but the point is routed to "
            f"{found.community_name}; name a grid of {found.community_name} or leave grid_id out",
        )


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
        category=category,
        region=region,
        # A report just filed is owned by its community's region (or a queue, without one).
        place_path=region.path if community is not None else None,
        reporter=reporter,
        community=community,
        grid=grid,
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
    user_id = _check_submitter(principal)
    source = _source(principal, sub.source)
    key = idempotency.validate_key(idempotency_key)
    fingerprint = ""
    if key:
        # Hashing megabytes of photos would hold up every other request: not on the event
        # loop. The photo work reuses the digests.
        sub = replace(sub, photos=await asyncio.to_thread(with_digests, sub.photos))
        fingerprint = _fingerprint(sub)
    if key:
        replay = await idempotency.find(session, user_id, key, IDEMPOTENCY_SCOPE, fingerprint)
        if replay is not None:
            return IntakeResult(replay.body, replay.status_code, replayed=True)

    category, lat, lng = await _check_fields(session, sub, services.settings, now)
    stored = await process_and_store(sub.photos, services.photos, now)
    async with kept_if_committed(session, services.photos.storage, stored):
        created = await _insert(
            session,
            principal,
            sub,
            services,
            category,
            source,
            (lat, lng),
            stored,
            now,
        )
        body = created.model_dump(mode="json")
        if key and not await idempotency.save(
            session, user_id, key, IDEMPOTENCY_SCOPE, fingerprint, 201, body
        ):
            # A twin of this request committed first: undo ours, answer with theirs.
            await session.rollback()
            await remove_objects(services.photos.storage, stored_keys(stored))
            replay = await idempotency.winner(session, user_id, key, IDEMPOTENCY_SCOPE, fingerprint)
            return IntakeResult(replay.body, replay.status_code, replayed=True)
        count_on_commit(session, REPORTS_FILED.labels(category.code, source.value))
        return IntakeResult(body, 201, replayed=False)


async def _insert(
    session: AsyncSession,
    principal: Principal,
    sub: ReportSubmission,
    services: IntakeServices,
    category: Category,
    source: ReportSource,
    point: tuple[float, float],
    stored: Sequence[StoredPhoto],
    now: datetime,
) -> ReportCreated:
    assert principal.user_id is not None
    lat, lng = point
    community_id, grid_id, region_id, method, distance = await _route(
        session, principal, sub, lat, lng, services.locator
    )
    number = await next_report_number(session, now)
    # Looked up before the new report is written, so it cannot find itself.
    duplicates = await service.open_reports_near(
        session,
        lat=lat,
        lng=lng,
        radius_m=category.duplicate_radius_m,
        category=category.code,
        limit=services.settings.possible_duplicates_limit,
    )
    report = Report(
        id=uuid.uuid4(),
        number=number,
        status=ReportStatus.submitted,
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
        community_id=community_id,
        grid_id=grid_id,
        region_id=region_id,
        routing_method=method,
        routing_distance_m=distance,
        accept_due_at=due_at(
            services.calendar,
            now,
            category.accept_within_hours,
            category.hours_kind is HoursKind.working,
        ),
        escalation_count=0,
        held_seconds=0.0,
        rework_count=0,
        reopen_count=0,
        created_at=now,
        updated_at=now,
    )
    photos = [
        photo_row(
            photo,
            report_id=report.id,
            kind=PhotoKind.report,
            position=index,
            uploaded_by_id=principal.user_id,
            now=now,
            flags=_flags(photo.processed, lat, lng, now, services.settings),
        )
        for index, photo in enumerate(stored)
    ]
    context = await _new_report_context(
        session,
        region_id=region_id,
        reporter_id=principal.user_id,
        community_id=community_id,
        grid_id=grid_id,
        category=category,
        photos=photos,
        calendar=services.calendar,
    )
    # Nothing about a report just filed needs to be read back: its rows are written as plain
    # inserts, in the order of their foreign keys, without the unit of work.
    await insert_new(session, [report])
    await insert_new(session, photos)
    await insert_new(
        session,
        [
            timeline_entry(
                report,
                seq=1,
                type="submitted",
                actor=principal,
                actor_role=filing_role(principal, report),
                to_status=ReportStatus.submitted,
                data={"routing": method.value, "distance_m": distance},
                at=now,
            )
        ],
    )
    await insert_new(
        session,
        [
            outbox.new_event(
                "report.submitted", report, region_path=context.region.path, unit_ids=(), now=now
            )
        ],
    )
    read = presenter.to_read(report, context, principal, now)
    # The fields as they are (nested models are not validated again), not a dump of them.
    return ReportCreated(**dict(read), possible_duplicates=service.possible_duplicates(duplicates))
