"""personal information: the audit log, account cancellation, the closed points ledger

Revision ID: 6f2b8c4d1e07
Revises: 9d4e1b7a2c63
Create Date: 2026-12-03 11:00:00+00:00

``audit_log`` records every access to personal data (exports, cancellations, unmasked directory
reads). A cancelled account keeps its row as a tombstone (``users.cancelled_at``) with the hash
of its former username, so the name cannot be taken again; its check-ins end (a new status,
``ended``); its points ledger closes with an entry that belongs to no report.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6f2b8c4d1e07"
down_revision: str | None = "9d4e1b7a2c63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK_IN_STATUS = "ck_check_ins_check_in_status"
OPEN_CHECK_INS = "status IN ('pending', 'approved')"


def _check_in_statuses(*statuses: str) -> str:
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def _replace_check_in_statuses(condition: str) -> None:
    # The partial unique index is dropped and made again around the change: SQLite rebuilds the
    # table to change a CHECK, and an index's WHERE clause would not survive the copy.
    op.drop_index("uq_check_ins_open", table_name="check_ins")
    with op.batch_alter_table("check_ins", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f(CHECK_IN_STATUS), type_="check")
        batch_op.create_check_constraint(op.f(CHECK_IN_STATUS), condition)
    op.create_index(
        "uq_check_ins_open",
        "check_ins",
        ["courier_id", "community_id"],
        unique=True,
        postgresql_where=sa.text(OPEN_CHECK_INS),
        sqlite_where=sa.text(OPEN_CHECK_INS),
    )


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_audit_log_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["users.id"],
            name=op.f("fk_audit_log_subject_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_occurred", "audit_log", ["occurred_at", "id"], unique=False)
    op.create_index(
        "ix_audit_log_subject_occurred", "audit_log", ["subject_id", "occurred_at"], unique=False
    )
    op.create_index(
        "ix_audit_log_actor_occurred", "audit_log", ["actor_id", "occurred_at"], unique=False
    )

    # Added in place: rebuilding ``users`` on SQLite would cascade to every row pointing to it.
    op.add_column("users", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("retired_username_hash", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_users_retired_username_hash", "users", ["retired_username_hash"], unique=True
    )

    with op.batch_alter_table("points_entries", schema=None) as batch_op:
        batch_op.alter_column("report_id", existing_type=sa.Uuid(), nullable=True)

    _replace_check_in_statuses(_check_in_statuses("pending", "approved", "rejected", "ended"))


def downgrade() -> None:
    # Ended check-ins were closed by a cancellation: the old schema calls that a rejection.
    op.execute("UPDATE check_ins SET status = 'rejected' WHERE status = 'ended'")
    _replace_check_in_statuses(_check_in_statuses("pending", "approved", "rejected"))

    # The closing entries belong to no report; the old schema has no room for them.
    op.execute("DELETE FROM points_entries WHERE report_id IS NULL")
    with op.batch_alter_table("points_entries", schema=None) as batch_op:
        batch_op.alter_column("report_id", existing_type=sa.Uuid(), nullable=False)

    op.drop_index("uq_users_retired_username_hash", table_name="users")
    # SQLite (3.35+) drops a column in place, without rebuilding the table.
    op.drop_column("users", "retired_username_hash")
    op.drop_column("users", "cancelled_at")

    op.drop_index("ix_audit_log_actor_occurred", table_name="audit_log")
    op.drop_index("ix_audit_log_subject_occurred", table_name="audit_log")
    op.drop_index("ix_audit_log_occurred", table_name="audit_log")
    op.drop_table("audit_log")
