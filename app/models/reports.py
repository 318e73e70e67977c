"""Reports (案件), their photos and their append-only timeline."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import (
    Base,
    CaseRowId,
    UUIDPrimaryKey,
    open_index,
    utcnow,
)
from app.models.enums import (
    OPEN_REPORT_STATUSES,
    ClosureType,
    PhotoKind,
    Priority,
    ReportSource,
    ReportStatus,
    Role,
    RoutingMethod,
    Satisfaction,
    SupervisionLevel,
)
from app.models.ids import id_at, id_moment, new_id
from app.models.org import str_enum
from app.models.partitioning import case_row_key, per_partition
from app.models.settled import measure_indexes

OPEN_STATUS_VALUES = tuple(status.value for status in OPEN_REPORT_STATUSES)


class Report(UUIDPrimaryKey, Base):
    __tablename__ = "reports"
    __table_args__ = (
        # The console's inbox: a community's open reports, newest first.
        Index("ix_reports_community_status_created", "community_id", "status", "created_at"),
        Index("ix_reports_region_status_created", "region_id", "status", "created_at"),
        # Lists, newest first, read in index order a page at a time: each branch of the
        # caller's scope (app/auth/scope.py) and the common filters has its own.
        Index("ix_reports_community_created", "community_id", "created_at", "id"),
        Index("ix_reports_region_created", "region_id", "created_at", "id"),
        Index("ix_reports_reporter_created", "reporter_id", "created_at", "id"),
        Index("ix_reports_category_created", "category_code", "created_at", "id"),
        Index("ix_reports_created", "created_at", "id"),
        *measure_indexes(),
        # "Already reported?" and "nearby" look for open reports near a point.
        open_index(
            "ix_reports_open_category_lat_lng",
            "category_code",
            "lat",
            "lng",
            open_statuses=OPEN_STATUS_VALUES,
        ),
        open_index("ix_reports_open_lat_lng", "lat", "lng", open_statuses=OPEN_STATUS_VALUES),
        # SSP-<county>-YYYYMMDD-NNNNNN: unique by construction (one counter per county and
        # day), and checked in each month's partition on PostgreSQL.
        per_partition(UniqueConstraint("number", name="uq_reports_number")),
        # The id is the moment of filing (see ``_id_of_the_filing_moment`` below): the month
        # partition a case lands in, and what bounds a list's pages to the months they need.
        CheckConstraint(
            "('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint"
            " = floor(extract(epoch FROM created_at) * 1000)::bigint",
            name="id_is_filing_moment",
        ).ddl_if(dialect="postgresql"),
        {"postgresql_partition_by": "RANGE (id)"},
    )

    # Taken as the last write of the filing (the county's counter row stays locked until
    # commit); until then, inside that transaction only, the row holds its id's hex, which no
    # number can equal.
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[ReportStatus] = mapped_column(
        str_enum(ReportStatus, "report_status"), default=ReportStatus.submitted
    )
    # Bumped by every change: the ETag, and the guard against two staff acting at once.
    version: Mapped[int] = mapped_column(Integer, default=1)

    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code", ondelete="RESTRICT"))
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, "priority"))
    source: Mapped[ReportSource] = mapped_column(str_enum(ReportSource, "report_source"))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    occurred_at: Mapped[datetime | None]

    # Where, in WGS-84; and what the phone sent, for audit of the conversion.
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    submitted_lat: Mapped[float] = mapped_column(Float)
    submitted_lng: Mapped[float] = mapped_column(Float)
    submitted_coord_system: Mapped[str] = mapped_column(String(10))

    reporter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # The courier's branch at submission, for participation statistics by company and branch.
    reporter_branch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("courier_branches.id", ondelete="SET NULL")
    )

    community_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("communities.id", ondelete="RESTRICT")
    )
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))
    # The region that owns the report: its community's, or the queue it waits in.
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))
    routing_method: Mapped[RoutingMethod] = mapped_column(str_enum(RoutingMethod, "routing_method"))
    routing_distance_m: Mapped[float | None] = mapped_column(Float)

    accept_due_at: Mapped[datetime | None]
    resolve_due_at: Mapped[datetime | None]
    # Where the overdue sweep is with each clock: the deadline whose overdue it recorded, and
    # the deadline it is done with (recorded, and the case at the red card). A new deadline
    # differs from both, and the sweep looks at the clock again once it runs out.
    accept_due_recorded: Mapped[datetime | None]
    accept_due_swept: Mapped[datetime | None]
    resolve_due_recorded: Mapped[datetime | None]
    resolve_due_swept: Mapped[datetime | None]

    # The earlier case this one repeats, by id alone: a month of cases is archived whole, and
    # a later month's duplicate must not hold it back (app/models/partitioning.py).
    duplicate_of_id: Mapped[uuid.UUID | None]

    # Handling.
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    supervision_level: Mapped[SupervisionLevel | None] = mapped_column(
        str_enum(SupervisionLevel, "supervision_level")
    )
    escalation_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None]
    # On hold (挂账): where it was, since when, and how long all holds lasted (clocks stop).
    status_before_hold: Mapped[ReportStatus | None] = mapped_column(
        str_enum(ReportStatus, "status_before_hold")
    )
    held_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # … and in office hours of the working calendar, for the statistics of working-hour
    # categories (their hours to resolve leave the hold out the way their limits count).
    held_working_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    rework_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reopened_at: Mapped[datetime | None]
    closure_type: Mapped[ClosureType | None] = mapped_column(str_enum(ClosureType, "closure_type"))
    # 随手清: filed as already handled by its reporter, with "after" photos; it waits for the
    # community's check, which closes it (self_resolved) or makes it an ordinary accepted case.
    handled_on_the_spot: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The reporter's rating (ratings.satisfaction), kept on the case too: the statistics count
    # it with the case's other columns instead of joining every rating ever given.
    satisfaction: Mapped[Satisfaction | None] = mapped_column(
        str_enum(Satisfaction, "report_satisfaction")
    )

    # The hours the case took, in its category's kind of hours (office hours for working-hour
    # categories), kept when they become known: to accept at its first acceptance, to resolve
    # (less the holds) at each resolution. Statistics average them as they are.
    hours_to_accept: Mapped[float | None] = mapped_column(Float)
    hours_to_resolve: Mapped[float | None] = mapped_column(Float)

    # One timestamp per status, set when the status is entered: statistics read these columns.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    on_hold_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    rejected_at: Mapped[datetime | None]
    duplicate_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    photos: Mapped[list[Photo]] = relationship(
        back_populates="report", lazy="raise", order_by="Photo.position"
    )


class StoredFileColumns:
    """A stored photo's files and what was read from it, kept alike by a report's photo and by
    an upload waiting for its report (``app/photos/uploads.py``, ``PhotoFile``), so that a
    claim turns one into the other field by field."""

    display_key: Mapped[str] = mapped_column(String(200), unique=True)
    thumbnail_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Indexed for gc-photos, which looks up original/ keys in this column alone.
    original_key: Mapped[str | None] = mapped_column(String(200), index=True, unique=True)
    content_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    thumbnail_width: Mapped[int] = mapped_column(Integer)
    thumbnail_height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    original_filename: Mapped[str | None] = mapped_column(String(200))
    original_format: Mapped[str] = mapped_column(String(20))
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lng: Mapped[float | None] = mapped_column(Float)
    exif_taken_at: Mapped[datetime | None]


class Photo(StoredFileColumns, CaseRowId, Base):
    __tablename__ = "photos"
    __table_args__ = (
        Index("ix_photos_report_position", "report_id", "position"),
        # The event that brought the photo (a completion, a check): of the same case. Events
        # are deleted only with their case, and its photos go with it.
        ForeignKeyConstraint(
            ["event_id", "report_id"],
            ["report_events.id", "report_events.report_id"],
            name="fk_photos_event_id_report_events",
        ),
        # The files' keys hold the photo's id: unique by construction, checked per partition.
        per_partition(UniqueConstraint("display_key", name="uq_photos_display_key")),
        per_partition(UniqueConstraint("thumbnail_key", name="uq_photos_thumbnail_key")),
        per_partition(Index("ix_photos_original_key", "original_key", unique=True)),
        case_row_key(),
        {"postgresql_partition_by": "RANGE (report_id)"},
    )

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID | None]
    display_key: Mapped[str] = mapped_column(String(200))
    thumbnail_key: Mapped[str] = mapped_column(String(200))
    original_key: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[PhotoKind] = mapped_column(str_enum(PhotoKind, "photo_kind"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Reasons to doubt the photo (far from the report, taken long before): flagged, not refused.
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[Report] = relationship(back_populates="photos", lazy="raise")


class ReportEvent(CaseRowId, Base):
    """One line of a report's timeline: append-only, the audit trail and the basis of statistics."""

    __tablename__ = "report_events"
    __table_args__ = (
        UniqueConstraint("report_id", "seq"),
        case_row_key(),
        {"postgresql_partition_by": "RANGE (report_id)"},
    )

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[Role | None] = mapped_column(str_enum(Role, "role"))
    from_status: Mapped[ReportStatus | None] = mapped_column(str_enum(ReportStatus, "from_status"))
    to_status: Mapped[ReportStatus | None] = mapped_column(str_enum(ReportStatus, "to_status"))
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    # Internal events and notes are for staff only; the reporter sees the public part.
    is_internal: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportNumberCounter(Base):
    """The last case number given out in a county on a day (China time):
    SSP-<county code>-YYYYMMDD-NNNNNN. One row per county and day, so submissions in different
    counties never wait for each other (app/reports/numbering.py)."""

    __tablename__ = "report_number_counters"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class IdempotencyRecord(Base):
    """The first response to a write sent with an Idempotency-Key, replayed to retries."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))  # method and route, e.g. "POST /reports"
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class IntegrationFiling(Base):
    """How a case filed by an integration (Open311) came in: the key, the link to its media
    the integration gave (kept, never fetched) and the person it was filed for. The contact is
    personal data: shown masked, in full only to administrators (audited), and erased once the
    case has been over for the retention period (``contact_erased_at``)."""

    __tablename__ = "integration_filings"
    __table_args__ = ({"postgresql_partition_by": "RANGE (report_id)"},)

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), index=True
    )
    integration: Mapped[str] = mapped_column(String(100))  # the key's name when it filed
    media_url: Mapped[str | None] = mapped_column(String(2000))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    device_id: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    contact_erased_at: Mapped[datetime | None]


@event.listens_for(Report, "init")
def _id_of_the_filing_moment(target: Report, args: Any, kwargs: dict[str, Any]) -> None:
    """A case's id is a UUIDv7 of the moment it was filed, to the millisecond, and its
    ``created_at`` that moment (PostgreSQL checks it): a case dated back (a demo's history,
    an import) lands in its own month, and an id bound follows a time bound."""
    if "id" in kwargs:
        return
    filed = kwargs.get("created_at")
    if filed is None:
        kwargs["id"] = new_id()
        kwargs["created_at"] = id_moment(kwargs["id"])
    else:
        kwargs["id"] = id_at(filed)
