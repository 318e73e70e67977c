"""Removing stored photo files that no photo row references, without ever trusting one run.

Intake uploads files before its transaction and removes them if the transaction fails; a crash
between the two leaves orphans. Only files older than the grace period are touched, so a
submission still in flight never loses its files.

Pointed at the wrong database (a migrated but empty one, a restored copy of last month), every
file looks orphaned. So a run refuses, unless forced, when the database holds no photo rows while
the store holds files, or when more than a share of the store (10 % by default) would go. And
nothing is deleted at once: orphans are moved under ``quarantine/<time>/`` in the same store (a
folder of the local store, a prefix of the bucket) and deleted by a later run once they have
been there for the quarantine period (7 days by default). A quarantined file that a photo row
references again (the right database is back) is moved back to its key by the next run.

A national bucket holds billions of objects, so a run lists only the last few days: each kind's
day prefixes (``display/2026/12/05/``, see ``app/core/storage.py``) of a window of days, and
``quarantine/``. Both safety refusals are worked out over what was listed. The whole store is
walked only when asked (``days=None``): once for files of the earlier layout, or now and then
for orphans older than any window."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.storage import PHOTO_FILE_KINDS, PhotoStorage, StoredPhotoNotFound, day_prefix
from app.core.workcalendar import CHINA_TZ
from app.models import Photo
from app.photos.uploads import referenced_keys

DEFAULT_GRACE = timedelta(hours=1)
# Today and the two days before (China time): a daily run lists each day three times, so one
# or two missed runs lose nothing, and a file written just before midnight is past the grace
# period by the next run.
DEFAULT_DAYS = 3
DEFAULT_MAX_SHARE = 0.10
DEFAULT_QUARANTINE_PERIOD = timedelta(days=7)
QUARANTINE = "quarantine/"
# When the file went to quarantine, in its key: a move keeps a local file's times, and S3's
# copy resets them, so neither store's own dates can say how long a file has been there.
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
BATCH = 500


@dataclass(frozen=True)
class Quarantined:
    key: str  # where it is now, under quarantine/
    original_key: str
    since: datetime


@dataclass
class GcResult:
    scope: str = "the whole store"  # what was listed, in words
    scanned: int = 0  # photo files listed, quarantine not counted
    photo_rows: int = 0
    orphans: list[str] = field(default_factory=list)  # to quarantine (or quarantined)
    to_restore: list[Quarantined] = field(default_factory=list)  # referenced again
    to_delete: list[Quarantined] = field(default_factory=list)  # past the quarantine period
    in_quarantine: int = 0  # files under quarantine/, whatever happens to them
    refused: str | None = None  # why nothing was changed
    applied: bool = False  # False for a dry run or a refusal

    @property
    def share(self) -> float:
        return len(self.orphans) / self.scanned if self.scanned else 0.0


def quarantine_key(key: str, now: datetime) -> str:
    return f"{QUARANTINE}{now.astimezone(UTC).strftime(STAMP_FORMAT)}/{key}"


def parse_quarantine_key(key: str) -> Quarantined | None:
    """None for a file under quarantine/ that this code did not put there: left alone."""
    stamp, _, original = key.removeprefix(QUARANTINE).partition("/")
    try:
        since = datetime.strptime(stamp, STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return Quarantined(key, original, since) if original else None


def refusal(result: GcResult, max_share: float) -> str | None:
    if not result.orphans:
        return None
    if result.photo_rows == 0:
        return (
            f"the database holds no photos, yet the store holds {result.scanned} files in "
            f"{result.scope}: is this the database of this store?"
        )
    if result.share > max_share:
        return (
            f"{len(result.orphans)} of {result.scanned} stored files ({result.share:.0%}) in "
            f"{result.scope} are referenced by no photo, more than the {max_share:.0%} "
            "allowed: is this the database of this store?"
        )
    return None


def listed_prefixes(now: datetime, days: int | None) -> list[str]:
    """What a run lists: every kind's prefixes of the last ``days`` days in China time (the
    day a file is stored under, ``app/photos/uploads.py``) and ``quarantine/``; with ``None``
    the whole store, quarantine included."""
    if days is None:
        return [""]
    today = now.astimezone(CHINA_TZ).date()
    recent = [today - timedelta(days=back) for back in range(days)]
    return [day_prefix(kind, day) for kind in PHOTO_FILE_KINDS for day in recent] + [QUARANTINE]


def describe_scope(days: int | None) -> str:
    if days is None:
        return "the whole store"
    return "today's prefixes" if days == 1 else f"the prefixes of the last {days} days"


async def plan_gc(
    session: AsyncSession,
    storage: PhotoStorage,
    now: datetime,
    *,
    grace: timedelta = DEFAULT_GRACE,
    quarantine_period: timedelta = DEFAULT_QUARANTINE_PERIOD,
    days: int | None = DEFAULT_DAYS,
    on_progress: Callable[[int], None] | None = None,
) -> GcResult:
    """What a run would do, changing nothing: one walk of the listed prefixes (the last
    ``days`` days, or with ``None`` the whole store), references looked up 500 listed keys at a
    time, never the database's keys at large."""
    result = GcResult(
        scope=describe_scope(days),
        photo_rows=await session.scalar(select(func.count()).select_from(Photo)) or 0,
    )
    cutoff = now - grace
    batch: list[str] = []
    quarantined: list[Quarantined] = []

    async def sweep() -> None:
        referenced = await referenced_keys(session, batch)
        result.orphans += [key for key in batch if key not in referenced]
        batch.clear()

    for prefix in listed_prefixes(now, days):
        async for stored in storage.list_keys(prefix):
            if stored.key.startswith(QUARANTINE):
                result.in_quarantine += 1
                if (entry := parse_quarantine_key(stored.key)) is not None:
                    quarantined.append(entry)
                continue
            result.scanned += 1
            if stored.last_modified < cutoff:
                batch.append(stored.key)
                if len(batch) >= BATCH:
                    await sweep()
            if on_progress is not None:
                on_progress(result.scanned)
    if batch:
        await sweep()

    for start in range(0, len(quarantined), BATCH):
        chunk = quarantined[start : start + BATCH]
        referenced = await referenced_keys(session, [entry.original_key for entry in chunk])
        for entry in chunk:
            if entry.original_key in referenced:
                result.to_restore.append(entry)
            elif entry.since <= now - quarantine_period:
                result.to_delete.append(entry)
    return result


