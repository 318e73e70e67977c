"""The outbox's and the webhook deliveries' day partitions on PostgreSQL
(app/models/partitioning.py, ``DAY_TABLES``): made ahead by the worker, dropped whole by the
retention pass once nothing in a day is needed (app/integrations/retention.py).

A day runs from midnight to midnight in China. Events go to the day they were made in, and
deliveries to their event's day, so a day's two tables leave together. As with the months, a
row made on a day nobody made a partition for goes to the table's default partition and that
day is left to it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.partitions import CHINA, partition_children, take_the_lock
from app.models.base import UTCDateTime
from app.models.partitioning import DAY_TABLES, day_partition_name, partition_day

log = logging.getLogger("app.partitions")

# The worker keeps today's partitions and those of this many days after it made.
DAYS_AHEAD = 7


@dataclass(frozen=True, order=True)
class Day:
    """A calendar day in China time."""

    day: date

    @classmethod
    def of(cls, moment: datetime) -> Day:
        return cls(moment.astimezone(CHINA).date())

    def plus(self, days: int) -> Day:
        return Day(self.day + timedelta(days=days))

    def start(self) -> datetime:
        return datetime.combine(self.day, time(), tzinfo=CHINA)

    def bounds(self) -> tuple[str, str]:
        """The day's first moment and the next day's, as PostgreSQL reads them."""
        return self.start().isoformat(), self.plus(1).start().isoformat()

    def table(self, name: str) -> str:
        return day_partition_name(name, self.day.year, self.day.month, self.day.day)

    def __str__(self) -> str:
        return self.day.isoformat()


def _days(children: dict[str, list[str]] | None) -> list[Day]:
    days = []
    for name in (children or {}).get("outbox_events", []):
        parsed = partition_day(name)
        if parsed is not None:
            days.append(Day(date(parsed[1], parsed[2], parsed[3])))
    return sorted(days)


async def attached_days(session: AsyncSession) -> list[Day]:
    """The days with a partition of the outbox, oldest first (none on SQLite)."""
    return _days(await partition_children(session, ["outbox_events"]))


async def _default_holds(session: AsyncSession, day: Day) -> bool:
    found = await session.scalar(
        text(
            "SELECT 1 FROM outbox_events_default"
            " WHERE created_at >= :start AND created_at < :end LIMIT 1"
        ).bindparams(
            bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
        ),
        {"start": day.start(), "end": day.plus(1).start()},
    )
    return found is not None


async def make_day(session: AsyncSession, day: Day) -> list[str]:
    """The day's partitions that were missing (names); none if the default partition already
    holds events of that day."""
    if await _default_holds(session, day):
        log.warning("events of %s sit in the default partition; no partition is made for it", day)
        return []
    start, end = day.bounds()
    made = []
    for table, _ in DAY_TABLES:
        name = day.table(table)
        if await session.scalar(text("SELECT to_regclass(:name)"), {"name": name}) is None:
            await session.execute(
                text(
                    f'CREATE TABLE "{name}" PARTITION OF "{table}"'
                    f" FOR VALUES FROM ('{start}') TO ('{end}')"
                )
            )
            made.append(name)
    return made


async def make_days_ahead(session: AsyncSession, now: datetime, days_ahead: int) -> list[str]:
    """Today's partitions and those of the ``days_ahead`` days after it, where missing."""
    children = await partition_children(session, ["outbox_events"])
    if children is None:
        return []
    attached = set(_days(children))
    wanted = [Day.of(now).plus(i) for i in range(days_ahead + 1)]
    missing = [day for day in wanted if day not in attached]
    if not missing or not await take_the_lock(session):
        return []
    made = []
    for day in missing:
        made += await make_day(session, day)
    if made:
        log.info("partitions made: %s", ", ".join(made))
    return made


async def drop_day(session: AsyncSession, day: Day) -> None:
    """Drop the day's deliveries and then its events: the caller has checked that nothing in
    them is still needed."""
    for table, _ in reversed(DAY_TABLES):
        await session.execute(text(f'DROP TABLE IF EXISTS "{day.table(table)}"'))
