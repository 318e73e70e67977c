"""Bounds on a partition key that follow a time bound, so that PostgreSQL skips the months a
page cannot reach (app/models/partitioning.py).

A list of cases newest first pages back with ``(created_at, id) < (:moment, :id)``; the
planner cannot tell from that row comparison which months hold no such row, so every month's
partition is read. A case's id is the moment it was filed, though, so the same rows also have
``id < <least id of the millisecond after :moment>``: a bound on the partition key itself, from
which the planner leaves out every month after the cursor's. The bound adds nothing a row
could fail that the sort keys would have let through; SQLite, with plain tables, does without.

A first page has no cursor, and a filtered page is planned for its values over every month; a
list read newest first therefore looks in its newest months first (``NewestMonthsFirst``), and
in the older ones only when those did not hold its page."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.partitions import Month
from app.core.sql import member_of, settings_for_the_block
from app.models.ids import id_floor

_ONE_PLAN = "one_plan_for_any_values"
# The months a list read newest first looks in before the older ones: the month its page starts
# in and the one before, which hold a whole page of nearly every list.
WINDOW_MONTHS = 2
_MICROSECOND = timedelta(microseconds=1)
_ONE_PLAN_SETTINGS = {
    "plan_cache_mode": "force_generic_plan",
    "max_parallel_workers_per_gather": "0",
}


@dataclass(frozen=True)
class KeyFollowsTime:
    """``key``, a UUIDv7 partition key, was made at a time sort column's moment (``exactly``:
    a case's id and its ``created_at``) or at or before it (a job's case, filed before the job
    was made)."""

    key: InstrumentedAttribute[Any]
    exactly: bool = True

    def before(self, moment: datetime) -> ColumnElement[bool]:
        """Rows whose time is before ``moment`` (or at it) have a key below this."""
        return self.key < id_floor(moment, milliseconds_later=1)

    def strictly_before(self, moment: datetime) -> ColumnElement[bool]:
        """Rows whose time is before ``moment`` have a key below this (a period's exclusive
        end: on a millisecond, that millisecond's ids are left out, and with them the next
        month's partition when the period ends at a month's start)."""
        if moment.microsecond % 1000 == 0:
            return self.key < id_floor(moment)
        return self.before(moment)

    def from_(self, moment: datetime) -> ColumnElement[bool] | None:
        """Rows whose time is at or after ``moment``; None when the key can be older."""
        return self.key >= id_floor(moment) if self.exactly else None


def prunes(session: AsyncSession) -> bool:
    """Whether the tables are partitioned here: bounds are added on PostgreSQL only."""
    return session.get_bind().dialect.name == "postgresql"


def of_cases(
    session: AsyncSession, column: InstrumentedAttribute[Any], ids: Collection[uuid.UUID]
) -> ColumnElement[bool]:
    """``column`` (a case's id, or a row's ``report_id``) is one of ``ids`` (``member_of``);
    where the tables are partitioned, also between the least and the greatest of them: the
    planner leaves out the months no case of ``ids`` was filed in from that range, which it
    cannot do from an array. A page of recent cases then reads a month or two, not all."""
    condition = member_of(session, column, ids)
    if not ids or not prunes(session):
        return condition
    return and_(condition, column.between(min(ids), max(ids)))


@contextlib.asynccontextmanager
async def one_plan_for_any_values(session: AsyncSession) -> AsyncIterator[None]:
    """Statements inside are planned once per connection for any values (a generic plan),
    where the tables are partitioned; nothing elsewhere.

    For reads of rows by key (a page's cases with their photos, jobs and timelines, by the
    cases' ids): planned for its values, such a statement is planned again at every run,
    since a plan for any values must keep every month's partition and looks dearer, and
    planning it over 27 months of cases, jobs and requests for more time costs 6–8 ms where
    running it costs 0.5. The one plan leaves out the months outside the ids' range when it
    starts (``of_cases``), and a connection makes it once. Without parallel workers: a plan
    for any values cannot count on the months it will leave out, and would start two workers
    (some 25 ms) to read the dozen rows of a page. Two round trips (the SETs)."""
    if not prunes(session) or session.info.get(_ONE_PLAN):
        yield  # SQLite; or inside such a block already (a page's cases, then their jobs)
        return
    session.info[_ONE_PLAN] = True
    try:
        async with settings_for_the_block(session, _ONE_PLAN_SETTINGS):
            yield
    finally:
        session.info.pop(_ONE_PLAN, None)


def within_period(
    follows: KeyFollowsTime, start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    """The key's bounds for rows whose time is in [start, end)."""
    bounds = []
    if start is not None and (low := follows.from_(start)) is not None:
        bounds.append(low)
    if end is not None:
        bounds.append(follows.strictly_before(end))
    return bounds


@dataclass(frozen=True)
class NewestMonthsFirst:
    """Where a list read newest first by ``time`` (a case's filing moment, which ``follows``
    its id, the partition key, exactly) looks for a page: first in a window of the
    ``WINDOW_MONTHS`` months the page starts in (the cursor's, else the period's end's, else
    now's, and the month before), up to the page's start; then, only when those held fewer
    rows than the page needs, in every older month.

    Without a bound below, a page's statement plans and starts a scan in every month's
    partition: planned for its values (a filtered page, a supervisor's region), 27 months of
    cases with 16 indexes each took several milliseconds to plan, where the window's two or
    three take a fraction of one; planned once for any values, PostgreSQL leaves the months
    outside the window when it starts the statement. Every row of the window comes before every
    row below it in the list's order (an id below the window's least is of an earlier
    millisecond), so the window's rows followed by those below are the page one read would
    give."""

    follows: KeyFollowsTime
    time: InstrumentedAttribute[Any]
    now: datetime
    start: datetime | None = None  # the list's period, [start, end)
    end: datetime | None = None

    def __post_init__(self) -> None:
        if not self.follows.exactly:  # a key made before its time: no window's rows come first
            raise ValueError("a window needs a key made at its row's time")

    def spans(self, cursor: datetime | None) -> list[list[ColumnElement[bool]]]:
        """The bounds of each read in turn, after a cursor at the moment ``cursor`` (None: a
        first page): the window's, then those of the months below it; a single read, without
        bounds, where the window holds the whole period."""
        tops = [self.now, cursor, self.end - _MICROSECOND if self.end is not None else None]
        first = Month.of(min(top for top in tops if top is not None))
        window_start = first.plus(1 - WINDOW_MONTHS).start()
        if self.start is not None and self.start >= window_start:
            return [[]]
        least = id_floor(window_start)
        # The time's bound too, so that each month's index scan starts below the window.
        return [[self.follows.key >= least], [self.follows.key < least, self.time < window_start]]
