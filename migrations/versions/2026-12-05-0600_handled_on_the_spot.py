"""reports: 随手清, a hazard the reporter cleared on the spot

Revision ID: c2e4a6b8d0f1
Revises: b7d1f3a9c5e2
Create Date: 2026-12-05 06:00:00+00:00

``reports.handled_on_the_spot`` marks a case filed as already handled (with "after" photos),
which waits for the community's check. A case closed by that check, never accepted, is the
self-resolved one (its closure type stays ``normal``; no CHECK constraint changes, so SQLite
alters the table in place and no row of a case is copied or lost).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c2e4a6b8d0f1"
down_revision: str | None = "b7d1f3a9c5e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "reports",
        sa.Column("handled_on_the_spot", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("reports", "handled_on_the_spot")
