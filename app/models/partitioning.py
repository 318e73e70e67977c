"""Which tables PostgreSQL keeps in monthly partitions, and how the models say so.

A case and every row that hangs off it live in one month's partitions: ``reports`` is
range-partitioned on its id, a UUIDv7 that carries the moment the case was filed
(``app/models/ids.py``), and its photos, timeline, jobs, extensions, overdue marks, rating and
integration filing on ``report_id``, with the same bounds. A case's rows are then read from one
partition of each table, a list that pages back in time skips the months above its cursor,
and a month that has outlived its use is detached whole for archiving instead of deleted row
by row (``app/core/partitions.py``).

Keys: PostgreSQL holds a primary key or unique constraint of a partitioned table only if it
includes the partition key, so the child tables' keys are ``(id, report_id)`` and the
foreign keys that point at them carry the report's id too. Uniqueness that cannot include it
(a case number; a photo's storage keys) is built in (the number's county counter, the photo's
id in its keys) and checked per partition by a unique index on each (``PER_PARTITION``); on
SQLite, which keeps plain tables, it is the table's constraint as before.

Ledgers a person owns stay whole: ``points_entries`` (a courier's balance is the sum of all of
them; a third are not about a case) is not partitioned.

The outbox and the webhook deliveries are kept in daily partitions (China days) on PostgreSQL:
``outbox_events`` on ``created_at``, ``webhook_deliveries`` on its event's ``created_at``, so a
day's events and their deliveries go together when the retention period is over: the worker
drops the day's two tables instead of deleting their rows (app/integrations/retention.py).
Their keys there are ``(id, created_at)`` and ``(id, event_created_at)``; the models keep the
plain key SQLite has (the outbox's id counts up by itself there), and the migrations make the
partitioned shape (``DAY_TABLES``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Index, PrimaryKeyConstraint, UniqueConstraint

Unique = TypeVar("Unique", Index, UniqueConstraint)


@dataclass(frozen=True)
class PartitionedTable:
    name: str
    key: str  # the column the month bounds apply to: the case's id
    # Unique column sets checked on each partition (PostgreSQL), named (index name, columns).
    per_partition: tuple[tuple[str, tuple[str, ...]], ...] = ()


# In the order partitions are made (parents first) and the reverse of detaching.
CASE_TABLES: tuple[PartitionedTable, ...] = (
    PartitionedTable("reports", "id", (("number", ("number",)),)),
    PartitionedTable("report_events", "report_id"),
    PartitionedTable(
        "photos",
        "report_id",
        (
            ("display_key", ("display_key",)),
            ("thumbnail_key", ("thumbnail_key",)),
            ("original_key", ("original_key",)),
        ),
    ),
    PartitionedTable("jobs", "report_id"),
    PartitionedTable("job_extensions", "report_id"),
    PartitionedTable("overdue_marks", "report_id"),
    PartitionedTable("ratings", "report_id"),
    PartitionedTable("integration_filings", "report_id"),
)
CASE_TABLE_NAMES = frozenset(table.name for table in CASE_TABLES)
# The daily ones, events first: (table, the column the day bounds apply to).
DAY_TABLES: tuple[tuple[str, str], ...] = (
    ("outbox_events", "created_at"),
    ("webhook_deliveries", "event_created_at"),
)

# reports_p202612, photos_p202612, …; outbox_events_d20261206, …; <table>_default takes a row
# no month or day is made for.
_PARTITION_NAME = re.compile(
    r"^(?P<table>{})_(?:p(?P<month>\d{{6}})|d(?P<day>\d{{8}})|default)$".format(
        "|".join(sorted([*CASE_TABLE_NAMES, *(t for t, _ in DAY_TABLES)], key=len, reverse=True))
    )
)


def partition_name(table: str, year: int, month: int) -> str:
    return f"{table}_p{year:04d}{month:02d}"


def day_partition_name(table: str, year: int, month: int, day: int) -> str:
    return f"{table}_d{year:04d}{month:02d}{day:02d}"


def default_partition_name(table: str) -> str:
    return f"{table}_default"


def is_partition_name(name: str) -> bool:
    """A table of a month (attached, or detached and awaiting its archiving) or a default
    partition: made by ``app/core/partitions.py``, not by the models."""
    return _PARTITION_NAME.match(name) is not None


def partition_day(name: str) -> tuple[str, int, int, int] | None:
    """(table, year, month, day) of a day's partition name; None for any other name."""
    found = _PARTITION_NAME.match(name)
    if found is None or found["day"] is None:
        return None
    day = found["day"]
    return found["table"], int(day[:4]), int(day[4:6]), int(day[6:])


def partition_month(name: str) -> tuple[str, int, int] | None:
    """(table, year, month) of a month's partition name; None for any other name."""
    found = _PARTITION_NAME.match(name)
    if found is None or found["month"] is None:
        return None
    return found["table"], int(found["month"][:4]), int(found["month"][4:])


def case_row_key() -> PrimaryKeyConstraint:
    """The key of a row that hangs off a case: its id and its case's (the partition key),
    the id first, so that the id alone still finds the row through the key's index."""
    return PrimaryKeyConstraint("id", "report_id")


def per_partition(unique: Unique) -> Unique:
    """A uniqueness without the partition key: the table's on SQLite; on PostgreSQL a unique
    index on each partition (``CASE_TABLES``), which the partitioned parent does not show."""
    unique.info["per_partition"] = True
    return unique.ddl_if(dialect="sqlite")


def compared_with(dialect: str) -> Any:
    """The ``include_object`` of Alembic's comparison of the models with a database of
    ``dialect``: partitions are not tables of the models, and a per-partition uniqueness is
    not on a PostgreSQL parent."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table" and reflected and name is not None and is_partition_name(name):
            return False
        # PostgreSQL keeps, beside a foreign key onto a partitioned table, one onto each of its
        # partitions: the database's bookkeeping, not another key.
        if (
            type_ == "foreign_key_constraint"
            and reflected
            and is_partition_name(obj.referred_table.name)
        ):
            return False
        info = getattr(obj, "info", None) or {}
        return not (dialect == "postgresql" and info.get("per_partition"))

    return include
