"""statistics: the working calendar as a table, hold time in office hours, ratings on cases

Revision ID: d5f2b8c4e6a1
Revises: c4e8a1d7f3b2
Create Date: 2026-12-04 19:00:00+00:00

``working_days`` lets the statistics measure working-hour categories in office hours in SQL
(app/stats/timesql.py); it is derived from the calendar and filled by the service the first
time a statistic needs it (app/calendar/working_days.py), so it starts empty here.

``reports.held_working_seconds`` is the time a case spent on hold in office hours, kept as
holds end from now on. Cases held before this version get theirs from their timeline's
hold/resume pairs, counted on the weekday rule with the office hours of 09:00–12:00 and
13:00–18:00 China time (holidays not known to a migration): close for the rare old hold.

``reports.satisfaction`` copies the case's rating, so that statistics read it with the case.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "d5f2b8c4e6a1"
down_revision: str | None = "c4e8a1d7f3b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHINA = timezone(timedelta(hours=8))
OFFICE = ((9, 12), (13, 18))


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


def upgrade() -> None:
    op.create_table(
        "working_days",
        sa.Column("day_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("is_workday", sa.Boolean(), nullable=False),
        sa.Column("worked_before", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day_number", name=op.f("pk_working_days")),
    )
    op.create_table(
        "working_days_built",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_working_days_built_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_working_days_built")),
    )
    with op.batch_alter_table("reports", recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("held_working_seconds", sa.Float(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "satisfaction",
                sa.Enum(
                    "satisfied",
                    "basically_satisfied",
                    "unsatisfied",
                    name="report_satisfaction",
                    native_enum=False,
                    # SQLite adds no CHECK to an existing table (that takes a copy of it).
                    create_constraint=op.get_bind().dialect.name != "sqlite",
                    length=32,
                ),
                nullable=True,
            )
        )
    op.execute(
        "UPDATE reports SET satisfaction = "
        "(SELECT ratings.satisfaction FROM ratings WHERE ratings.report_id = reports.id) "
        "WHERE id IN (SELECT report_id FROM ratings)"
    )
    _backfill_held_working_seconds()
    op.create_index(
        "ix_reports_created_places",
        "reports",
        ["created_at"],
        postgresql_include=["region_id", "community_id", "category_code"],
    )
    op.create_index("ix_jobs_created", "jobs", ["created_at"])


def _backfill_held_working_seconds() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT e.report_id, e.type, e.created_at FROM report_events e "
            "JOIN reports r ON r.id = e.report_id "
            "WHERE r.held_seconds > 0 AND e.type IN ('hold', 'resume') "
            "ORDER BY e.report_id, e.seq"
        )
    ).all()
    held: dict[object, float] = {}
    since: dict[object, datetime] = {}
    for report_id, kind, at in rows:
        if kind == "hold":
            since[report_id] = _aware(at)
        elif report_id in since:
            start = since.pop(report_id)
            held[report_id] = held.get(report_id, 0.0) + _office_seconds(start, _aware(at))
    for report_id, seconds in held.items():
        bind.execute(
            sa.text("UPDATE reports SET held_working_seconds = :seconds WHERE id = :id"),
            {"seconds": seconds, "id": report_id},
        )


def downgrade() -> None:
    op.drop_index("ix_jobs_created", table_name="jobs")
    op.drop_index("ix_reports_created_places", table_name="reports")
    with op.batch_alter_table("reports", recreate="never") as batch_op:
        batch_op.drop_column("satisfaction")
        batch_op.drop_column("held_working_seconds")
    op.drop_table("working_days_built")
    op.drop_table("working_days")
