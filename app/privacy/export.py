"""A copy of one person's personal data (个人信息副本): everything the service holds about them,
in one JSON document, recorded in the audit log."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.auth.service import load_grants
from app.core.schemas import Ref
from app.core.sql import names_by_id
from app.models import (
    ApiKey,
    AuditEntry,
    AuthSession,
    CheckIn,
    Community,
    Photo,
    PointsEntry,
    Rating,
    RefreshToken,
    Region,
    Report,
    ReportEvent,
    RoleAssignment,
    Unit,
    User,
    Webhook,
)
from app.models.audit import AuditAction
from app.photos.links import PHOTO_URL
from app.points.schemas import PointsRule, ReportNumberRef
from app.privacy.audit import AuditContext, record_personal_data_access
from app.privacy.export_programmes import redemptions_of, wishes_of
from app.privacy.schemas import (
    ExportAccess,
    ExportApiKey,
    ExportCheckIn,
    ExportComment,
    ExportPhoto,
    ExportPoints,
    ExportPointsEntry,
    ExportProfile,
    ExportRating,
    ExportReport,
    ExportRole,
    ExportSession,
    ExportWebhook,
    PersonalDataExport,
)
from app.reports.schemas import LatLng, SubmittedLocation


async def export_personal_data(
    session: AsyncSession, user_id: uuid.UUID, audit: AuditContext
) -> PersonalDataExport:
    """The caller's own data (the route makes sure of that), recorded as an export."""
    user = await session.get_one(User, user_id)
    reports = await _reports(session, user_id)
    export = PersonalDataExport(
        generated_at=audit.now,
        profile=ExportProfile(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            phone=user.phone,
            is_active=user.is_active,
            created_at=user.created_at,
            updated_at=user.updated_at,
            last_login_at=user.last_login_at,
        ),
        roles=await _roles(session, user_id),
        sessions=await _sessions(session, user_id),
        api_keys=await _api_keys(session, user_id),
        check_ins=await _check_ins(session, user_id),
        reports=reports,
        comments=await _comments(session, user_id),
        ratings=await _ratings(session, user_id),
        points=await _points(session, user_id),
        wishes=await wishes_of(session, user_id),
        redemptions=await redemptions_of(session, user_id),
        webhooks=await _webhooks(session, user_id),
        accesses=await _accesses(session, user_id),
    )
    await record_personal_data_access(
        session,
        audit,
        AuditAction.personal_data_export,
        [user_id],
        {"reports": len(export.reports), "sessions": len(export.sessions)},
    )
    return export


async def _roles(session: AsyncSession, user_id: uuid.UUID) -> list[ExportRole]:
    grants = await load_grants(session, user_id)
    assignments = await session.execute(
        select(RoleAssignment.id, RoleAssignment.created_at).where(
            RoleAssignment.user_id == user_id
        )
    )
    granted_at = dict(assignments.all())
    return [
        ExportRole(
            role=grant.role,
            scope_type=grant.scope_type,
            scope_id=grant.scope_id,
            scope_name=grant.scope_name,
            granted_at=granted_at[grant.assignment_id],
        )
        for grant in grants
        if grant.assignment_id is not None
    ]


async def _sessions(session: AsyncSession, user_id: uuid.UUID) -> list[ExportSession]:
    renewed = (
        select(RefreshToken.session_id, func.max(RefreshToken.issued_at).label("last"))
        .group_by(RefreshToken.session_id)
        .subquery()
    )
    rows = await session.execute(
        select(AuthSession, renewed.c.last)
        .outerjoin(renewed, renewed.c.session_id == AuthSession.id)
        .where(AuthSession.user_id == user_id)
        .order_by(AuthSession.created_at.desc(), AuthSession.id)
    )
    return [
        ExportSession(
            id=auth_session.id,
            signed_in_at=auth_session.created_at,
            client_address=auth_session.client_address,
            user_agent=auth_session.user_agent,
            last_renewed_at=last,
            revoked_at=auth_session.revoked_at,
            revoke_reason=auth_session.revoke_reason,
        )
        for auth_session, last in rows
    ]


async def _api_keys(session: AsyncSession, user_id: uuid.UUID) -> list[ExportApiKey]:
    rows = await session.execute(
        select(ApiKey, Region.name)
        .join(Region, ApiKey.region_id == Region.id)
        .where(ApiKey.created_by_id == user_id)
        .order_by(ApiKey.created_at, ApiKey.id)
    )
    return [
        ExportApiKey(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            region=Ref(id=key.region_id, name=region_name),
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )
        for key, region_name in rows
    ]


async def _check_ins(session: AsyncSession, user_id: uuid.UUID) -> list[ExportCheckIn]:
    rows = await session.scalars(
        select(CheckIn)
        .options(selectinload(CheckIn.community), selectinload(CheckIn.branch))
        .where(CheckIn.courier_id == user_id)
        .order_by(CheckIn.requested_at, CheckIn.id)
    )
    return [
        ExportCheckIn(
            id=c.id,
            community=Ref(id=c.community.id, name=c.community.name),
            branch=Ref(id=c.branch.id, name=c.branch.name) if c.branch is not None else None,
            status=c.status,
            note=c.note,
            requested_at=c.requested_at,
            decided_at=c.decided_at,
            decision_reason=c.decision_reason,
        )
        for c in rows
    ]


