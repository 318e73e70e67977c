"""Removing stored photo files that no photo row references.

Intake uploads files before its transaction and removes them if the transaction fails; a crash
between the two leaves orphans. Only files older than the grace period are touched, so a
submission still in flight never loses its files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.storage import PhotoStorage
from app.photos.uploads import referenced_keys

DEFAULT_GRACE = timedelta(hours=1)
BATCH = 500


@dataclass(frozen=True)
class GcResult:
    scanned: int
    removed: int


async def collect_orphans(
    session: AsyncSession,
    storage: PhotoStorage,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    on_progress: Callable[[int, int], None] | None = None,
) -> GcResult:
    cutoff = now - grace
    scanned = removed = 0
    batch: list[str] = []

    async def sweep() -> None:
        nonlocal removed
        orphans = set(batch) - await referenced_keys(session, batch)
        for key in orphans:
            await storage.delete(key)
        removed += len(orphans)
        batch.clear()

    async for stored in storage.list_keys():
        scanned += 1
        if stored.last_modified < cutoff:
            batch.append(stored.key)
        if len(batch) >= BATCH:
            await sweep()
        if on_progress is not None:
            on_progress(scanned, removed)
    if batch:
        await sweep()
    return GcResult(scanned=scanned, removed=removed)
