"""cases in monthly partitions (PostgreSQL); a case's rows keyed with its id

Revision ID: 8c4d5e6f7a81
Revises: 7a2b3c4d5e6f
Create Date: 2026-12-06 12:00:00+00:00

On PostgreSQL ``reports`` becomes range-partitioned by month (China time) on its id, a UUIDv7
of the moment of filing, and the tables that hang off a case on ``report_id`` with the same
bounds; each table has a default partition for a row no month was made for. A case whose id
does not carry its filing moment (made before ids did) gets one that does, and every row that
names it follows. On both databases the child tables' keys become ``(id, report_id)``,
``job_extensions`` gains its case's id, the photo's event is held with its case, and the rows
that outlive a case's month (the points ledger, the outbox, a later duplicate) name the case
without a foreign key. See app/models/partitioning.py.

The months of the existing cases are made, and this month and the two after it; the worker
makes later ones ahead (app/core/partitions.py). Each table is copied once: fine for the
databases of today, which hold no deployment's data yet.
"""

import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "8c4d5e6f7a81"
down_revision: str | None = "7a2b3c4d5e6f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHINA = ZoneInfo("Asia/Shanghai")
MONTHS_AHEAD = 2
# (table, partition key, per-partition uniqueness: suffix, columns, the parent's name for it
# before, and whether it was a constraint or a unique index)
TABLES: tuple[tuple[str, str, tuple[tuple[str, str, str, bool], ...]], ...] = (
    ("reports", "id", (("number", "number", "uq_reports_number", True),)),
    ("report_events", "report_id", ()),
    (
        "photos",
        "report_id",
        (
            ("display_key", "display_key", "uq_photos_display_key", True),
            ("thumbnail_key", "thumbnail_key", "uq_photos_thumbnail_key", True),
            ("original_key", "original_key", "ix_photos_original_key", False),
        ),
    ),
    ("jobs", "report_id", ()),
    ("job_extensions", "report_id", ()),
    ("overdue_marks", "report_id", ()),
    ("ratings", "report_id", ()),
    ("integration_filings", "report_id", ()),
)
NAMES = [table for table, _, _ in TABLES]
KEYED_WITH_CASE = ("report_events", "photos", "jobs", "job_extensions", "overdue_marks")
# Foreign keys onto a case from rows that outlive its month: gone (name, table, column, action).
LET_GO = (
    ("fk_outbox_events_report_id_reports", "outbox_events", "report_id", "SET NULL"),
    ("fk_points_entries_report_id_reports", "points_entries", "report_id", "CASCADE"),
    ("fk_reports_duplicate_of_id_reports", "reports", "duplicate_of_id", "SET NULL"),
)
JOB_OF_EVENT = ("fk_outbox_events_job_id_jobs", "outbox_events", "job_id")
# Foreign keys that carry the case's id now: (name, table, column, parent, before's action,
# after's action)
WITH_CASE = (
    ("fk_photos_event_id_report_events", "photos", "event_id", "report_events", "SET NULL", None),
    ("fk_job_extensions_job_id_jobs", "job_extensions", "job_id", "jobs", "CASCADE", "CASCADE"),
)
# The id's first 48 bits are the Unix time in milliseconds (a UUIDv7).
ID_MS = "('x' || substr(replace({}::text, '-', ''), 1, 12))::bit(48)::bigint"
FILED_MS = "floor(extract(epoch FROM {}) * 1000)::bigint"
ID_CHECK_NAME = "ck_reports_id_is_filing_moment"
ID_CHECK = f"{ID_MS.format('id')} = {FILED_MS.format('created_at')}"


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    _job_extensions_get_their_case()
    if _is_postgresql():
        _partition_on_postgresql()
    else:
        _rekey_on_sqlite()


def downgrade() -> None:
    if _is_postgresql():
        _unpartition_on_postgresql()
    else:
        _unkey_on_sqlite()
    with op.batch_alter_table("job_extensions") as batch:
        batch.drop_column("report_id")


