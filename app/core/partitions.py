"""The case tables' month partitions on PostgreSQL (app/models/partitioning.py): made ahead of
time by the worker, detached for archiving by ``python -m app partitions --detach-before``.

A month runs from its first midnight in China to the next month's; its bounds are the least
UUIDv7 of those two moments, the same for every case table, so a case and its rows share a
month. A row filed in a month nobody made a partition for (the worker stopped for months) goes
to the table's default partition, and that month is then left to it: a partition cannot be
made over rows the default one already holds. The worker makes this month and
``partition_months_ahead`` after it, so that does not happen while it runs.

Making a partition locks its table for a moment; the statements wait at most ``LOCK_TIMEOUT``
for a long read to finish and otherwise give up until the next pass, instead of holding up
every request queued behind them. One process at a time (an advisory lock).

Detaching takes a month's tables out of their parents, the rows hanging off a case first, so
that no foreign key is left pointing into what is detached; the detached tables keep their
names (``reports_p202501`` …) and rows, stripped of their foreign keys onto the case tables, to
be dumped and dropped by the operator (README, "Partitions"). Attaching a month again (a
detached one, or one restored from its dump) puts the tables back in the same order reversed,
the cases first; PostgreSQL checks every row against the month's bounds and the foreign keys it
gives the table back."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.ids import id_floor
from app.models.partitioning import (
    CASE_TABLES,
    default_partition_name,
    partition_month,
    partition_name,
)

log = logging.getLogger("app.partitions")
CASE_TABLE_NAMES_IN_ORDER = [table.name for table in CASE_TABLES]

CHINA = ZoneInfo("Asia/Shanghai")
LOCK_TIMEOUT = "2s"
# Any constant shared by every process of the deployment ("ssp-part" in ASCII).
ADVISORY_LOCK_KEY = 0x7373702D70617274


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in China time."""

    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime) -> Month:
        local = moment.astimezone(CHINA)
        return cls(local.year, local.month)

    @classmethod
    def parse(cls, value: str) -> Month:
        """``YYYY-MM``; ValueError for anything else."""
        year, _, month = value.partition("-")
        if len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
            raise ValueError(f"not a month (YYYY-MM): {value!r}")
        found = cls(int(year), int(month))
        if not 1 <= found.month <= 12:
            raise ValueError(f"not a month (YYYY-MM): {value!r}")
        return found

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=CHINA)

    def bounds(self) -> tuple[str, str]:
        """The least id of this month and of the next: the partition's FROM and TO."""
        return str(id_floor(self.start())), str(id_floor(self.plus(1).start()))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


async def is_partitioned(session: AsyncSession, table: str = "reports") -> bool:
    """Whether ``table`` is a partitioned table here (PostgreSQL, migrated)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    kind: str | None = await session.scalar(
        text("SELECT relkind::text FROM pg_class WHERE oid = to_regclass(:table)"),
        {"table": table},
    )
    return kind == "p"


async def partition_children(
    session: AsyncSession, parents: Sequence[str]
) -> dict[str, list[str]] | None:
    """The partitions attached to each of ``parents`` (names), in one catalogue read; None
    where they are not partitioned tables here (SQLite, or not migrated)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    rows = (
        await session.execute(
            text(
                "SELECT p.relname, c.relname FROM pg_class p"
                " LEFT JOIN pg_inherits i ON i.inhparent = p.oid"
                " LEFT JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE p.relname = ANY(:parents) AND p.relkind = 'p'"
            ),
            {"parents": list(parents)},
        )
    ).all()
    if not rows:
        return None
    found: dict[str, list[str]] = {parent: [] for parent in parents}
    for parent, child in rows:
        if child is not None:
            found[parent].append(child)
    return found


def _months(children: dict[str, list[str]] | None) -> dict[str, list[Month]]:
    found: dict[str, list[Month]] = {table.name: [] for table in CASE_TABLES}
    for name in (child for names in (children or {}).values() for child in names):
        parsed = partition_month(name)
        if parsed is not None:
            table, year, month = parsed
            found[table].append(Month(year, month))
    return {table: sorted(months) for table, months in found.items()}


async def attached_months(session: AsyncSession) -> dict[str, list[Month]]:
    """Each case table's attached month partitions, oldest first (empty on SQLite)."""
    return _months(await partition_children(session, CASE_TABLE_NAMES_IN_ORDER))


LOCK_NOT_AVAILABLE = "55P03"


def lock_timed_out(error: DBAPIError) -> bool:
    """Whether a statement gave up waiting for a table's lock (``LOCK_TIMEOUT``)."""
    return getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE


async def take_the_lock(session: AsyncSession) -> bool:
    """This transaction's turn at making or dropping partitions (False: another process has
    it), with statements waiting at most ``LOCK_TIMEOUT`` for a table's lock."""
    await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    held = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
    )
    return bool(held)


async def _default_holds(session: AsyncSession, month: Month) -> bool:
    low, high = month.bounds()
    found = await session.scalar(
        text(
            f'SELECT 1 FROM "{default_partition_name("reports")}"'
            " WHERE id >= CAST(:low AS uuid) AND id < CAST(:high AS uuid) LIMIT 1"
        ),
        {"low": low, "high": high},
    )
    return found is not None


