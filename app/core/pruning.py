"""Bounds on a partition key that follow a time bound, so that PostgreSQL skips the months a
page cannot reach (app/models/partitioning.py).

A list of cases newest first pages back with ``(created_at, id) < (:moment, :id)``; the
planner cannot tell from that row comparison which months hold no such row, so every month's
partition is read. A case's id is the moment it was filed, though, so the same rows also have
``id < <least id of the millisecond after :moment>``: a bound on the partition key itself, from
which the planner leaves out every month after the cursor's. The bound adds nothing a row
could fail that the sort keys would have let through; SQLite, with plain tables, does without."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.sql import member_of, settings_for_the_block
from app.models.ids import id_floor

_ONE_PLAN = "one_plan_for_any_values"
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
