"""``python -m app partitions``: the case tables' month partitions (app/core/partitions.py) —
list them, make them ahead, detach old months for archiving and attach one again — and the
outbox's days (app/core/day_partitions.py), made ahead."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.core.clock import Clock
from app.core.config import get_settings
from app.core.day_partitions import DAYS_AHEAD, Day, attached_days, make_days_ahead
from app.core.db import create_engine, create_sessionmaker
from app.core.partitions import (
    AttachRefused,
    Month,
    attach_month,
    attached_months,
    detach_before,
    make_ahead,
)
from app.models.partitioning import CASE_TABLES

console = Console()

Ahead = Annotated[
    int | None,
    typer.Option(
        min=0,
        max=24,
        help="Make this month's partitions and those of this many months after it "
        "(default: SSP_PARTITION_MONTHS_AHEAD)",
    ),
]
DetachBefore = Annotated[
    str | None,
    typer.Option(
        "--detach-before",
        help="Detach every month before this one (YYYY-MM) for archiving; the tables keep "
        "their rows under their names until dropped",
    ),
]

Attach = Annotated[
    str | None,
    typer.Option(
        "--attach",
        help="Attach this month's tables (YYYY-MM) again: detached before, or restored from "
        "their dump under their own names",
    ),
]


def _month(value: str | None, option: str) -> Month | None:
    if value is None:
        return None
    try:
        return Month.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def partitions(
    ahead: Ahead = None, detach_before_month: DetachBefore = None, attach: Attach = None
) -> None:
    """List the month partitions of the case tables (PostgreSQL), making the coming ones,
    detaching old ones and attaching one again when asked."""
    settings = get_settings()
    before = _month(detach_before_month, "--detach-before")
    again = _month(attach, "--attach")
    if before is not None and before > Month.of(Clock().now()):
        raise typer.BadParameter(
            "a month still to come: cases of this month would go with it",
            param_hint="--detach-before",
        )
    if before is not None and again is not None and again < before:
        raise typer.BadParameter("a month the same command detaches", param_hint="--attach")

    async def work() -> tuple[list[str], list[str], list[str], dict[str, list[Month]], list[Day]]:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                months = settings.partition_months_ahead if ahead is None else ahead
                made = await make_ahead(session, Clock().now(), months)
                made += await make_days_ahead(session, Clock().now(), DAYS_AHEAD)
                detached = await detach_before(session, before) if before else []
                attached = await attach_month(session, again) if again else []
                months_now = await attached_months(session)
                return made, detached, attached, months_now, await attached_days(session)
        finally:
            await engine.dispose()

    try:
        made, detached, attached_again, attached, days = asyncio.run(work())
    except AttachRefused as refused:
        console.print(f"[red]Not attached:[/red] {refused}")
        raise typer.Exit(1) from None
    _report(made, detached, attached_again, attached, days, again)


def _report(
    made: list[str],
    detached: list[str],
    attached_again: list[str],
    attached: dict[str, list[Month]],
    days: list[Day],
    again: Month | None,
) -> None:
    if not any(attached.values()):
        console.print("No month partitions: the database is not PostgreSQL, or not migrated.")
        return
    if again is not None and not attached_again:
        console.print(f"Nothing to attach for {again}: no table of that month stands apart.")
    for label, names in (
        ("Made", made),
        ("Detached (to archive and drop)", detached),
        ("Attached", attached_again),
    ):
        if names:
            console.print(f"{label}: {', '.join(names)}")
    table = Table("month (China time)", "tables with a partition", "missing")
    for month in sorted({m for found in attached.values() for m in found}):
        missing = [t.name for t in CASE_TABLES if month not in attached[t.name]]
        table.add_row(
            str(month), f"{len(CASE_TABLES) - len(missing)}/{len(CASE_TABLES)}", ", ".join(missing)
        )
    console.print(table)
    if days:
        console.print(
            f"Days of the outbox and webhook deliveries: {days[0]} to {days[-1]} ({len(days)});"
            " the worker drops each once its retention is over."
        )
