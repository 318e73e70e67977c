"""Removing stored photo files that no photo row references.

Intake uploads files before its transaction and removes them if the transaction fails; a crash
between the two leaves orphans. Only files older than the grace period are touched, so a
submission still in flight never loses its files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.storage import PhotoStorage
from app.models import Photo

DEFAULT_GRACE = timedelta(hours=1)
BATCH = 500


@dataclass(frozen=True)
class GcResult:
    scanned: int
    removed: int


async def _referenced(session: AsyncSession, keys: list[str]) -> set[str]:
    rows = await session.execute(
        select(Photo.display_key, Photo.thumbnail_key, Photo.original_key).where(
            or_(
                Photo.display_key.in_(keys),
                Photo.thumbnail_key.in_(keys),
                Photo.original_key.in_(keys),
            )
        )
    )
    return {key for row in rows for key in row if key}


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
        orphans = set(batch) - await _referenced(session, batch)
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
