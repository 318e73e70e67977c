"""outbox events notify live-event brokers by trigger

Revision ID: 5c1e2a9f7d30
Revises: a76484602c99
Create Date: 2026-11-29 21:40:00+00:00

A statement-level trigger on ``outbox_events`` calls ``pg_notify('ssp_outbox', '')``, so the
writer of an event no longer sends a separate statement for it. PostgreSQL delivers the
notification at commit (never on rollback) and folds repeats within a transaction into one.
SQLite has no LISTEN/NOTIFY; the brokers poll there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '5c1e2a9f7d30'
down_revision: str | None = 'a76484602c99'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        """
        CREATE FUNCTION outbox_events_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('ssp_outbox', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER outbox_events_notify
        AFTER INSERT ON outbox_events
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_notify()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP TRIGGER outbox_events_notify ON outbox_events')
    op.execute('DROP FUNCTION outbox_events_notify()')
