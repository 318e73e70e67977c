"""What happens to a report after intake: unit jobs (派单), extensions, ratings, overdue marks."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CaseRowId, utcnow
from app.models.enums import (
    DeadlineClock,
    DeclineReason,
    ExtensionStatus,
    JobStatus,
    Satisfaction,
)
from app.models.org import str_enum
from app.models.partitioning import case_row_key


class Job(CaseRowId, Base):
    """One unit called by the whistle (派单): the lead (主办) or an assisting unit (协办)."""

    __tablename__ = "jobs"
    __table_args__ = (
        # A unit's inbox: its jobs by status, newest first.
        Index("ix_jobs_unit_status_created", "unit_id", "status", "created_at"),
        # … and all of them, a page at a time in index order.
        Index("ix_jobs_unit_created", "unit_id", "created_at", "id"),
        Index("ix_jobs_report", "report_id"),
        # The jobs sent in a period, across units (the statistics' unit sheet).
        Index("ix_jobs_created", "created_at"),
        case_row_key(),
        {"postgresql_partition_by": "RANGE (report_id)"},
    )

    # In the key: the table is partitioned with its case (app/models/partitioning.py).
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    is_lead: Mapped[bool] = mapped_column(default=False)
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, "job_status"), default=JobStatus.pending
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    dispatched_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    accept_due_at: Mapped[datetime | None]
    complete_due_at: Mapped[datetime | None]
    # Where the overdue sweep is with each clock (see Report.accept_due_recorded).
    accept_due_recorded: Mapped[datetime | None]
    accept_due_swept: Mapped[datetime | None]
    complete_due_recorded: Mapped[datetime | None]
    complete_due_swept: Mapped[datetime | None]
    # True when the whistle named the completion time: it then overrides the category limit.
    complete_by_explicit: Mapped[bool] = mapped_column(default=False)
    decline_reason_code: Mapped[DeclineReason | None] = mapped_column(
        str_enum(DeclineReason, "decline_reason")
    )
    decline_reason: Mapped[str | None] = mapped_column(Text)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobExtension(CaseRowId, Base):
    """A unit's request for more time (延期申请) and the community's or supervisor's answer."""

    __tablename__ = "job_extensions"
    __table_args__ = (
        Index("ix_job_extensions_job_status", "job_id", "status"),
        ForeignKeyConstraint(
            ["job_id", "report_id"],
            ["jobs.id", "jobs.report_id"],
            name="fk_job_extensions_job_id_jobs",
            ondelete="CASCADE",
        ),
        case_row_key(),
        {"postgresql_partition_by": "RANGE (report_id)"},
    )

    job_id: Mapped[uuid.UUID]
    # The job's case: the extension is kept in its case's partition.
    report_id: Mapped[uuid.UUID]
    requested_until: Mapped[datetime]
    previous_due_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = mapped_column(
        str_enum(ExtensionStatus, "extension_status"), default=ExtensionStatus.pending
    )
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)


class Rating(Base):
    """The reporter's satisfaction with a closed case; once per report."""

    __tablename__ = "ratings"
    __table_args__ = ({"postgresql_partition_by": "RANGE (report_id)"},)

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    satisfaction: Mapped[Satisfaction] = mapped_column(str_enum(Satisfaction, "satisfaction"))
    comment: Mapped[str | None] = mapped_column(Text)
    rated_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OverdueMark(CaseRowId, Base):
    """A clock that ran out, recorded once by the sweep (per clock and deadline: an extension
    sets a new deadline, which may run out again)."""

    __tablename__ = "overdue_marks"
    __table_args__ = (
        UniqueConstraint("report_id", "job_id", "clock", "due_at"),
        Index("ix_overdue_marks_report", "report_id"),
        case_row_key(),
        {"postgresql_partition_by": "RANGE (report_id)"},
    )

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    # Null for the report's own clocks; part of the unique key, so the report's clocks use a
    # fixed all-zero id instead of NULL (NULLs never collide in a unique constraint).
    job_id: Mapped[uuid.UUID] = mapped_column()
    clock: Mapped[DeadlineClock] = mapped_column(str_enum(DeadlineClock, "deadline_clock"))
    due_at: Mapped[datetime]
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)
    raised_to_region_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("regions.id", ondelete="SET NULL")
    )
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(300))


class ClockTimer(Base):
    """When the overdue sweep next looks at a case with a running clock: the moment one of its
    clocks (the report's or a job's) runs out, or is far enough past its deadline for the red
    card (app/cases/clock_timers.py). One row per case, in no month's partition: a pass with
    nothing due reads the first entry of its index and stops.

    A timer may be early (the sweep then finds nothing to do and sets the case's next moment),
    never late: every change that starts a clock or moves its deadline sets it no later than
    that deadline. No foreign key: a month of cases is detached whole for archiving, and a
    timer left for a case no longer there is dropped by the sweep."""

    __tablename__ = "clock_timers"
    __table_args__ = (Index("ix_clock_timers_due_at", "due_at", "report_id"),)

    report_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    due_at: Mapped[datetime]
    # Whether a clock of the case waits for its red card, a moment set from rules outside the
    # case (the calendar, the threshold, its category's kind of hours): woken when they change.
    waits_for_red_card: Mapped[bool] = mapped_column(default=False, server_default=false())
