"""reads in index order, and a sweep that reads only unfinished clocks

Revision ID: c4e8a1d7f3b2
Revises: a7c3e5f9b2d1
Create Date: 2026-12-04 10:00:00+00:00

Lists read a page at a time in index order: an index per branch of a caller's scope (community,
region, reporter), per category, and a unit's jobs, each ending in (created_at, id). Nearby and
"already reported?" read partial indexes of the open reports. The overdue sweep keeps on each
clock the deadline whose overdue it recorded and the deadline it is done with, and reads partial
indexes of the running clocks not recorded and of those recorded it is not done with, instead of
every running clock past its deadline at every pass. Existing rows start with nothing noted: the
first sweep after the upgrade goes over their overdue clocks once, in batches (the marks already
written keep it from recording any twice).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c4e8a1d7f3b2'
down_revision: str | None = 'a7c3e5f9b2d1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = (
    "status IN ('accepted', 'dispatched', 'in_progress', 'on_hold', 'resolved', 'submitted')"
)
# (table, deadline, noted as recorded, noted as done, the statuses in which the clock runs)
CLOCKS = (
    ('reports', 'accept_due_at', 'accept_due_recorded', 'accept_due_swept', "status = 'submitted'"),
    (
        'reports',
        'resolve_due_at',
        'resolve_due_recorded',
        'resolve_due_swept',
        "status IN ('accepted', 'dispatched', 'in_progress')",
    ),
    ('jobs', 'accept_due_at', 'accept_due_recorded', 'accept_due_swept', "status = 'pending'"),
    (
        'jobs',
        'complete_due_at',
        'complete_due_recorded',
        'complete_due_swept',
        "status = 'accepted'",
    ),
)


def upgrade() -> None:
    for table, _, recorded, swept, _ in CLOCKS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(recorded, sa.DateTime(timezone=True), nullable=True))
            batch.add_column(sa.Column(swept, sa.DateTime(timezone=True), nullable=True))
    op.drop_index('ix_reports_status_accept_due', table_name='reports')
    op.drop_index('ix_reports_status_resolve_due', table_name='reports')
    op.drop_index('ix_jobs_status_accept_due', table_name='jobs')
    op.drop_index('ix_jobs_status_complete_due', table_name='jobs')
    op.drop_index('ix_reports_category_lat_lng', table_name='reports')
    op.drop_index('ix_reports_reporter_created', table_name='reports')
    for table, due, recorded, swept, running in CLOCKS:
        op.create_index(
            f'ix_{table}_{due}_unrecorded',
            table,
            [due],
            postgresql_where=sa.text(f'{running} AND {recorded} IS DISTINCT FROM {due}'),
            sqlite_where=sa.text(f'{running} AND {recorded} IS NOT {due}'),
        )
        op.create_index(
            f'ix_{table}_{due}_unswept',
            table,
            [due],
            postgresql_where=sa.text(
                f'{running} AND {recorded} = {due} AND {swept} IS DISTINCT FROM {due}'
            ),
            sqlite_where=sa.text(f'{running} AND {recorded} = {due} AND {swept} IS NOT {due}'),
        )
    for name, columns in (
        ('ix_reports_open_category_lat_lng', ['category_code', 'lat', 'lng']),
        ('ix_reports_open_lat_lng', ['lat', 'lng']),
    ):
        op.create_index(
            name,
            'reports',
            columns,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )
    op.create_index(
        'ix_reports_community_created', 'reports', ['community_id', 'created_at', 'id']
    )
    op.create_index('ix_reports_region_created', 'reports', ['region_id', 'created_at', 'id'])
    op.create_index('ix_reports_reporter_created', 'reports', ['reporter_id', 'created_at', 'id'])
    op.create_index(
        'ix_reports_category_created', 'reports', ['category_code', 'created_at', 'id']
    )
    op.create_index('ix_jobs_unit_created', 'jobs', ['unit_id', 'created_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_jobs_unit_created', table_name='jobs')
    op.drop_index('ix_reports_category_created', table_name='reports')
    op.drop_index('ix_reports_reporter_created', table_name='reports')
    op.drop_index('ix_reports_region_created', table_name='reports')
    op.drop_index('ix_reports_community_created', table_name='reports')
    op.drop_index('ix_reports_open_lat_lng', table_name='reports')
    op.drop_index('ix_reports_open_category_lat_lng', table_name='reports')
    for table, due, _, _, _ in CLOCKS:
        op.drop_index(f'ix_{table}_{due}_unswept', table_name=table)
        op.drop_index(f'ix_{table}_{due}_unrecorded', table_name=table)
    op.create_index('ix_reports_reporter_created', 'reports', ['reporter_id', 'created_at'])
    op.create_index('ix_reports_category_lat_lng', 'reports', ['category_code', 'lat', 'lng'])
    op.create_index('ix_jobs_status_complete_due', 'jobs', ['status', 'complete_due_at'])
    op.create_index('ix_jobs_status_accept_due', 'jobs', ['status', 'accept_due_at'])
    op.create_index('ix_reports_status_resolve_due', 'reports', ['status', 'resolve_due_at'])
    op.create_index('ix_reports_status_accept_due', 'reports', ['status', 'accept_due_at'])
    # Dropped in place (SQLite 3.35+ can): a batch that copies the table would drop the old
    # one, and with foreign keys on, that deletes every row referring to it.
    for table, _, recorded, swept, _ in CLOCKS:
        with op.batch_alter_table(table, recreate='never') as batch:
            batch.drop_column(swept)
            batch.drop_column(recorded)
