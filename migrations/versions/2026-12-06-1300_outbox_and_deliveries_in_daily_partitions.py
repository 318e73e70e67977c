"""the outbox and webhook deliveries in daily partitions (PostgreSQL)

Revision ID: 9d5e6f7a8b92
Revises: 8c4d5e6f7a81
Create Date: 2026-12-06 13:00:00+00:00

A delivery carries its event's time (``event_created_at``) and names its event without a
foreign key; one delivery per webhook and event as before (the event's time completes the
unique key). On PostgreSQL ``outbox_events`` becomes range-partitioned by China day on
``created_at`` (key ``(id, created_at)``; its id sequence and its NOTIFY trigger carried over)
and ``webhook_deliveries`` on ``event_created_at`` (key ``(id, event_created_at)``), so the
retention pass drops a day's two tables instead of deleting their rows. The days of the rows
there are, today and the seven after it are made, and a default partition for each.
"""

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "9d5e6f7a8b92"
down_revision: str | None = "8c4d5e6f7a81"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHINA = ZoneInfo("Asia/Shanghai")
DAYS_AHEAD = 7
EVENT_FK = "fk_webhook_deliveries_event_id_outbox_events"
UNIQUE_BEFORE = ("uq_webhook_deliveries_webhook_id_event_id", ["webhook_id", "event_id"])
UNIQUE_AFTER = (
    "uq_webhook_deliveries_webhook_id_event_id_event_created_at",
    ["webhook_id", "event_id", "event_created_at"],
)
NOTIFY_TRIGGER = (
    "CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events"
    " FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_notify()"
)


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.add_column(
        "webhook_deliveries", sa.Column("event_created_at", sa.DateTime(timezone=True))
    )
    op.execute(
        "UPDATE webhook_deliveries SET event_created_at = (SELECT outbox_events.created_at"
        " FROM outbox_events WHERE outbox_events.id = webhook_deliveries.event_id)"
    )
    with op.batch_alter_table("webhook_deliveries", recreate="auto") as batch:
        batch.alter_column(
            "event_created_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch.drop_constraint(EVENT_FK, type_="foreignkey")
        batch.drop_constraint(UNIQUE_BEFORE[0], type_="unique")
        batch.create_unique_constraint(*UNIQUE_AFTER)
    if _is_postgresql():
        _partition()


def downgrade() -> None:
    if _is_postgresql():
        _unpartition()
    with op.batch_alter_table("webhook_deliveries", recreate="auto") as batch:
        batch.drop_constraint(UNIQUE_AFTER[0], type_="unique")
        batch.create_unique_constraint(*UNIQUE_BEFORE)
        batch.create_foreign_key(
            EVENT_FK, "outbox_events", ["event_id"], ["id"], ondelete="CASCADE"
        )
        batch.drop_column("event_created_at")


def _keys_and_indexes(table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The table's key, unique and foreign key constraints (name, definition) and its other
    indexes (name, CREATE statement)."""
    bind = op.get_bind()
    constraints = bind.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u', 'f')"
            " AND conparentid = 0 ORDER BY contype DESC, conname"
        ),
        {"t": table},
    )
    indexes = bind.execute(
        sa.text(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = CAST(:t AS regclass)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
            " ORDER BY i.relname"
        ),
        {"t": table},
    )
    return [(r[0], r[1]) for r in constraints], [(r[0], r[1]) for r in indexes]


def _remake(table: str, key: str | None, days: list[str] | None = None) -> None:
    """``table`` made anew, partitioned by ``key`` (or plain), with its rows, keys, indexes
    and foreign keys; its primary key with ``key`` in it (or without)."""
    constraints, indexes = _keys_and_indexes(table)
    op.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_old"')
    for name, _ in constraints:
        op.execute(f'ALTER TABLE "{table}_old" DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        op.execute(f'DROP INDEX "{name}"')
    partitioned = f" PARTITION BY RANGE ({key})" if key else ""
    op.execute(
        f'CREATE TABLE "{table}" (LIKE "{table}_old" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'
        f"{partitioned}"
    )
    for name, definition in constraints:
        if name == f"pk_{table}":
            definition = f"PRIMARY KEY (id, {key})" if key else "PRIMARY KEY (id)"
        op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for _, statement in indexes:
        op.execute(statement)
    for partition in days or []:
        suffix, bounds = partition.split(" ", 1)
        op.execute(f'CREATE TABLE "{table}_{suffix}" PARTITION OF "{table}" {bounds}')
    op.execute(f'INSERT INTO "{table}" SELECT * FROM "{table}_old"')
    op.execute(f'DROP TABLE "{table}_old"')


def _days() -> list[str]:
    """The partitions of the days of the outbox's rows (China time) through seven days ahead,
    and the default one: "<suffix> <bounds>" each."""
    earliest = op.get_bind().scalar(sa.text("SELECT min(created_at) FROM outbox_events"))
    today = datetime.now(CHINA).date()
    day = min(today, earliest.astimezone(CHINA).date()) if earliest is not None else today
    partitions = []
    while day <= today + timedelta(days=DAYS_AHEAD):
        start = datetime.combine(day, time(), tzinfo=CHINA)
        end = start + timedelta(days=1)
        partitions.append(
            f"d{day:%Y%m%d} FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
        day += timedelta(days=1)
    return [*partitions, "default DEFAULT"]


def _partition() -> None:
    # The id's sequence belongs to the table's column: it must outlive the old table.
    op.execute("ALTER SEQUENCE outbox_events_id_seq OWNED BY NONE")
    days = _days()
    _remake("webhook_deliveries", "event_created_at", days)
    _remake("outbox_events", "created_at", days)
    op.execute("ALTER SEQUENCE outbox_events_id_seq OWNED BY outbox_events.id")
    op.execute(NOTIFY_TRIGGER)


def _unpartition() -> None:
    op.execute("ALTER SEQUENCE outbox_events_id_seq OWNED BY NONE")
    _remake("webhook_deliveries", None)
    _remake("outbox_events", None)
    op.execute("ALTER SEQUENCE outbox_events_id_seq OWNED BY outbox_events.id")
    op.execute(NOTIFY_TRIGGER)