def _job_extensions_get_their_case() -> None:
    op.add_column("job_extensions", sa.Column("report_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE job_extensions SET report_id ="
        " (SELECT jobs.report_id FROM jobs WHERE jobs.id = job_extensions.job_id)"
    )
    if _is_postgresql():
        op.execute("ALTER TABLE job_extensions ALTER COLUMN report_id SET NOT NULL")


# SQLite: plain tables; the keys and foreign keys change by copying each table (foreign keys
# are off while migrating: app/core/migrations.py).


def _rekey_on_sqlite() -> None:
    for table in KEYED_WITH_CASE:
        with op.batch_alter_table(table, recreate="always") as batch:
            if table == "job_extensions":
                batch.alter_column("report_id", existing_type=sa.Uuid(), nullable=False)
            for name, owner, column, parent, _, after in WITH_CASE:
                if owner == table:
                    batch.drop_constraint(name, type_="foreignkey")
                    batch.create_foreign_key(
                        name, parent, [column, "report_id"], ["id", "report_id"], ondelete=after
                    )
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", ["id", "report_id"])
    for owner in ("outbox_events", "points_entries", "reports"):
        with op.batch_alter_table(owner, recreate="always") as batch:
            for name, table, _, _ in (*LET_GO, (*JOB_OF_EVENT, None)):
                if table == owner:
                    batch.drop_constraint(name, type_="foreignkey")


def _unkey_on_sqlite() -> None:
    for owner in ("outbox_events", "points_entries", "reports"):
        with op.batch_alter_table(owner, recreate="always") as batch:
            for name, table, column, action in LET_GO:
                if table == owner:
                    batch.create_foreign_key(name, "reports", [column], ["id"], ondelete=action)
            if owner == JOB_OF_EVENT[1]:
                batch.create_foreign_key(
                    JOB_OF_EVENT[0], "jobs", [JOB_OF_EVENT[2]], ["id"], ondelete="SET NULL"
                )
    for table in reversed(KEYED_WITH_CASE):
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", ["id"])
            for name, owner, column, parent, before, _ in WITH_CASE:
                if owner == table:
                    batch.drop_constraint(name, type_="foreignkey")
                    batch.create_foreign_key(name, parent, [column], ["id"], ondelete=before)


# PostgreSQL: each table is made anew, partitioned (or plain again), and its rows copied over.


def _foreign_keys_touching(names: list[str]) -> list[tuple[str, str, str]]:
    """(name, table, definition) of every foreign key from or onto the tables ``names``."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f' AND conparentid = 0"
            " AND (conrelid::regclass::text = ANY(:names)"
            " OR confrelid::regclass::text = ANY(:names))"
            " ORDER BY conname"
        ),
        {"names": names},
    )
    return [(row[0], row[1], row[2]) for row in rows]


def _drop_foreign_keys(keys: list[tuple[str, str, str]]) -> None:
    for name, table, _ in keys:
        op.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')


def _add_foreign_keys(keys: list[tuple[str, str, str]]) -> None:
    for name, table, definition in keys:
        op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


def _keys_and_indexes(table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The primary key and unique constraints of ``table`` (name, definition), and its other
    indexes (name, CREATE statement)."""
    bind = op.get_bind()
    constraints = bind.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u') ORDER BY conname"
        ),
        {"t": table},
    )
    indexes = bind.execute(
        sa.text(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = CAST(:t AS regclass)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
            " ORDER BY i.relname"
        ),
        {"t": table},
    )
    return [(r[0], r[1]) for r in constraints], [(r[0], r[1]) for r in indexes]


# How PostgreSQL gives back a partial index's "status IN (…)": written again as it is, the
# predicate would be stored in another (equivalent) form than the models' indexes have.
ANY_OF = re.compile(
    r"\(\((?P<column>\w+)\)::text = ANY \(\(ARRAY\[(?P<values>[^\]]*)\]\)::text\[\]\)\)"
)


def _as_the_models_write_it(statement: str) -> str:
    def in_list(found: re.Match[str]) -> str:
        values = re.findall(r"'(\w+)'::character varying", found["values"])
        return f"({found['column']} IN ({', '.join(repr(value) for value in values)}))"

    return ANY_OF.sub(in_list, statement)


