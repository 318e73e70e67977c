"""Micro-wishes (微心愿): a resident's small need, published by the community and fulfilled by a
volunteer (居民点单 → 社区审核 → 志愿者接单 → 居民确认)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps, UUIDPrimaryKey
from app.models.enums import WishStatus
from app.models.org import str_enum


class Wish(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "wishes"
    __table_args__ = (
        # The community's wishes by status (staff's queue, volunteers' list), newest first.
        Index("ix_wishes_community_status_created", "community_id", "status", "created_at"),
        Index("ix_wishes_resident_created", "resident_id", "created_at"),
        Index("ix_wishes_claimant_created", "claimant_id", "created_at"),
    )

    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    needed_by: Mapped[date | None]
    status: Mapped[WishStatus] = mapped_column(
        str_enum(WishStatus, "wish_status"), default=WishStatus.submitted
    )
    # The resident's account, when they posted it themselves or have one; staff posting for a
    # resident without an account leave it empty.
    resident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    posted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Shown to the resident and, once claimed, to the claimant only (erased with the account).
    resident_name: Mapped[str | None] = mapped_column(String(100))
    resident_phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    picture_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("pictures.id", ondelete="SET NULL")
    )
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    claimant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    claimed_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    fulfilment_note: Mapped[str | None] = mapped_column(String(1000))
    fulfilment_picture_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("pictures.id", ondelete="SET NULL")
    )
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    thanks_note: Mapped[str | None] = mapped_column(String(500))
    # Why the resident sent it back (for the claimant), and why it was withdrawn.
    reopen_reason: Mapped[str | None] = mapped_column(String(500))
    withdraw_reason: Mapped[str | None] = mapped_column(String(500))
    withdrawn_at: Mapped[datetime | None]
    # Optimistic lock: two volunteers claiming at once, one wins.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
