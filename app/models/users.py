"""People and credentials: users, their scoped roles, sessions, refresh tokens, API keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamps, UUIDPrimaryKey, utcnow
from app.models.enums import Role
from app.models.org import str_enum


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        # An index, not a constraint: SQLite would rebuild the table every row points to.
        Index("uq_users_retired_username_hash", "retired_username_hash", unique=True),
    )

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    # 账号注销: set once, when the account was cancelled and its personal fields erased. The row
    # stays as a tombstone: the cases the person filed still point to it.
    cancelled_at: Mapped[datetime | None]
    # SHA-256 of the cancelled account's former username (lower case), so that nobody can sign
    # up under it and pass for the person; never the name itself.
    retired_username_hash: Mapped[str | None] = mapped_column(String(64))

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", lazy="raise", cascade="all, delete-orphan"
    )


class RoleAssignment(UUIDPrimaryKey, Base):
    """A role held in one place; exactly the scope column the role needs is set."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN region_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN community_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN unit_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN branch_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN company_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="one_scope",
        ),
        Index("ix_role_assignments_community_role", "community_id", "role"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    region_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("regions.id", ondelete="CASCADE"), index=True
    )
    community_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE")
    )
    unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    branch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("courier_branches.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("courier_companies.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="roles", lazy="raise")


class AuthSession(UUIDPrimaryKey, Base):
    """One login: the family of refresh tokens rotated from it. Revoking it ends them all,
    and the access tokens issued under it."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # Indexed for the retention pruning (app/privacy/retention.py).
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None] = mapped_column(index=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(100))


class RefreshToken(UUIDPrimaryKey, Base):
    __tablename__ = "refresh_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the token: tokens are 256-bit random, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    session: Mapped[AuthSession] = relationship(lazy="raise")


class ApiKey(UUIDPrimaryKey, Base):
    """A key for a dashboard, a BI tool or an integration, scoped to a region: it reads that
    region's cases (viewer role); a filing key (``may_file``) also files reports there through
    Open311, under an account of its own (``reporter_id``) named after the key."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    may_file: Mapped[bool] = mapped_column(default=False, server_default=false())
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT")
    )
    # Declared so that a flush writes the account before the key that names it.
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id], lazy="raise")


class LoginThrottle(Base):
    """Recent failed logins for one account or one client address."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