async def make_month(session: AsyncSession, month: Month) -> list[str]:
    """The partitions of ``month`` that were missing, made (names); none if the default
    partition already holds cases of that month."""
    if await _default_holds(session, month):
        log.warning(
            "cases of %s sit in the default partitions; no partition is made for that month",
            month,
        )
        return []
    low, high = month.bounds()
    made = []
    for table in CASE_TABLES:
        name = partition_name(table.name, month.year, month.month)
        if await session.scalar(text("SELECT to_regclass(:name)"), {"name": name}) is not None:
            continue
        await session.execute(
            text(
                f'CREATE TABLE "{name}" PARTITION OF "{table.name}"'
                f" FOR VALUES FROM ('{low}') TO ('{high}')"
            )
        )
        for suffix, columns in table.per_partition:
            listed = ", ".join(f'"{column}"' for column in columns)
            await session.execute(
                text(f'CREATE UNIQUE INDEX "{name}_{suffix}" ON "{name}" ({listed})')
            )
        made.append(name)
    return made


async def make_ahead(session: AsyncSession, now: datetime, months_ahead: int) -> list[str]:
    """This month's partitions and those of the ``months_ahead`` months after it, where
    missing (names made). Commits nothing: the caller's transaction holds the lock."""
    children = await partition_children(session, CASE_TABLE_NAMES_IN_ORDER)
    if children is None:
        return []
    wanted = [Month.of(now).plus(i) for i in range(months_ahead + 1)]
    attached = _months(children)
    missing = [m for m in wanted if any(m not in months for months in attached.values())]
    if not missing or not await take_the_lock(session):
        return []
    made = []
    for month in missing:
        made += await make_month(session, month)
    if made:
        log.info("partitions made: %s", ", ".join(made))
    return made


async def make_months(session: AsyncSession, first: datetime, last: datetime) -> list[str]:
    """The partitions of every month from ``first``'s to ``last``'s, where missing: for cases
    dated back (the demo's history, an import) before they are written."""
    if not await is_partitioned(session) or not await take_the_lock(session):
        return []
    made, month = [], Month.of(first)
    while month <= Month.of(last):
        made += await make_month(session, month)
        month = month.plus(1)
    return made


async def _drop_foreign_keys_onto_cases(session: AsyncSession, name: str) -> None:
    """A detached table's foreign keys onto the case tables (its parent kept them as its own):
    they would hold back the next detach and mean nothing in an archive."""
    rows = await session.execute(
        text(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conparentid = 0"
            " AND conrelid = CAST(:name AS regclass)"
            " AND (confrelid::regclass::text = ANY(:tables)"
            " OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = confrelid"
            " AND i.inhparent::regclass::text = ANY(:tables)))"
        ),
        {"name": name, "tables": [table.name for table in CASE_TABLES]},
    )
    for (constraint,) in rows.all():
        await session.execute(text(f'ALTER TABLE "{name}" DROP CONSTRAINT "{constraint}"'))


async def detach_before(session: AsyncSession, before: Month) -> list[str]:
    """Detach every month partition older than ``before`` from its table (names detached)."""
    children = await partition_children(session, CASE_TABLE_NAMES_IN_ORDER)
    if children is None or not await take_the_lock(session):
        return []
    attached = _months(children)
    months = sorted({m for found in attached.values() for m in found if m < before})
    detached = []
    for month in months:
        for table in reversed(CASE_TABLES):
            if month not in attached[table.name]:
                continue
            name = partition_name(table.name, month.year, month.month)
            await session.execute(text(f'ALTER TABLE "{table.name}" DETACH PARTITION "{name}"'))
            await _drop_foreign_keys_onto_cases(session, name)
            detached.append(name)
    if detached:
        log.info("partitions detached: %s", ", ".join(detached))
    return detached


class AttachRefused(Exception):
    """A month that cannot be attached as it stands; the message says why."""


async def _existing(session: AsyncSession, names: Sequence[str]) -> set[str]:
    rows = await session.scalars(
        text("SELECT relname::text FROM pg_class WHERE relname = ANY(:names) AND relkind = 'r'"),
        {"names": list(names)},
    )
    return set(rows.all())


async def attach_month(session: AsyncSession, month: Month) -> list[str]:
    """Attach ``month``'s tables that stand apart under their partition names (detached, or
    restored from an archive) to their parents again: the cases first, then the tables that
    hang off them, whose foreign keys onto the cases come back with them. Names attached;
    AttachRefused when the month cannot be."""
    children = await partition_children(session, CASE_TABLE_NAMES_IN_ORDER)
    if children is None or not await take_the_lock(session):
        return []
    attached = _months(children)
    apart = [table for table in CASE_TABLES if month not in attached[table.name]]
    names = {t.name: partition_name(t.name, month.year, month.month) for t in apart}
    present = await _existing(session, list(names.values()))
    if not present:
        return []
    if month not in attached["reports"] and names["reports"] not in present:
        # The other tables' rows would name cases that are not there.
        raise AttachRefused(f"{names['reports']} is missing: the month's cases come first")
    if await _default_holds(session, month):
        raise AttachRefused(f"cases of {month} were filed into the default partitions since")
    low, high = month.bounds()
    done = []
    for table in apart:
        name = names[table.name]
        if name not in present:
            continue
        try:
            await session.execute(
                text(
                    f'ALTER TABLE "{table.name}" ATTACH PARTITION "{name}"'
                    f" FOR VALUES FROM ('{low}') TO ('{high}')"
                )
            )
        except DBAPIError as error:  # a row outside the month, or naming a case not there
            raise AttachRefused(f"{name}: {error.orig}") from error
        done.append(name)
    log.info("partitions attached: %s", ", ".join(done))
    return done