def _remake(table: str, partition_key: str | None) -> tuple[list[tuple[str, str]], list[str]]:
    """Make ``table`` anew (partitioned on ``partition_key``, or plain) with the old one's
    columns, defaults and checks; the old one is left as ``<table>_old``, stripped of its keys
    and indexes, which are returned to be made on the new one."""
    constraints, indexes = _keys_and_indexes(table)
    op.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_old"')
    for name, _ in constraints:
        op.execute(f'ALTER TABLE "{table}_old" DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        op.execute(f'DROP INDEX "{name}"')
    partitioned = f" PARTITION BY RANGE ({partition_key})" if partition_key else ""
    op.execute(
        f'CREATE TABLE "{table}" (LIKE "{table}_old" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'
        f"{partitioned}"
    )
    return constraints, [_as_the_models_write_it(statement) for _, statement in indexes]


def _copy_rows(table: str) -> None:
    op.execute(f'INSERT INTO "{table}" SELECT * FROM "{table}_old"')
    op.execute(f'DROP TABLE "{table}_old"')


def _month_bound(index: int) -> str:
    """The least id of a month (its index: year * 12 + month - 1), China time."""
    start = datetime(index // 12, index % 12 + 1, 1, tzinfo=CHINA)
    hexed = f"{int(start.timestamp() * 1000):012x}"
    return f"{hexed[:8]}-{hexed[8:12]}-0000-0000-000000000000"


def _months() -> range:
    """The months (indexes) of the cases there are, through two months ahead."""
    earliest = op.get_bind().scalar(sa.text(f"SELECT min({ID_MS.format('id')}) FROM reports"))
    now = datetime.now(CHINA)
    first = now if earliest is None else min(now, datetime.fromtimestamp(earliest / 1000, CHINA))
    return range(first.year * 12 + first.month - 1, now.year * 12 + now.month + MONTHS_AHEAD)


def _make_partitions(
    table: str, months: range, uniques: tuple[tuple[str, str, str, bool], ...]
) -> None:
    partitions = [
        (
            f"{table}_p{index // 12:04d}{index % 12 + 1:02d}",
            f"FOR VALUES FROM ('{_month_bound(index)}') TO ('{_month_bound(index + 1)}')",
        )
        for index in months
    ]
    partitions.append((f"{table}_default", "DEFAULT"))
    for name, bounds in partitions:
        op.execute(f'CREATE TABLE "{name}" PARTITION OF "{table}" {bounds}')
        for suffix, column, _, _ in uniques:
            op.execute(f'CREATE UNIQUE INDEX "{name}_{suffix}" ON "{name}" ("{column}")')


def _rekey_cases_whose_id_is_not_their_filing() -> None:
    """Cases made before ids carried the moment of filing get one that does (the rest of the
    old id kept as its random part), and the rows naming them follow."""
    op.execute(
        "CREATE TEMPORARY TABLE case_new_ids ON COMMIT DROP AS"
        " SELECT id AS old_id, (lpad(to_hex(" + FILED_MS.format("created_at") + "), 12, '0')"
        " || '7' || substr(md5(id::text), 1, 3) || '8' || substr(md5(id::text), 4, 15))::uuid"
        f" AS new_id FROM reports WHERE NOT ({ID_CHECK})"
    )
    op.execute("UPDATE reports SET id = n.new_id FROM case_new_ids n WHERE reports.id = n.old_id")
    op.execute(
        "UPDATE reports SET duplicate_of_id = n.new_id FROM case_new_ids n"
        " WHERE reports.duplicate_of_id = n.old_id"
    )
    for table in (*NAMES[1:], "outbox_events", "points_entries"):
        op.execute(
            f'UPDATE "{table}" SET report_id = n.new_id FROM case_new_ids n'
            f' WHERE "{table}".report_id = n.old_id'
        )


def _with_case(keys: list[tuple[str, str, str]], *, after: bool) -> list[tuple[str, str, str]]:
    """The foreign keys to make again: the ones let go left out (upgrade) or put back
    (downgrade), those that carry the case's id in the shape wanted."""
    gone = {name for name, *_ in LET_GO} | {JOB_OF_EVENT[0]}
    changed = {
        name: (table, column, parent, before, later)
        for name, table, column, parent, before, later in WITH_CASE
    }
    kept = []
    for name, table, definition in keys:
        if name in gone:
            continue
        if name in changed:
            _, column, parent, before, later = changed[name]
            if after:
                definition = f"FOREIGN KEY ({column}, report_id) REFERENCES {parent}(id, report_id)"
                definition += f" ON DELETE {later}" if later else ""
            else:
                definition = f"FOREIGN KEY ({column}) REFERENCES {parent}(id) ON DELETE {before}"
        kept.append((name, table, definition))
    if not after:
        kept += [
            (name, table, f"FOREIGN KEY ({column}) REFERENCES reports(id) ON DELETE {action}")
            for name, table, column, action in LET_GO
        ]
        kept.append(
            (
                JOB_OF_EVENT[0],
                JOB_OF_EVENT[1],
                "FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE SET NULL",
            )
        )
    return kept


def _partition_on_postgresql() -> None:
    keys = _foreign_keys_touching(NAMES)
    _drop_foreign_keys(keys)
    _rekey_cases_whose_id_is_not_their_filing()
    months = _months()
    for table, key, uniques in TABLES:
        constraints, indexes = _remake(table, key)
        per_partition = {before for _, _, before, _ in uniques}
        for name, definition in constraints:
            if name == f"pk_{table}" and table in KEYED_WITH_CASE:
                definition = "PRIMARY KEY (id, report_id)"
            if name not in per_partition:
                op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for statement in indexes:
            if not any(f"INDEX {before} " in statement for before in per_partition):
                op.execute(statement)
        if table == "reports":
            op.execute(f"ALTER TABLE reports ADD CONSTRAINT {ID_CHECK_NAME} CHECK ({ID_CHECK})")
        _make_partitions(table, months, uniques)
        _copy_rows(table)
    _add_foreign_keys(_with_case(keys, after=True))


def _unpartition_on_postgresql() -> None:
    keys = _foreign_keys_touching(NAMES)
    _drop_foreign_keys(keys)
    for table, _, uniques in TABLES:
        constraints, indexes = _remake(table, None)
        if table == "reports":
            op.execute(f"ALTER TABLE reports DROP CONSTRAINT {ID_CHECK_NAME}")
        for name, definition in constraints:
            if name == f"pk_{table}" and table in KEYED_WITH_CASE:
                definition = "PRIMARY KEY (id)"
            op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for _, column, before, is_constraint in uniques:
            if is_constraint:
                op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{before}" UNIQUE ({column})')
            else:
                op.execute(f'CREATE UNIQUE INDEX "{before}" ON "{table}" ({column})')
        for statement in indexes:
            op.execute(statement)
        _copy_rows(table)  # the partitions go with the partitioned table
    _add_foreign_keys(_with_case(keys, after=False))
