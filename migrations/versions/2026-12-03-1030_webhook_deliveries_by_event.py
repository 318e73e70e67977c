"""webhook deliveries looked up by their event

Revision ID: 9d4e1b7a2c63
Revises: 3b7d9e2c1a40
Create Date: 2026-12-03 10:30:00+00:00

The worker prunes outbox events past the retention period; each deleted event cascades to its
deliveries, and the unique key (webhook_id, event_id) cannot find them by event alone.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '9d4e1b7a2c63'
down_revision: str | None = '3b7d9e2c1a40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_webhook_deliveries_event_id', 'webhook_deliveries', ['event_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_event_id', table_name='webhook_deliveries')
