"""The points store (积分超市): rewards a community or a courier company offers for points, and
the redemptions that buy them. Spending is a ledger row (``PointsEntry``), never a balance."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps, UUIDPrimaryKey, utcnow
from app.models.enums import RedemptionStatus
from app.models.org import str_enum


class Reward(UUIDPrimaryKey, Timestamps, Base):
    """An item on a shop's shelf, priced in points. Its shop is one community or one courier
    company (exactly one of the two is set). The stock is decremented by a conditional UPDATE,
    and the CHECK is the last guard against selling what is not there."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("points_price > 0", name="price_positive"),
        CheckConstraint(
            "monthly_limit IS NULL OR monthly_limit > 0", name="monthly_limit_positive"
        ),
        CheckConstraint(
            "(CASE WHEN community_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN company_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_shop",
        ),
    )

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    points_price: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    # How many one person may buy in a China-time month (null: no limit).
    monthly_limit: Mapped[int | None] = mapped_column(Integer)
    available_from: Mapped[datetime | None]
    available_until: Mapped[datetime | None]
    # Taken off the shelf by its shop (kept: redemptions point to it).
    is_active: Mapped[bool] = mapped_column(default=True)
    community_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("courier_companies.id", ondelete="CASCADE"), index=True
    )
    picture_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("pictures.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Redemption(UUIDPrimaryKey, Base):
    """One reward bought: the points were debited (a ``redeemed`` ledger row) and one item of
    stock taken when it was made; the shop hands it over against its code; cancelling a pending
    one returns both (a ``redemption_refunded`` row and the stock)."""

    __tablename__ = "redemptions"
    __table_args__ = (
        # A person's purchases of one reward in a month (the monthly limit).
        Index("ix_redemptions_user_reward_created", "user_id", "reward_id", "created_at"),
        Index("ix_redemptions_reward_status", "reward_id", "status"),
    )

    reward_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rewards.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(Integer)
    # What the buyer shows at the shop: short, unambiguous when read aloud.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[RedemptionStatus] = mapped_column(
        str_enum(RedemptionStatus, "redemption_status"), default=RedemptionStatus.pending
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handed_over_at: Mapped[datetime | None]
    handed_over_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
