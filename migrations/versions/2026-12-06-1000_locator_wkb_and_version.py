"""locator: boundaries as WKB beside the GeoJSON, and a version row instead of a fingerprint

Revision ID: 7a2b3c4d5e6f
Revises: 5e0a7c3d9b21
Create Date: 2026-12-06 01:00:00+00:00

``communities.boundary_wkb`` and ``grids.boundary_wkb`` hold each boundary as WKB, written with
the GeoJSON (which stays the API's form): an API process builds its locator from them without
parsing JSON. The upgrade fills them for the rows there are; a boundary that does not parse
(written around the API) is left without, and the locator parses its JSON as before.

``locator_versions`` (one row) is raised with every change of a community or grid the locator
cares about, and ``locator_changes`` keeps the version at which each community last changed,
so that a process reads again only the changed ones. The indexes on ``updated_at`` served only
the fingerprint the processes used to poll (count and latest ``updated_at`` of both tables).
Columns are added and dropped in place (no table is copied on SQLite).
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from shapely.geometry import shape

revision: str = "7a2b3c4d5e6f"
down_revision: str | None = "5e0a7c3d9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def _fill_wkb(table_name: str) -> None:
    bind = op.get_bind()
    table = sa.table(
        table_name,
        sa.column("id", sa.Uuid()),
        sa.column("boundary", sa.JSON(none_as_null=True)),
        sa.column("boundary_wkb", sa.LargeBinary()),
    )
    rows = bind.execute(
        sa.select(table.c.id, table.c.boundary).where(table.c.boundary.is_not(None))
    ).all()
    updates: list[dict[str, Any]] = []
    for row_id, boundary in rows:
        try:
            geometry = shape(boundary)
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
        if geometry.is_empty or not geometry.is_valid:
            continue
        updates.append({"row_id": row_id, "wkb": geometry.wkb})
    statement = (
        table.update()
        .where(table.c.id == sa.bindparam("row_id"))
        .values(boundary_wkb=sa.bindparam("wkb"))
    )
    for start in range(0, len(updates), _BATCH):
        bind.execute(statement, updates[start : start + _BATCH])


def upgrade() -> None:
    op.add_column("communities", sa.Column("boundary_wkb", sa.LargeBinary(), nullable=True))
    op.add_column("grids", sa.Column("boundary_wkb", sa.LargeBinary(), nullable=True))
    _fill_wkb("communities")
    _fill_wkb("grids")
    op.drop_index("ix_communities_updated_at", table_name="communities")
    op.drop_index("ix_grids_updated_at", table_name="grids")
    versions = op.create_table(
        "locator_versions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locator_versions")),
    )
    op.bulk_insert(versions, [{"id": 1, "version": 0}])
    op.create_table(
        "locator_changes",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_locator_changes")),
    )
    op.create_index(
        op.f("ix_locator_changes_version"), "locator_changes", ["version"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_locator_changes_version"), table_name="locator_changes")
    op.drop_table("locator_changes")
    op.drop_table("locator_versions")
    op.create_index("ix_grids_updated_at", "grids", ["updated_at"], unique=False)
    op.create_index("ix_communities_updated_at", "communities", ["updated_at"], unique=False)
    op.drop_column("grids", "boundary_wkb")
    op.drop_column("communities", "boundary_wkb")
