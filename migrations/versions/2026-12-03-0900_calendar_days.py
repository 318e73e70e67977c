"""calendar days set by administrators, and the calendar's revision

Revision ID: 3b7d9e2c1a40
Revises: 5c1e2a9f7d30
Create Date: 2026-12-03 09:00:00+00:00

``calendar_days`` holds the days that override the published schedule (a year the
chinese-calendar package does not know yet, or a correction); ``calendar_revision`` is one row
that every change bumps, so that each process notices a change made by another.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3b7d9e2c1a40'
down_revision: str | None = '5c1e2a9f7d30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('set_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_calendar_days_set_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    revision_table = op.create_table('calendar_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_calendar_revision_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_revision'))
    )
    # The one row exists from the start: writers only ever update it (which also serialises
    # two administrators changing the calendar at once).
    op.execute(revision_table.insert().values(id=1, revision=0, changed_at=sa.func.now()))


def downgrade() -> None:
    op.drop_table('calendar_revision')
    op.drop_table('calendar_days')
