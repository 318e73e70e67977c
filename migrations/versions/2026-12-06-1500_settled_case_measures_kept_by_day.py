"""statistics: the measures of settled cases kept per day, place and category

Revision ID: a1e6f7a8b9c3
Revises: 9d5e6f7a8b92
Create Date: 2026-12-06 15:00:00+00:00

``case_measure_days`` holds the case measures of the settled cases (ended, nothing left that
the clock could change) filed on each China day, per region, community and category, kept by
the service as cases change (app/cases/measure_days.py); filled here from the cases. The index
of every case by filing time that carried the measured columns now carries only the cases that
are not settled (a twentieth of them); two partial indexes of the hours let the 90th percentile
of many cases be read from the top.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1e6f7a8b9c3"
down_revision: str | None = "9d5e6f7a8b92"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTLED_STATUSES = ("closed", "rejected", "duplicate")
COUNTS = (
    "total",
    "due_to_close",
    "closed",
    "closed_on_time",
    "self_resolved",
    "reworks",
    "response_due",
    "responded_on_time",
    "resolved",
    "ratings",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
    "accepted",
    "handled_by_community",
    "whistled",
    "measured_accept",
    "measured_resolve",
    "status_closed",
    "status_rejected",
    "status_duplicate",
)
SUMS = ("hours_to_accept_sum", "hours_to_resolve_sum")
SETTLED = (
    "status IN ('closed', 'duplicate', 'rejected') AND (accept_due_at IS NULL OR accepted_at IS"
    " NOT NULL OR rejected_at IS NOT NULL OR duplicate_at IS NOT NULL) AND (accepted_at IS NULL"
    " OR status = 'closed' OR resolve_due_at IS NULL)"
)
MEASURED = [
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
PLACES = ["created_at", "id", "region_id", "community_id", "category_code"]
RESOLVED_HOURS = "status IN ('closed', 'resolved') AND hours_to_resolve IS NOT NULL"

# The measures of settled cases as app/cases/measures.py defines them on this day: none of
# them reads the clock for a settled case, so none appears.
ACCEPTED = "accepted_at IS NOT NULL"
DUE = f"{ACCEPTED} AND status <> 'on_hold' AND status IN ('closed', 'resolved')"
ANSWERED = "coalesce(accepted_at, rejected_at, duplicate_at)"
MEASURES = {
    "total": "count(*)",
    "due_to_close": f"count(*) FILTER (WHERE {DUE})",
    "closed": f"count(*) FILTER (WHERE {ACCEPTED} AND status = 'closed')",
    "closed_on_time": (
        f"count(*) FILTER (WHERE {ACCEPTED} AND status = 'closed' AND closure_type = 'normal')"
    ),
    "self_resolved": "count(*) FILTER (WHERE status = 'closed' AND accepted_at IS NULL)",
    "reworks": f"coalesce(sum(rework_count) FILTER (WHERE {DUE}), 0)",
    "response_due": (
        f"count(*) FILTER (WHERE accept_due_at IS NOT NULL AND {ANSWERED} IS NOT NULL)"
    ),
    "responded_on_time": f"count(*) FILTER (WHERE {ANSWERED} <= accept_due_at)",
    "resolved": f"count(*) FILTER (WHERE {DUE})",
    "ratings": "count(satisfaction)",
    "satisfied": "count(*) FILTER (WHERE satisfaction = 'satisfied')",
    "basically_satisfied": "count(*) FILTER (WHERE satisfaction = 'basically_satisfied')",
    "unsatisfied": "count(*) FILTER (WHERE satisfaction = 'unsatisfied')",
    "accepted": f"count(*) FILTER (WHERE {ACCEPTED})",
    "handled_by_community": f"count(*) FILTER (WHERE {ACCEPTED} AND dispatched_at IS NULL)",
    "whistled": f"count(*) FILTER (WHERE {ACCEPTED} AND dispatched_at IS NOT NULL)",
    "measured_accept": "count(hours_to_accept)",
    "measured_resolve": "count(hours_to_resolve) FILTER (WHERE status IN ('closed', 'resolved'))",
    **{f"status_{s}": f"count(*) FILTER (WHERE status = '{s}')" for s in SETTLED_STATUSES},
    "hours_to_accept_sum": "coalesce(sum(hours_to_accept), 0.0)",
    "hours_to_resolve_sum": (
        "coalesce(sum(hours_to_resolve) FILTER (WHERE status IN ('closed', 'resolved')), 0.0)"
    ),
}
# A moment's China day as days since 1970-01-01, and the id of "no community" (a region's
# queue), as each database writes them.
DAY = {
    "postgresql": "CAST(floor((date_part('epoch', created_at) + 28800.0) / 86400.0) AS INTEGER)",
    "sqlite": (
        "CAST((round((julianday(created_at) - 2440587.5) * 86400.0, 3) + 28800.0) / 86400.0"
        " AS INTEGER)"
    ),
}
NO_COMMUNITY = {
    "postgresql": "'00000000-0000-0000-0000-000000000000'",
    "sqlite": "'00000000000000000000000000000000'",
}


def _fill() -> None:
    dialect = op.get_bind().dialect.name
    day, nobody = DAY[dialect], NO_COMMUNITY[dialect]
    columns = ", ".join(["day_number", "region_id", "community_id", "category_code", *MEASURES])
    measures = ", ".join(MEASURES.values())
    op.execute(
        f"INSERT INTO case_measure_days ({columns}) SELECT {day}, region_id,"
        f" coalesce(community_id, {nobody}), category_code, {measures} FROM reports"
        f" WHERE {SETTLED} GROUP BY {day}, region_id, coalesce(community_id, {nobody}),"
        " category_code"
    )


def upgrade() -> None:
    op.create_table(
        "case_measure_days",
        sa.Column("day_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("category_code", sa.String(length=64), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False) for name in COUNTS),
        *(sa.Column(name, sa.Float(), server_default=sa.text("0"), nullable=False) for name in SUMS),
        sa.PrimaryKeyConstraint(
            "day_number", "region_id", "community_id", "category_code", name="pk_case_measure_days"
        ),
    )
    keys = ["region_id", "community_id", "category_code"]
    for place in ("community", "region"):
        op.create_index(
            f"ix_case_measure_days_{place}_day",
            "case_measure_days",
            [f"{place}_id", "day_number"],
            postgresql_include=[k for k in keys if k != f"{place}_id"] + [*COUNTS, *SUMS],
        )
    _fill()
    op.drop_index("ix_reports_created_measures", table_name="reports")
    unsettled = sa.text(f"NOT ({SETTLED})")
    op.create_index(
        "ix_reports_unsettled_created",
        "reports",
        ["created_at"],
        postgresql_include=["id", *MEASURED],
        postgresql_where=unsettled,
        sqlite_where=unsettled,
    )
    for kind, where in (
        ("accept", "hours_to_accept IS NOT NULL"),
        ("resolve", RESOLVED_HOURS),
    ):
        op.create_index(
            f"ix_reports_hours_to_{kind}",
            "reports",
            [f"hours_to_{kind}"],
            postgresql_include=PLACES,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade() -> None:
    op.drop_index("ix_reports_hours_to_resolve", table_name="reports")
    op.drop_index("ix_reports_hours_to_accept", table_name="reports")
    op.drop_index("ix_reports_unsettled_created", table_name="reports")
    op.create_index(
        "ix_reports_created_measures", "reports", ["created_at"], postgresql_include=MEASURED
    )
    op.drop_table("case_measure_days")
