"""The working calendar as data: days an administrator set, and the revision every process
compares to notice a change made elsewhere."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class CalendarDay(Base):
    """A day whose status overrides the published State Council schedule and the weekday rule:
    a public holiday (春节) or a weekend day made a working day (国庆节调休)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool]
    name: Mapped[str] = mapped_column(String(50))
    # Null when the command-line import set it (no signed-in person), or the person was removed.
    set_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CalendarRevision(Base):
    """One row, bumped in the transaction of every calendar change. Each process keeps the
    calendar in memory and compares this number now and then: exact where a count and a
    latest timestamp would miss a deletion paired with an insertion, or a clock behind."""

    __tablename__ = "calendar_revision"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkingDay(Base):
    """The working calendar as a table the statistics can join: each day (China time) from
    FIRST_TABLED_DAY on, numbered as days since 1970-01-01, with the office seconds of all days
    before it. Working hours between two moments are then a difference of two look-ups, in
    SQL (app/stats/timesql.py). Derived from the calendar in force, rebuilt when it changes
    (app/calendar/working_days.py)."""

    __tablename__ = "working_days"

    day_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    is_workday: Mapped[bool]
    worked_before: Mapped[float] = mapped_column(Float)  # office seconds before this day


class WorkingDaysBuilt(Base):
    """One row: which calendar ``working_days`` was built from (a digest of its working days
    and office hours), so every process can tell whether the table is current."""

    __tablename__ = "working_days_built"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    digest: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
