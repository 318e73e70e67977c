"""Figures kept for the dashboards alongside the cases they come from."""

from __future__ import annotations

import uuid

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

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
