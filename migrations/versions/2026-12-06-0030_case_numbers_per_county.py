"""report_number_counters: one per county and day

Revision ID: 5e1f0a2b3c4d
Revises: dc9006ff3d06
Create Date: 2026-12-06 00:30:00+00:00

Case numbers become SSP-<county code>-YYYYMMDD-NNNNNN, counted per county and China-time day
(app/reports/numbering.py). The old counters (one per day) count numbers of the old shape,
which no new number can equal, so they are not carried over. A downgrade rebuilds the day
counters from the old-shape numbers already given out, so the old code goes on after the last
of them; the new-shape numbers stay as they are (the old code can never give one out).
"""

import re
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0a2b3c4d"
down_revision: str | None = "dc9006ff3d06"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_SHAPE = re.compile(r"^SSP-([0-9]{8})-([0-9]{6,})$")


def upgrade() -> None:
    op.drop_table("report_number_counters")
    op.create_table(
        "report_number_counters",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("county_code", "day", name=op.f("pk_report_number_counters")),
    )


def downgrade() -> None:
    op.drop_table("report_number_counters")
    counters = op.create_table(
        "report_number_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_report_number_counters")),
    )
    last: dict[date, int] = {}
    numbers = op.get_bind().execute(
        sa.text("SELECT number FROM reports WHERE number LIKE 'SSP-________-%'")
    )
    for (number,) in numbers:
        if (shape := _OLD_SHAPE.match(number)) is not None:
            stamp, value = shape.groups()
            day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
            last[day] = max(last.get(day, 0), int(value))
    if last:
        op.bulk_insert(
            counters, [{"day": day, "last_value": value} for day, value in sorted(last.items())]
        )
