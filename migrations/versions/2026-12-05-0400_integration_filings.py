"""integrations: keys that file reports, and how a filed case came in

Revision ID: a4c8e2f6b1d3
Revises: f1b6d4a8c2e9
Create Date: 2026-12-05 04:00:00+00:00

An API key may now file reports through Open311 (``may_file``), under an account of its own
(``reporter_id``). ``integration_filings`` keeps, per case an integration filed, the key, the
media link it gave and the contact of the person it was filed for.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a4c8e2f6b1d3"
down_revision: str | None = "f1b6d4a8c2e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("may_file", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("reporter_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_api_keys_reporter_id_users"),
            "users",
            ["reporter_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    op.create_table(
        "integration_filings",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column("integration", sa.String(length=100), nullable=False),
        sa.Column("media_url", sa.String(length=2000), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("device_id", sa.String(length=200), nullable=True),
        sa.Column("account_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contact_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_integration_filings_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_integration_filings_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_integration_filings")),
    )
    op.create_index(
        op.f("ix_integration_filings_api_key_id"), "integration_filings", ["api_key_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_integration_filings_api_key_id"), table_name="integration_filings")
    op.drop_table("integration_filings")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint(op.f("fk_api_keys_reporter_id_users"), type_="foreignkey")
        batch.drop_column("reporter_id")
        batch.drop_column("may_file")
