"""sign-in sessions found by age

Revision ID: a7c3e5f9b2d1
Revises: 6f2b8c4d1e07
Create Date: 2026-12-03 14:00:00+00:00

The worker deletes sign-in sessions (with their addresses and user agents) that ended longer
ago than the retention period: revoked ones by when they were revoked, the others by when they
started.
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'a7c3e5f9b2d1'
down_revision: str | None = '6f2b8c4d1e07'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_auth_sessions_revoked_at', 'auth_sessions', ['revoked_at'], unique=False)
    op.create_index('ix_auth_sessions_created_at', 'auth_sessions', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_auth_sessions_created_at', table_name='auth_sessions')
    op.drop_index('ix_auth_sessions_revoked_at', table_name='auth_sessions')
