"""``python -m app export reports``: the ledger (台账) written to a file, as an administrator sees
it (every case; reporters' phone numbers masked as everywhere but the user directory).

Imports what the command needs when it runs: the command line starts without loading the
service for the commands not run."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.reports.queries import ReportFilters
    from app.stats.ledger import LedgerQuery

export_cli = typer.Typer(help="Downloads written to files.", no_args_is_help=True)
console = Console()
FORMATS = ("csv", "xlsx")


def _moment(text: str | None, option: str) -> datetime | None:
    """RFC 3339 or a date; without a zone, China time (a date is its midnight there)."""
    from app.core.workcalendar import CHINA_TZ

    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not a date or time: {text!r}", param_hint=option) from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=CHINA_TZ)


def _filters(
    statuses: list[str],
    category: str | None,
    region_id: uuid.UUID | None,
    community_id: uuid.UUID | None,
    unit_id: uuid.UUID | None,
    created: tuple[str | None, str | None],
) -> ReportFilters:
    from app.models.enums import ReportStatus
    from app.reports.queries import ReportFilters

    known = {status.value for status in ReportStatus}
    if unknown := [status for status in statuses if status not in known]:
        raise typer.BadParameter(
            f"{', '.join(unknown)}: one of {', '.join(sorted(known))}", param_hint="--status"
        )
    return ReportFilters(
        statuses=tuple(ReportStatus(status) for status in statuses),
        category=category,
        region_id=region_id,
        community_id=community_id,
        unit_id=unit_id,
        created_from=_moment(created[0], "--from"),
        created_to=_moment(created[1], "--to"),
    )


async def _write_ledger(
    settings: Settings, query: LedgerQuery, file_format: str, output: Path
) -> int:
    """The ledger into ``output`` (through a ``.part`` file beside it, renamed when complete),
    with a progress bar; the number of rows written."""
    from collections.abc import AsyncIterable, AsyncIterator

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from app.core.db import create_engine, create_sessionmaker
    from app.stats.ledger import LEDGER_HEADERS, LEDGER_SHEET, count_ledger
    from app.stats.ledger_sql import FileFormat
    from app.stats.ledger_text import WrittenRows, ledger_text_batches
    from app.stats.tabular import csv_written_chunks, xlsx_written_chunks

    engine = create_engine(settings)
    partial = output.with_name(output.name + ".part")
    written = 0

    async def counted(pieces: AsyncIterable[WrittenRows]) -> AsyncIterator[bytes]:
        nonlocal written
        async for piece in pieces:
            written += piece.rows
            yield piece.data

    try:
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            total = await count_ledger(session, query)
        ledger_format: FileFormat = "xlsx" if file_format == "xlsx" else "csv"
        rows = counted(ledger_text_batches(sessionmaker, query, ledger_format))
        chunks = (
            xlsx_written_chunks(LEDGER_SHEET, LEDGER_HEADERS, rows)
            if file_format == "xlsx"
            else csv_written_chunks(LEDGER_HEADERS, rows)
        )
        columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("Writing the ledger", total=total)
            with partial.open("wb") as out:
                async for chunk in chunks:
                    out.write(chunk)
                    progress.update(task, completed=written)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
        await engine.dispose()
    return written


@export_cli.command("reports")
def export_reports(
    output: Annotated[
        Path, typer.Option("--output", "-o", dir_okay=False, help="The file to write")
    ],
    file_format: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    status: Annotated[
        list[str] | None, typer.Option(help="Only cases in this status (repeatable)")
    ] = None,
    category: Annotated[str | None, typer.Option(help="A category's code")] = None,
    region_id: Annotated[uuid.UUID | None, typer.Option(help="A region and its subtree")] = None,
    community_id: Annotated[uuid.UUID | None, typer.Option(help="A community")] = None,
    unit_id: Annotated[uuid.UUID | None, typer.Option(help="Cases with a job for the unit")] = None,
    created_from: Annotated[
        str | None, typer.Option("--from", help="Filed from (RFC 3339, or a date; China time)")
    ] = None,
    created_to: Annotated[
        str | None, typer.Option("--to", help="Filed before (RFC 3339, or a date; China time)")
    ] = None,
) -> None:
    """Write the ledger (台账) of every case matching the filters, oldest first, as CSV or
    Excel, as an administrator sees it."""
    from datetime import UTC

    from app.auth.principal import Principal, RoleGrant
    from app.core.config import get_settings
    from app.models.enums import Role
    from app.stats.ledger import LedgerQuery

    if file_format not in FORMATS:
        raise typer.BadParameter(f"{file_format!r}: csv or xlsx", param_hint="--format")
    filters = _filters(
        status or [], category, region_id, community_id, unit_id, (created_from, created_to)
    )
    administrator = Principal(
        user_id=None,
        username="cli",
        grants=(RoleGrant(role=Role.admin, scope_type=None, scope_id=None, scope_name=None),),
    )
    query = LedgerQuery(administrator, filters, datetime.now(UTC))
    written = asyncio.run(_write_ledger(get_settings(), query, file_format, output))
    console.print(f"Wrote {written} cases to {output}.", markup=False, highlight=False)