def _photo(photo: Photo) -> ExportPhoto:
    exif = (
        LatLng(lat=photo.exif_lat, lng=photo.exif_lng)
        if photo.exif_lat is not None and photo.exif_lng is not None
        else None
    )
    return ExportPhoto(
        id=photo.id,
        kind=photo.kind,
        url=PHOTO_URL.format(id=photo.id),
        width=photo.width,
        height=photo.height,
        original_filename=photo.original_filename,
        exif_location=exif,
        exif_taken_at=photo.exif_taken_at,
        created_at=photo.created_at,
    )


async def _reports(session: AsyncSession, user_id: uuid.UUID) -> list[ExportReport]:
    reports = list(
        (
            await session.scalars(
                select(Report)
                .where(Report.reporter_id == user_id)
                .order_by(Report.created_at.desc(), Report.id)
            )
        ).all()
    )
    if not reports:
        return []
    communities = await names_by_id(
        session, Community.id, Community.name, {r.community_id for r in reports if r.community_id}
    )
    photos: dict[uuid.UUID, list[ExportPhoto]] = {r.id: [] for r in reports}
    # The photos sent with the report; those of later steps belong to the staff who took them.
    for photo in await session.scalars(
        select(Photo)
        .where(Photo.report_id.in_(list(photos)), Photo.event_id.is_(None))
        .order_by(Photo.report_id, Photo.position)
    ):
        photos[photo.report_id].append(_photo(photo))
    return [
        ExportReport(
            id=r.id,
            number=r.number,
            status=r.status,
            category_code=r.category_code,
            source=r.source,
            description=r.description,
            address=r.address,
            occurred_at=r.occurred_at,
            location=LatLng(lat=r.lat, lng=r.lng),
            submitted_location=SubmittedLocation(
                lat=r.submitted_lat, lng=r.submitted_lng, coord_system=r.submitted_coord_system
            ),
            community=Ref(id=r.community_id, name=communities[r.community_id])
            if r.community_id
            else None,
            created_at=r.created_at,
            closed_at=r.closed_at,
            photos=photos[r.id],
        )
        for r in reports
    ]


async def _comments(session: AsyncSession, user_id: uuid.UUID) -> list[ExportComment]:
    # Internal notes are staff's work records of the case, kept by the organisation: the person
    # gets the comments they wrote for everyone in the case to read.
    rows = await session.execute(
        select(ReportEvent, Report.number)
        .join(Report, ReportEvent.report_id == Report.id)
        .where(
            ReportEvent.actor_id == user_id,
            ReportEvent.type == "comment",
            ReportEvent.is_internal.is_(False),
        )
        .order_by(ReportEvent.created_at, ReportEvent.id)
    )
    return [
        ExportComment(
            id=event.id,
            report=ReportNumberRef(id=event.report_id, number=number),
            body=event.note,
            created_at=event.created_at,
        )
        for event, number in rows
    ]


async def _ratings(session: AsyncSession, user_id: uuid.UUID) -> list[ExportRating]:
    rows = await session.execute(
        select(Rating, Report.number)
        .join(Report, Rating.report_id == Report.id)
        .where(Rating.rated_by_id == user_id)
        .order_by(Rating.created_at, Rating.report_id)
    )
    return [
        ExportRating(
            report=ReportNumberRef(id=rating.report_id, number=number),
            satisfaction=rating.satisfaction,
            comment=rating.comment,
            created_at=rating.created_at,
        )
        for rating, number in rows
    ]


async def _points(session: AsyncSession, user_id: uuid.UUID) -> ExportPoints:
    rows = await session.execute(
        select(PointsEntry, Report.number)
        .outerjoin(Report, PointsEntry.report_id == Report.id)
        .where(PointsEntry.user_id == user_id)
        .order_by(PointsEntry.created_at, PointsEntry.id)
    )
    entries = [
        ExportPointsEntry(
            rule=PointsRule(entry.rule),
            points=entry.points,
            points_before_cap=entry.points_before_cap,
            report=ReportNumberRef(id=entry.report_id, number=number)
            if entry.report_id is not None and number is not None
            else None,
            created_at=entry.created_at,
        )
        for entry, number in rows
    ]
    return ExportPoints(balance=sum(e.points for e in entries), entries=entries)


async def _webhooks(session: AsyncSession, user_id: uuid.UUID) -> list[ExportWebhook]:
    hooks = list(
        (
            await session.scalars(
                select(Webhook)
                .where(Webhook.created_by_id == user_id)
                .order_by(Webhook.created_at, Webhook.id)
            )
        ).all()
    )
    units = await names_by_id(session, Unit.id, Unit.name, {h.unit_id for h in hooks if h.unit_id})
    return [
        ExportWebhook(
            id=hook.id,
            url=hook.url,
            events=list(hook.events),
            unit=Ref(id=hook.unit_id, name=units[hook.unit_id]) if hook.unit_id else None,
            active=hook.is_active,
            created_at=hook.created_at,
        )
        for hook in hooks
    ]


async def _accesses(session: AsyncSession, user_id: uuid.UUID) -> list[ExportAccess]:
    rows = await session.execute(
        select(AuditEntry.action, AuditEntry.occurred_at, AuditEntry.actor_id)
        .where(AuditEntry.subject_id == user_id)
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    )
    return [
        ExportAccess(action=action, occurred_at=occurred_at, by_self=actor_id == user_id)
        for action, occurred_at, actor_id in rows
    ]
