"""Bounds on a partition key that follow a time bound, so that PostgreSQL skips the months a
page cannot reach (app/models/partitioning.py).

A list of cases newest first pages back with ``(created_at, id) < (:moment, :id)``; the
planner cannot tell from that row comparison which months hold no such row, so every month's
partition is read. A case's id is the moment it was filed, though, so the same rows also have
``id < <least id of the millisecond after :moment>``: a bound on the partition key itself, from
which the planner leaves out every month after the cursor's. The bound adds nothing a row
could fail that the sort keys would have let through; SQLite, with plain tables, does without."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models.ids import id_floor

_MILLISECOND = timedelta(milliseconds=1)


@dataclass(frozen=True)
class KeyFollowsTime:
    """``key``, a UUIDv7 partition key, was made at a time sort column's moment (``exactly``:
    a case's id and its ``created_at``) or at or before it (a job's case, filed before the job
    was made)."""

    key: InstrumentedAttribute[Any]
    exactly: bool = True

    def before(self, moment: datetime) -> ColumnElement[bool]:
        """Rows whose time is before ``moment`` (or at it) have a key below this."""
        return self.key < id_floor(moment + _MILLISECOND)

    def from_(self, moment: datetime) -> ColumnElement[bool] | None:
        """Rows whose time is at or after ``moment``; None when the key can be older."""
        return self.key >= id_floor(moment) if self.exactly else None


def prunes(session: AsyncSession) -> bool:
    """Whether the tables are partitioned here: bounds are added on PostgreSQL only."""
    return session.get_bind().dialect.name == "postgresql"


def within_period(
    follows: KeyFollowsTime, start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    """The key's bounds for rows whose time is in [start, end)."""
    bounds = []
    if start is not None and (low := follows.from_(start)) is not None:
        bounds.append(low)
    if end is not None:
        bounds.append(follows.before(end))
    return bounds