async def collect_orphans(
    session: AsyncSession,
    storage: PhotoStorage,
    now: datetime,
    *,
    grace: timedelta = DEFAULT_GRACE,
    max_share: float = DEFAULT_MAX_SHARE,
    quarantine_period: timedelta = DEFAULT_QUARANTINE_PERIOD,
    days: int | None = DEFAULT_DAYS,
    force: bool = False,
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> GcResult:
    """Plan, check the plan is safe, then quarantine the orphans, restore what is referenced
    again and delete what has been in quarantine long enough. A refused run changes nothing."""
    result = await plan_gc(
        session,
        storage,
        now,
        grace=grace,
        quarantine_period=quarantine_period,
        days=days,
        on_progress=on_progress,
    )
    result.refused = None if force else refusal(result, max_share)
    if dry_run or result.refused is not None:
        return result
    for entry in result.to_restore:
        await _move(storage, entry.key, entry.original_key)
    for entry in result.to_delete:
        await storage.delete(entry.key)
    await _quarantine(session, storage, result.orphans, now)
    result.applied = True
    return result


async def _quarantine(
    session: AsyncSession, storage: PhotoStorage, orphans: Sequence[str], now: datetime
) -> None:
    for start in range(0, len(orphans), BATCH):
        chunk = orphans[start : start + BATCH]
        # Looked up again right before the move: the walk of a large store takes a while.
        referenced = await referenced_keys(session, chunk)
        for key in chunk:
            if key not in referenced:
                await _move(storage, key, quarantine_key(key, now))


async def _move(storage: PhotoStorage, key: str, new_key: str) -> None:
    # Gone since the walk (another run moved it): nothing to move.
    with suppress(StoredPhotoNotFound):
        await storage.move(key, new_key)
