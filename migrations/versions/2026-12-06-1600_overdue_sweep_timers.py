"""the overdue sweep's timers: one row per case with a running clock

Revision ID: b2f7a8b9c4d5
Revises: a1e6f7a8b9c3
Create Date: 2026-12-06 16:00:00+00:00

``clock_timers`` holds, for each case with a running clock, the next moment the overdue sweep
has anything to do for it (app/cases/clock_timers.py); a pass reads the timers that are due
and nothing else. Filled here from the cases, each at its earliest running deadline the sweep
is not done with (the sweep sets the exact moment the first time it looks). The partial
indexes of running clocks the sweep read at every pass, one per clock and stage in every
month's partition, go.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b2f7a8b9c4d5"
down_revision: str | None = "a1e6f7a8b9c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, deadline, noted as recorded, noted as done, the statuses in which the clock runs)
CLOCKS = (
    ("reports", "accept_due_at", "accept_due_recorded", "accept_due_swept", "status = 'submitted'"),
    (
        "reports",
        "resolve_due_at",
        "resolve_due_recorded",
        "resolve_due_swept",
        "status IN ('accepted', 'dispatched', 'in_progress')",
    ),
    ("jobs", "accept_due_at", "accept_due_recorded", "accept_due_swept", "status = 'pending'"),
    (
        "jobs",
        "complete_due_at",
        "complete_due_recorded",
        "complete_due_swept",
        "status = 'accepted'",
    ),
)
# A job's clocks run while its case is open and not on hold.
JOB_CLOCKS_RUN = "r.status IN ('accepted', 'dispatched', 'in_progress', 'resolved', 'submitted')"


def _running_deadlines(distinct: str) -> str:
    branches = []
    for table, due, _, swept, running in CLOCKS:
        unfinished = f"{due} IS NOT NULL AND {swept} {distinct} {due}"
        if table == "reports":
            branches.append(f"SELECT id AS report_id, {due} AS due_at FROM reports"
                            f" WHERE {running} AND {unfinished}")
        else:
            branches.append(
                f"SELECT j.report_id, j.{due} FROM jobs j JOIN reports r ON r.id = j.report_id"
                f" WHERE j.{running} AND {JOB_CLOCKS_RUN}"
                f" AND j.{due} IS NOT NULL AND j.{swept} {distinct} j.{due}"
            )
    return " UNION ALL ".join(branches)


def upgrade() -> None:
    op.create_table(
        "clock_timers",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "waits_for_red_card", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_clock_timers")),
    )
    op.create_index("ix_clock_timers_due_at", "clock_timers", ["due_at", "report_id"])
    distinct = "IS DISTINCT FROM" if op.get_bind().dialect.name == "postgresql" else "IS NOT"
    op.execute(
        "INSERT INTO clock_timers (report_id, due_at)"
        f" SELECT report_id, min(due_at) FROM ({_running_deadlines(distinct)}) AS running"
        " GROUP BY report_id"
    )
    for table, due, _, _, _ in CLOCKS:
        op.drop_index(f"ix_{table}_{due}_unswept", table_name=table)
        op.drop_index(f"ix_{table}_{due}_unrecorded", table_name=table)


def downgrade() -> None:
    for table, due, recorded, swept, running in CLOCKS:
        op.create_index(
            f"ix_{table}_{due}_unrecorded",
            table,
            [due],
            postgresql_where=sa.text(f"{running} AND {recorded} IS DISTINCT FROM {due}"),
            sqlite_where=sa.text(f"{running} AND {recorded} IS NOT {due}"),
        )
        op.create_index(
            f"ix_{table}_{due}_unswept",
            table,
            [due],
            postgresql_where=sa.text(
                f"{running} AND {recorded} = {due} AND {swept} IS DISTINCT FROM {due}"
            ),
            sqlite_where=sa.text(f"{running} AND {recorded} = {due} AND {swept} IS NOT {due}"),
        )
    op.drop_index("ix_clock_timers_due_at", table_name="clock_timers")
    op.drop_table("clock_timers")
