"""photos: uploads waiting for the report that claims them

Revision ID: b7d1f3a9c5e2
Revises: a4c8e2f6b1d3
Create Date: 2026-12-05 05:00:00+00:00

``uploads`` keeps each photo sent ahead of its report (``POST /api/v1/uploads``) until a report,
job completion or check claims it by id, or it expires and the worker removes it with its files.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d1f3a9c5e2"
down_revision: str | None = "a4c8e2f6b1d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("uploader_id", sa.Uuid(), nullable=False),
        sa.Column("display_key", sa.String(length=200), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=200), nullable=False),
        sa.Column("original_key", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("thumbnail_width", sa.Integer(), nullable=False),
        sa.Column("thumbnail_height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_filename", sa.String(length=200), nullable=True),
        sa.Column("original_format", sa.String(length=20), nullable=False),
        sa.Column("exif_lat", sa.Float(), nullable=True),
        sa.Column("exif_lng", sa.Float(), nullable=True),
        sa.Column("exif_taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploader_id"],
            ["users.id"],
            name=op.f("fk_uploads_uploader_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        sa.UniqueConstraint("display_key", name=op.f("uq_uploads_display_key")),
        sa.UniqueConstraint("thumbnail_key", name=op.f("uq_uploads_thumbnail_key")),
    )
    op.create_index("ix_uploads_expires", "uploads", ["expires_at"])
    op.create_index("ix_uploads_uploader_expires", "uploads", ["uploader_id", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_uploads_uploader_expires", table_name="uploads")
    op.drop_index("ix_uploads_expires", table_name="uploads")
    op.drop_table("uploads")
