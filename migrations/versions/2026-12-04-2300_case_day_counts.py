"""statistics: case events counted per day and place

Revision ID: f1b6d4a8c2e9
Revises: e7a3c9d1b5f2
Create Date: 2026-12-04 23:00:00+00:00

``case_day_counts`` holds the cases submitted, accepted and closed and the clocks found overdue
per day of China time and place, for the statistics' time series; the service keeps it in the
transaction of each change (app/cases/day_counts.py). Filled here from the cases there are, the
way ``python -m app stats rebuild-counts`` fills it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1b6d4a8c2e9"
down_revision: str | None = "e7a3c9d1b5f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (metric, the moment it counts at, the rows it is counted in)
EVENTS = (
    ("submitted", "r.created_at", "reports r"),
    ("accepted", "r.accepted_at", "reports r"),
    ("closed", "r.closed_at", "reports r"),
    ("overdue", "m.marked_at", "overdue_marks m JOIN reports r ON r.id = m.report_id"),
)


def _china_day(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"floor((date_part('epoch', {column}) + 28800) / 86400)::int"
    # SQLite: the moments are after 1970, so truncation is the floor.
    return f"cast((round((julianday({column}) - 2440587.5) * 86400.0, 3) + 28800) / 86400 as int)"


def upgrade() -> None:
    op.create_table(
        "case_day_counts",
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("day_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "metric", "day_number", "region_id", "community_id", name=op.f("pk_case_day_counts")
        ),
    )
    dialect = op.get_bind().dialect.name
    # The community of a case without one: the all-zero id, as the service writes it.
    no_community = (
        "'00000000-0000-0000-0000-000000000000'::uuid"
        if dialect == "postgresql"
        else "'00000000000000000000000000000000'"
    )
    for metric, moment, rows in EVENTS:
        day = _china_day(moment, dialect)
        op.execute(
            "INSERT INTO case_day_counts (metric, day_number, region_id, community_id, count) "
            f"SELECT '{metric}', {day}, r.region_id, coalesce(r.community_id, {no_community}), "
            f"count(*) FROM {rows} WHERE {moment} IS NOT NULL "
            f"GROUP BY {day}, r.region_id, coalesce(r.community_id, {no_community})"
        )


def downgrade() -> None:
    op.drop_table("case_day_counts")
