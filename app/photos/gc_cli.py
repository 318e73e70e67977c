"""``python -m app gc-photos``: the command over ``app/photos/gc.py``."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.photos.gc import GcResult

console = Console()


# The options, named apart so that the command reads as what it does.
GraceMinutes = Annotated[
    int, typer.Option(help="Leave files younger than this alone (in-flight submissions)")
]
Days = Annotated[
    int,
    typer.Option(
        min=1,
        help="List only the key prefixes of the last this many days (China time), and quarantine/",
    ),
]
Full = Annotated[
    bool,
    typer.Option(
        "--full",
        help="Walk the whole store instead of --days: for files of the earlier key layout "
        "and orphans older than the window",
    ),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print every file that would go; change nothing")
]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Go on although the database holds no photos or too many files look orphaned",
    ),
]
MaxPercent = Annotated[
    float,
    typer.Option(
        min=0, max=100, help="Refuse when more than this share of the listed files would go"
    ),
]
QuarantineDays = Annotated[
    float,
    typer.Option(
        min=0, help="Delete files that have been in quarantine/ this long (on a later run)"
    ),
]


def gc_photos(
    grace_minutes: GraceMinutes = 60,
    days: Days = 3,
    full: Full = False,
    dry_run: DryRun = False,
    force: Force = False,
    max_percent: MaxPercent = 10.0,
    quarantine_days: QuarantineDays = 7.0,
) -> None:
    """Quarantine stored photo files that no photo references; delete them on a later run.

    Lists the prefixes of the last --days days (and quarantine/), or with --full the whole
    store. Refuses (unless --force) when the database holds no photos while the listed files
    exist, or when more than --max-percent of them would go: a run against the wrong database
    would take every photo. Orphans move under quarantine/ in the same store (folder or bucket
    prefix), are deleted once they have been there --quarantine-days, and go back to their
    place if a photo references them again."""
    from app.core.config import get_settings

    grace = timedelta(minutes=grace_minutes)
    # A file stored just before midnight is listed on later days only if the window has them,
    # and must be past the grace period by then, or no run would ever see it old enough.
    if not full and timedelta(days=days - 1) < grace:
        raise typer.BadParameter(
            f"--days {days} is too short for --grace-minutes {grace_minutes}: a file stored "
            "late on a day would never be listed once it is older than the grace period",
            param_hint="--days",
        )
    result = _collect_orphans(
        get_settings(),
        grace=grace,
        max_share=max_percent / 100,
        quarantine_period=timedelta(days=quarantine_days),
        days=None if full else days,
        force=force,
        dry_run=dry_run,
    )
    _print_gc_result(result, dry_run=dry_run, quarantine_days=quarantine_days)
    if result.refused is not None and not dry_run:
        raise typer.Exit(1)


def _collect_orphans(
    settings: Settings,
    *,
    grace: timedelta,
    max_share: float,
    quarantine_period: timedelta,
    days: int | None,
    force: bool,
    dry_run: bool,
) -> GcResult:
    """One garbage-collection run over the photo store, with the files scanned so far shown."""
    from datetime import UTC, datetime

    from app.core.db import create_engine, create_sessionmaker
    from app.core.storage import build_storage
    from app.photos.gc import collect_orphans

    storage = build_storage(settings)

    async def main() -> GcResult:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session:
                with console.status("Looking for orphaned photo files…") as status:

                    def on_progress(scanned: int) -> None:
                        status.update(f"Scanned {scanned} files…")

                    return await collect_orphans(
                        session,
                        storage,
                        datetime.now(UTC),
                        grace=grace,
                        max_share=max_share,
                        quarantine_period=quarantine_period,
                        days=days,
                        force=force,
                        dry_run=dry_run,
                        on_progress=on_progress,
                    )
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _print_gc_result(result: GcResult, *, dry_run: bool, quarantine_days: float) -> None:
    """What a run did (or, dry, would do): every file with --dry-run, then the counts and the
    reason for a refusal. File names are printed as they are, never read as markup."""
    verb = "would" if not result.applied else "did"
    if dry_run:
        for key in result.orphans:
            console.print(f"quarantine {key}", markup=False, highlight=False)
        for entry in result.to_restore:
            console.print(f"restore {entry.original_key}", markup=False, highlight=False)
        for entry in result.to_delete:
            console.print(f"delete {entry.key}", markup=False, highlight=False)
    console.print(
        f"Scanned {result.scanned} stored files in {result.scope} ({result.photo_rows} photos "
        f"in the database, {result.in_quarantine} files in quarantine); {verb} quarantine "
        f"{len(result.orphans)} orphans, restore {len(result.to_restore)}, delete "
        f"{len(result.to_delete)} quarantined for {quarantine_days:g} days or more.",
        markup=False,
        highlight=False,
    )
    if result.refused is not None:
        console.print(
            f"{'A real run would refuse' if dry_run else 'Refused, nothing changed'}: "
            f"{result.refused} Check SSP_DATABASE_URL and the photo store's settings; "
            "--dry-run lists the files, --force goes on.",
            style="red",
            markup=False,
            highlight=False,
        )
