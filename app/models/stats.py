"""Figures kept for the dashboards alongside the cases they come from."""

from __future__ import annotations

import uuid

from sqlalchemy import Column, Float, Index, Integer, String, Table, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.models.settled import SETTLED_STATUSES

# The community of a case that has none (a region's queue): a fixed id rather than NULL, which
# a primary key cannot hold.
NO_COMMUNITY = uuid.UUID(int=0)


class CaseDayCount(Base):
    """How many cases were submitted, accepted or closed, and how many clocks ran out, on a day
    of China time in a place: the statistics' time series read these rows instead of counting
    a year of cases. Kept in the transaction of each change that makes or moves such an event
    (app/cases/day_counts.py): a case counts where it is now, at its latest closure. Rebuilt
    from the cases by ``python -m app stats rebuild-counts``."""

    __tablename__ = "case_day_counts"

    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    day_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    region_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


# The case measures that add up (app/cases/measures.py, ``measure_columns``) and that a settled
# case can count in: counts, and the hours to be averaged as sums. (Open, overdue and the other
# statuses are never a settled case's; PostgreSQL's indexes take 32 columns at most.)
MEASURE_COUNTS = (
    "total",
    "due_to_close",
    "closed",
    "closed_on_time",
    "self_resolved",
    "reworks",
    "response_due",
    "responded_on_time",
    "resolved",
    "ratings",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
    "accepted",
    "handled_by_community",
    "whistled",
    "measured_accept",
    "measured_resolve",
    *(f"status_{status}" for status in SETTLED_STATUSES),
)
MEASURE_SUMS = ("hours_to_accept_sum", "hours_to_resolve_sum")
MEASURE_DAY_KEYS = ("day_number", "region_id", "community_id", "category_code")

# The case measures of the settled cases (ended, with nothing left that the clock could change:
# app/models/settled.py, ``settled``) filed on a day of China time in a place and category: a
# summary of a year reads these rows for them instead of every case. Kept in the transaction of
# each change to a case (app/cases/measure_days.py); rebuilt from the cases by ``python -m app
# stats rebuild-counts``. Written and read as a table, not as objects.
case_measure_days = Table(
    "case_measure_days",
    Base.metadata,
    Column("day_number", Integer, primary_key=True, autoincrement=False),
    Column("region_id", Uuid(), primary_key=True),
    Column("community_id", Uuid(), primary_key=True),
    Column("category_code", String(64), primary_key=True),
    *(Column(name, Integer, nullable=False, server_default=text("0")) for name in MEASURE_COUNTS),
    *(Column(name, Float, nullable=False, server_default=text("0")) for name in MEASURE_SUMS),
    # A caller's places over a period: the rows of its communities, or of its regions, read from
    # the index alone (PostgreSQL): the rows of a place are scattered over the table.
    *(
        Index(
            f"ix_case_measure_days_{place}_day",
            f"{place}_id",
            "day_number",
            postgresql_include=[
                *(key for key in MEASURE_DAY_KEYS if key not in (f"{place}_id", "day_number")),
                *MEASURE_COUNTS,
                *MEASURE_SUMS,
            ],
        )
        for place in ("community", "region")
    ),
)
