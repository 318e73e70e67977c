"""A report as submitted, and the checks it passes before anything is stored: who may submit,
which fields are sound, what kind of report it is, which photos look doubtful."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.cases.parts import FILING_ROLES, SUBMITTING_ROLES
from app.core import idempotency
from app.core.config import Settings
from app.core.errors import FieldError, Forbidden, ValidationFailed
from app.core.geo import CoordSystem, haversine_m, to_wgs84
from app.models import Category
from app.models.enums import PhotoFlag, ReportSource, Role
from app.photos.pending import PhotosSent
from app.photos.uploads import PhotoFile, UploadedPhoto

# China's extent with a margin (mainland, Hainan and the South China Sea islands excluded from
# the margin's purpose: catching swapped or zeroed coordinates, not drawing borders).
CHINA_BOX = (3.8, 73.4, 53.6, 135.1)  # min_lat, min_lng, max_lat, max_lng
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Contact:
    """The person an integration files a report for (Open311's contact fields)."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    device_id: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class ThroughIntegration:
    """A report an integration files with its key (Open311): its photo is optional, it must lie
    in the key's region, and how it came in is kept beside the case."""

    api_key_id: uuid.UUID
    name: str  # the key's name
    region_path: str
    media_url: str | None
    contact: Contact


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
    integration: ThroughIntegration | None = None
    # Photos uploaded ahead (POST /uploads), claimed by id: instead of ``photos``.
    photo_ids: Sequence[uuid.UUID] = ()
    # 随手清: the reporter already cleared the hazard, and shows it with "after" photos.
    handled_on_the_spot: bool = False
    after_photos: Sequence[UploadedPhoto] = ()
    after_photo_ids: Sequence[uuid.UUID] = ()

    @property
    def photos_sent(self) -> PhotosSent:
        return PhotosSent(self.photos, self.photo_ids)

    @property
    def after_sent(self) -> PhotosSent:
        return PhotosSent(self.after_photos, self.after_photo_ids)


def fingerprint(sub: ReportSubmission) -> str:
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
            "photo_ids": [str(photo_id) for photo_id in sub.photo_ids],
            "handled_on_the_spot": sub.handled_on_the_spot,
            "after_photos": [
                p.sha256 or hashlib.sha256(p.data).hexdigest() for p in sub.after_photos
            ],
            "after_photo_ids": [str(photo_id) for photo_id in sub.after_photo_ids],
            "integration": None
            if sub.integration is None
            else {"media_url": sub.integration.media_url, **asdict(sub.integration.contact)},
        }
    )


def check_submitter(principal: Principal) -> uuid.UUID:
    if principal.user_id is None or not principal.has_any(*SUBMITTING_ROLES):
        raise Forbidden("Your role cannot submit reports")
    return principal.user_id


async def check_fields(
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
    # An integration's report may come without a photo (Open311's media is optional).
    errors += sub.photos_sent.check(settings, at_least_one=sub.integration is None)
    errors += _after_photo_errors(sub, settings)
    if errors:
        raise ValidationFailed("; ".join(e.msg for e in errors), errors=errors)
    assert category is not None
    return category, lat, lng


def _after_photo_errors(sub: ReportSubmission, settings: Settings) -> list[FieldError]:
    """A hazard cleared on the spot shows it with 1 to 9 "after" photos; others have none."""
    after = sub.after_sent
    if not sub.handled_on_the_spot:
        if after.files or after.upload_ids:
            return [
                FieldError(
                    loc=["body", "handled_on_the_spot"],
                    msg="after photos show a hazard handled on the spot: say handled_on_the_spot",
                )
            ]
        return []
    # Named as the body names them: after_photos, after_photo_ids.
    return [
        e.model_copy(update={"loc": ["body", f"after_{e.loc[1]}", *e.loc[2:]]})
        for e in after.check(settings, at_least_one=True)
    ]


def check_within_integration(sub: ReportSubmission, routed_region_path: str) -> None:
    """An integration files in its key's region only: a point routed elsewhere is refused."""
    if sub.integration is not None and not routed_region_path.startswith(
        sub.integration.region_path
    ):
        raise ValidationFailed.at(
            ["body", "lat"], "the location lies outside the region of this integration's key"
        )


def flags(photo: PhotoFile, lat: float, lng: float, now: datetime, settings: Settings) -> list[str]:
    flags = []
    if (
        photo.exif_lat is not None
        and photo.exif_lng is not None
        and haversine_m(photo.exif_lat, photo.exif_lng, lat, lng) > settings.photo_max_distance_m
    ):
        flags.append(PhotoFlag.exif_far_from_report.value)
    if photo.exif_taken_at is not None and photo.exif_taken_at < now - timedelta(
        hours=settings.photo_max_age_hours
    ):
        flags.append(PhotoFlag.taken_long_before_submission.value)
    return flags


def source(principal: Principal, requested: ReportSource | None) -> ReportSource:
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
