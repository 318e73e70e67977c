"""Points (积分) for useful reports: an append-only ledger."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UUIDPrimaryKey, utcnow


class PointsEntry(UUIDPrimaryKey, Base):
    """One movement of points: an award, a purchase in the points store, its refund. The
    unique keys make each rule pay at most once per report (or wish, or purchase), whatever is
    retried or reopened; an award cut by a cap is recorded with what was actually given. A
    cancelled account's ledger ends with a closing entry (no report) that takes the balance
    to zero."""

    __tablename__ = "points_entries"
    __table_args__ = (
        UniqueConstraint("report_id", "rule"),
        Index("ix_points_entries_user_created", "user_id", "created_at"),
        # Leaderboards add up a month of entries.
        Index("ix_points_entries_created", "created_at"),
        # A wish pays its volunteer once; a redemption is debited once and refunded once.
        Index("uq_points_entries_wish_rule", "wish_id", "rule", unique=True),
        Index("uq_points_entries_redemption_rule", "redemption_id", "rule", unique=True),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The case the points were for, by id alone: the ledger is kept whole while its cases'
    # months are archived (app/models/partitioning.py), so no foreign key holds it to them.
    report_id: Mapped[uuid.UUID | None]
    wish_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("wishes.id", ondelete="SET NULL"))
    redemption_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("redemptions.id", ondelete="SET NULL")
    )
    # "accepted", "closed_bonus", "self_resolved", "wish_fulfilled" (earned); "redeemed",
    # "redemption_refunded" (spent, given back); "account_closed" (forfeited).
    rule: Mapped[str] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(Integer)
    # The amount the rule would have given before the daily or monthly cap.
    points_before_cap: Mapped[int] = mapped_column(Integer)
    # Where the reporter stood when the points were earned, for leaderboards by place.
    community_id: Mapped[uuid.UUID | None]
    branch_id: Mapped[uuid.UUID | None]
    company_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
