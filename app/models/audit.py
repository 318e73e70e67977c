"""The audit log of personal-data access: who saw or changed whose personal data, and when."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UUIDPrimaryKey, utcnow


class AuditAction(StrEnum):
    """What was done with a person's data. Stored as plain text (no CHECK): a new kind of
    export adds a member here, not a migration."""

    personal_data_export = "personal_data.export"  # a person downloaded a copy of their data
    account_cancel = "account.cancel"  # 账号注销, by the person or by an administrator
    user_read_unmasked = "user.read_unmasked"  # a directory read showed fields others see masked
    # A case's integration contact (app/privacy/contacts.py) read in full.
    contact_read_unmasked = "contact.read_unmasked"


class AuditEntry(UUIDPrimaryKey, Base):
    """One access, written in the transaction of the access itself: an export that fails to
    commit was never served, and one that was served is always on record. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (
        # The admin list: newest first, optionally narrowed to one actor or one subject.
        Index("ix_audit_log_occurred", "occurred_at", "id"),
        Index("ix_audit_log_subject_occurred", "subject_id", "occurred_at"),
        Index("ix_audit_log_actor_occurred", "actor_id", "occurred_at"),
    )

    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(60))
    # Accounts are never deleted (a cancelled one stays as a tombstone), so these stay set.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(100))
    # A few facts about the access (fields shown, counts, the reason given): never the data.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
