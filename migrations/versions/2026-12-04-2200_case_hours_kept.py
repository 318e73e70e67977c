"""statistics: the hours each case took, kept on the case

Revision ID: e7a3c9d1b5f2
Revises: d5f2b8c4e6a1
Create Date: 2026-12-04 22:00:00+00:00

``reports.hours_to_accept`` and ``reports.hours_to_resolve`` are written when they become
known (app/cases/measured.py), so that statistics average them instead of working every
case's office hours out on each read. Cases accepted before this version get theirs here:
calendar hours as they are; office hours of working-hour categories on the weekday rule with
09:00–12:00 and 13:00–18:00 China time (holidays are not known to a migration).

The index on ``created_at`` now carries every column the case measures read, so that a
dashboard's aggregate over a month of cases is read from the index alone on PostgreSQL.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "e7a3c9d1b5f2"
down_revision: str | None = "d5f2b8c4e6a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHINA = timezone(timedelta(hours=8))
OFFICE = ((9, 12), (13, 18))
BATCH = 5_000
MEASURED_COLUMNS = [
    "region_id",
    "community_id",
    "category_code",
    "status",
    "accept_due_at",
    "resolve_due_at",
    "accepted_at",
    "rejected_at",
    "duplicate_at",
    "dispatched_at",
    "closure_type",
    "rework_count",
    "satisfaction",
    "hours_to_accept",
    "hours_to_resolve",
]


def _office_seconds(start: datetime, end: datetime) -> float:
    total = 0.0
    day = start.astimezone(CHINA).date()
    last = end.astimezone(CHINA).date()
    while day <= last:
        if day.weekday() < 5:
            for opens, closes in OFFICE:
                begin = max(datetime(day.year, day.month, day.day, opens, tzinfo=CHINA), start)
                finish = min(datetime(day.year, day.month, day.day, closes, tzinfo=CHINA), end)
                total += max((finish - begin).total_seconds(), 0.0)
        day += timedelta(days=1)
    return total


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hours(working: bool, start: datetime, end: datetime) -> float:
    start, end = _aware(start), _aware(end)
    if working:
        return _office_seconds(start, end) / 3600
    return (end - start).total_seconds() / 3600


def _backfill_hours() -> None:
    bind = op.get_bind()
    select = (
        sa.text(
            "SELECT r.id, r.status, r.created_at, r.accepted_at, r.resolved_at, r.held_seconds, "
            "r.held_working_seconds, c.hours_kind FROM reports r "
            "JOIN categories c ON c.code = r.category_code "
            "WHERE r.accepted_at IS NOT NULL AND r.id > :after ORDER BY r.id LIMIT :batch"
        )
        .bindparams(sa.bindparam("after", type_=sa.Uuid()))
        .columns(
            sa.column("id", sa.Uuid()),
            sa.column("status", sa.String()),
            sa.column("created_at", sa.DateTime()),
            sa.column("accepted_at", sa.DateTime()),
            sa.column("resolved_at", sa.DateTime()),
            sa.column("held_seconds", sa.Float()),
            sa.column("held_working_seconds", sa.Float()),
            sa.column("hours_kind", sa.String()),
        )
    )
    update = sa.text(
        "UPDATE reports SET hours_to_accept = :to_accept, hours_to_resolve = :to_resolve "
        "WHERE id = :id"
    ).bindparams(sa.bindparam("id", type_=sa.Uuid()))
    last = uuid.UUID(int=0)
    while True:
        rows = bind.execute(select, {"after": last, "batch": BATCH}).all()
        if not rows:
            return
        values = []
        for row in rows:
            working = row.hours_kind == "working"
            to_resolve = None
            if row.resolved_at is not None and row.status in ("resolved", "closed"):
                held = row.held_working_seconds if working else row.held_seconds
                to_resolve = _hours(working, row.accepted_at, row.resolved_at) - held / 3600
            values.append(
                {
                    "id": row.id,
                    "to_accept": _hours(working, row.created_at, row.accepted_at),
                    "to_resolve": to_resolve,
                }
            )
        bind.execute(update, values)
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("reports", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("hours_to_accept", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("hours_to_resolve", sa.Float(), nullable=True))
    _backfill_hours()
    op.drop_index("ix_reports_created_places", table_name="reports")
    op.create_index(
        "ix_reports_created_measures",
        "reports",
        ["created_at"],
        postgresql_include=MEASURED_COLUMNS,
    )


def downgrade() -> None:
    op.drop_index("ix_reports_created_measures", table_name="reports")
    op.create_index(
        "ix_reports_created_places",
        "reports",
        ["created_at"],
        postgresql_include=["region_id", "community_id", "category_code"],
    )
    with op.batch_alter_table("reports", recreate="never") as batch_op:
        batch_op.drop_column("hours_to_resolve")
        batch_op.drop_column("hours_to_accept")
