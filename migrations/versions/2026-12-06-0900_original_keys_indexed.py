"""photos, uploads, pictures: a unique index on original_key

Revision ID: 5e0a7c3d9b21
Revises: 5e1f0a2b3c4d
Create Date: 2026-12-06 09:00:00+00:00

gc-photos looks each listed ``original/…`` key up in ``original_key`` alone, and keys of the
earlier layout in all three key columns at once: without an index on this one column either is
a scan of the whole table per batch of keys. Unique like the display and thumbnail keys (a key
names one photo's file; NULLs, photos without an original, do not collide). An index is made
in place on SQLite, where a new constraint would copy the table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e0a7c3d9b21"
down_revision: str | None = "5e1f0a2b3c4d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("photos", "uploads", "pictures")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(op.f(f"ix_{table}_original_key"), table, ["original_key"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(op.f(f"ix_{table}_original_key"), table_name=table)
