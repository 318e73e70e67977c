"""A value built from database rows, kept in a process's memory and in step with the database.

The working calendar is read on every report but changes rarely, and may be changed by any
process. It is kept as a snapshot with the version of the rows it was built from (a revision
row). (The community locator, whose rebuild is too long to hold lookups for, keeps its own:
app/org/locator_cache.py.) The snapshot goes stale in two ways: a write
by this process (its route calls :meth:`SnapshotCache.invalidate_after_commit`, and the next use
rebuilds) or a write by another process, noticed by reading the version again at most every
``refresh_seconds``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

T = TypeVar("T")
V = TypeVar("V", bound=Hashable)


@dataclass(frozen=True, slots=True)
class _Snapshot(Generic[T, V]):
    version: V
    generation: int
    value: T


class SnapshotCache(Generic[T, V]):
    """``read_version`` must be cheap (it runs every ``refresh_seconds`` at most); ``build``
    runs only when the version moved or this process wrote."""

    def __init__(
        self,
        read_version: Callable[[AsyncSession], Awaitable[V]],
        build: Callable[[AsyncSession, V], Awaitable[T]],
        *,
        refresh_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read_version = read_version
        self._build = build
        self._refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._snapshot: _Snapshot[T, V] | None = None
        # Bumped by every committed write of this process; a snapshot of an older generation
        # is stale whatever the version says.
        self._generation = 0
        self._next_check = 0.0
        self._lock = asyncio.Lock()

    def fresh(self) -> T | None:
        """The value if it needs no look at the database now, else None."""
        snapshot = self._snapshot
        return snapshot.value if snapshot is not None and self._is_fresh(snapshot) else None

    async def get(self, session: AsyncSession) -> T:
        snapshot = self._snapshot
        if snapshot is not None and self._is_fresh(snapshot):
            return snapshot.value
        async with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and self._is_fresh(snapshot):
                return snapshot.value  # refreshed by the caller this one waited for
            generation = self._generation
            # The version first: rows read after it are at least as new, so a change committed
            # in between is only ever loaded twice, never missed.
            version = await self._read_version(session)
            if snapshot is None or snapshot.generation != generation or snapshot.version != version:
                snapshot = _Snapshot(version, generation, await self._build(session, version))
                self._snapshot = snapshot
            self._next_check = self._monotonic() + self._refresh_seconds
            return snapshot.value

    def invalidate(self) -> None:
        self._generation += 1

    def invalidate_after_commit(self, session: AsyncSession) -> None:
        """Rebuild on the next use once ``session`` commits. Not before: a use between the
        write and its commit would rebuild from the old rows and keep them."""

        def _on_commit(_: Session) -> None:
            self.invalidate()

        event.listen(session.sync_session, "after_commit", _on_commit, once=True)

    def _is_fresh(self, snapshot: _Snapshot[T, V]) -> bool:
        return snapshot.generation == self._generation and self._monotonic() < self._next_check
