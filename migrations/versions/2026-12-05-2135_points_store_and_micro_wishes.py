"""the points store (积分超市), micro-wishes (微心愿) and company managers

Revision ID: dc9006ff3d06
Revises: c2e4a6b8d0f1
Create Date: 2026-12-05 21:35:00+00:00

``rewards`` are the items a community or a courier company offers for points; ``redemptions``
buy them (the points leave as a ``redeemed`` ledger row, linked by ``points_entries.
redemption_id``; a cancellation refunds them the same way). ``wishes`` are residents' micro-
wishes; a fulfilled one pays its volunteer (``points_entries.wish_id``). ``pictures`` keep the
photos of rewards and wishes. A new role, ``company_manager``, is held at a courier company
(``role_assignments.company_id``): it runs that company's shelf; another, ``volunteer``, is held
at a community: its registered volunteers, who may claim wishes there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "dc9006ff3d06"
down_revision: str | None = "c2e4a6b8d0f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = (
    "admin",
    "supervisor",
    "viewer",
    "community_staff",
    "grid_worker",
    "unit_staff",
    "courier",
    "reporter",
)
ROLES_AFTER = (*ROLES_BEFORE, "company_manager", "volunteer")
SCOPES_BEFORE = ("region_id", "community_id", "unit_id", "branch_id")
SCOPES_AFTER = (*SCOPES_BEFORE, "company_id")


def _one_of(values: Sequence[str]) -> str:
    return "role IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _at_most_one(columns: Sequence[str]) -> str:
    terms = " + ".join(f"CASE WHEN {column} IS NULL THEN 0 ELSE 1 END" for column in columns)
    return f"({terms}) <= 1"


def _role_checks(batch_op: BatchOperations, roles: Sequence[str], scopes: Sequence[str]) -> None:
    # SQLite rebuilds role_assignments to change a CHECK; no table refers to its rows.
    batch_op.drop_constraint(op.f("ck_role_assignments_role"), type_="check")
    batch_op.drop_constraint(op.f("ck_role_assignments_one_scope"), type_="check")
    batch_op.create_check_constraint(op.f("ck_role_assignments_role"), _one_of(roles))
    batch_op.create_check_constraint(op.f("ck_role_assignments_one_scope"), _at_most_one(scopes))


def upgrade() -> None:
    op.create_table(
        "pictures",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("uploader_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("display_key", sa.String(length=200), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=200), nullable=False),
        sa.Column("original_key", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("thumbnail_width", sa.Integer(), nullable=False),
        sa.Column("thumbnail_height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("original_filename", sa.String(length=200), nullable=True),
        sa.Column("original_format", sa.String(length=20), nullable=False),
        sa.Column("exif_lat", sa.Float(), nullable=True),
        sa.Column("exif_lng", sa.Float(), nullable=True),
        sa.Column("exif_taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploader_id"],
            ["users.id"],
            name=op.f("fk_pictures_uploader_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pictures")),
        sa.UniqueConstraint("display_key", name=op.f("uq_pictures_display_key")),
        sa.UniqueConstraint("thumbnail_key", name=op.f("uq_pictures_thumbnail_key")),
    )
    op.create_table(
        "rewards",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("points_price", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("monthly_limit", sa.Integer(), nullable=True),
        sa.Column("available_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("available_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("community_id", sa.Uuid(), nullable=True),
        sa.Column("company_id", sa.Uuid(), nullable=True),
        sa.Column("picture_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(CASE WHEN community_id IS NULL THEN 0 ELSE 1 END + CASE WHEN company_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_rewards_one_shop"),
        ),
        sa.CheckConstraint(
            "monthly_limit IS NULL OR monthly_limit > 0",
            name=op.f("ck_rewards_monthly_limit_positive"),
        ),
        sa.CheckConstraint("points_price > 0", name=op.f("ck_rewards_price_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_rewards_stock_not_negative")),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_rewards_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["courier_companies.id"],
            name=op.f("fk_rewards_company_id_courier_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_rewards_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["picture_id"],
            ["pictures.id"],
            name=op.f("fk_rewards_picture_id_pictures"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rewards_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rewards_company_id"), ["company_id"], unique=False)

    op.create_table(
        "wishes",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("needed_by", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "published",
                "declined",
                "claimed",
                "fulfilled",
                "confirmed",
                "withdrawn",
                name="wish_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("resident_id", sa.Uuid(), nullable=True),
        sa.Column("posted_by_id", sa.Uuid(), nullable=True),
        sa.Column("resident_name", sa.String(length=100), nullable=True),
        sa.Column("resident_phone", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("picture_id", sa.Uuid(), nullable=True),
        sa.Column("reviewed_by_id", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.String(length=500), nullable=True),
        sa.Column("claimant_id", sa.Uuid(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilment_note", sa.String(length=1000), nullable=True),
        sa.Column("fulfilment_picture_id", sa.Uuid(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Uuid(), nullable=True),
        sa.Column("thanks_note", sa.String(length=500), nullable=True),
        sa.Column("reopen_reason", sa.String(length=500), nullable=True),
        sa.Column("withdraw_reason", sa.String(length=500), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claimant_id"],
            ["users.id"],
            name=op.f("fk_wishes_claimant_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_wishes_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["users.id"],
            name=op.f("fk_wishes_confirmed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["fulfilment_picture_id"],
            ["pictures.id"],
            name=op.f("fk_wishes_fulfilment_picture_id_pictures"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["picture_id"],
            ["pictures.id"],
            name=op.f("fk_wishes_picture_id_pictures"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["posted_by_id"],
            ["users.id"],
            name=op.f("fk_wishes_posted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["users.id"],
            name=op.f("fk_wishes_resident_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["users.id"],
            name=op.f("fk_wishes_reviewed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wishes")),
    )
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_wishes_claimant_created", ["claimant_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_wishes_community_status_created",
            ["community_id", "status", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_wishes_resident_created", ["resident_id", "created_at"], unique=False
        )

    op.create_table(
        "redemptions",
        sa.Column("reward_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "handed_over",
                "cancelled",
                name="redemption_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_over_by_id", sa.Uuid(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by_id", sa.Uuid(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cancelled_by_id"],
            ["users.id"],
            name=op.f("fk_redemptions_cancelled_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handed_over_by_id"],
            ["users.id"],
            name=op.f("fk_redemptions_handed_over_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"],
            ["rewards.id"],
            name=op.f("fk_redemptions_reward_id_rewards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_redemptions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint("code", name=op.f("uq_redemptions_code")),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_redemptions_reward_status", ["reward_id", "status"], unique=False)
        batch_op.create_index(
            "ix_redemptions_user_reward_created",
            ["user_id", "reward_id", "created_at"],
            unique=False,
        )

    with op.batch_alter_table("points_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wish_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("redemption_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            "uq_points_entries_redemption_rule", ["redemption_id", "rule"], unique=True
        )
        batch_op.create_index("uq_points_entries_wish_rule", ["wish_id", "rule"], unique=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_points_entries_wish_id_wishes"),
            "wishes",
            ["wish_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_points_entries_redemption_id_redemptions"),
            "redemptions",
            ["redemption_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_role_assignments_company_id"), ["company_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_role_assignments_company_id_courier_companies"),
            "courier_companies",
            ["company_id"],
            ["id"],
            ondelete="CASCADE",
        )
        _role_checks(batch_op, ROLES_AFTER, SCOPES_AFTER)


def downgrade() -> None:
    # The rules this revision brought are unknown to the code before it (and would count as
    # earnings there): the purchases, refunds and wish awards leave the ledger with it.
    op.execute(
        "DELETE FROM points_entries"
        " WHERE rule IN ('redeemed', 'redemption_refunded', 'wish_fulfilled')"
    )
    op.execute("DELETE FROM role_assignments WHERE role IN ('company_manager', 'volunteer')")
    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        _role_checks(batch_op, ROLES_BEFORE, SCOPES_BEFORE)
        batch_op.drop_constraint(
            batch_op.f("fk_role_assignments_company_id_courier_companies"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_role_assignments_company_id"))
        batch_op.drop_column("company_id")

    with op.batch_alter_table("points_entries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_points_entries_redemption_id_redemptions"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_points_entries_wish_id_wishes"), type_="foreignkey")
        batch_op.drop_index("uq_points_entries_wish_rule")
        batch_op.drop_index("uq_points_entries_redemption_rule")
        batch_op.drop_column("redemption_id")
        batch_op.drop_column("wish_id")

    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_redemptions_user_reward_created")
        batch_op.drop_index("ix_redemptions_reward_status")

    op.drop_table("redemptions")
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.drop_index("ix_wishes_resident_created")
        batch_op.drop_index("ix_wishes_community_status_created")
        batch_op.drop_index("ix_wishes_claimant_created")

    op.drop_table("wishes")
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rewards_company_id"))
        batch_op.drop_index(batch_op.f("ix_rewards_community_id"))

    op.drop_table("rewards")
    op.drop_table("pictures")
