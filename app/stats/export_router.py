"""``GET /reports/export``: the ledger (台账) of the cases the caller may see, as a CSV or Excel
download streamed while it is read (app/stats/ledger.py).

Included before the reports router, so that ``/reports/export`` is not read as a report id.
``table_download`` serves any other table the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, Any, Final, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.auth.deps import CurrentPrincipal
from app.core.deps import ClockDep, SessionMakerDep
from app.core.errors import Unauthorized, ValidationFailed, error_responses
from app.core.head import is_head
from app.core.workcalendar import CHINA_TZ
from app.reports.deps import ReportFiltersDep
from app.stats.ledger import LEDGER_HEADERS, LEDGER_SHEET, LedgerQuery
from app.stats.ledger_text import WrittenRows, ledger_text_batches
from app.stats.tabular import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    Rows,
    csv_chunks,
    csv_written_chunks,
    xlsx_chunks,
    xlsx_written_chunks,
)

router = APIRouter(tags=["reports"])

LEDGER_FILE_STEM: Final = "suishoupai-ledger"


# A literal, not an enum: the document's enums are the vocabularies of /labels.
ExportFormat = Literal["csv", "xlsx"]
ExportFormatQuery = Annotated[
    ExportFormat, Query(alias="format", description="csv (the default) or xlsx")
]
MEDIA_TYPES: Final[dict[ExportFormat, str]] = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}
# What a download route documents besides its errors.
DOWNLOAD_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}},
        "description": "The file, as an attachment (`Content-Disposition`)",
    }
}


def attachment(stem: str, title: str, extension: str, now: datetime) -> str:
    """A Content-Disposition for a download named with the day (China time): a plain ASCII
    ``filename`` for old clients, the Chinese ``title`` as ``filename*`` (RFC 6266, RFC 5987)."""
    day = now.astimezone(CHINA_TZ).strftime("%Y%m%d")
    return (
        f'attachment; filename="{stem}-{day}.{extension}"; '
        f"filename*=UTF-8''{quote(f'{title}-{day}.{extension}', safe='')}"
    )


def table_download(
    file_format: ExportFormat,
    *,
    title: str,
    stem: str,
    headers: Sequence[str],
    rows: Rows,
    now: datetime,
) -> StreamingResponse:
    """A table as a CSV or Excel download, streamed: ``title`` names the sheet and, with the
    day, the file (``stem`` is the file's ASCII name for clients that do not read ``filename*``).
    Never kept by a cache: what the service exports is about people and their cases."""
    if file_format == "xlsx":
        chunks = xlsx_chunks(title, headers, rows)
    else:
        chunks = csv_chunks(headers, rows)
    return download(file_format, chunks, title=title, stem=stem, now=now)


def download(
    file_format: ExportFormat, chunks: AsyncIterator[bytes], *, title: str, stem: str, now: datetime
) -> StreamingResponse:
    """A file's bytes as a download (see ``table_download``)."""
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[file_format],
        headers={
            "Content-Disposition": attachment(stem, title, file_format, now),
            "Cache-Control": "no-store",
        },
    )


async def _resumed(
    first: WrittenRows | None, rest: AsyncIterator[WrittenRows]
) -> AsyncIterator[bytes]:
    if first is None:
        return
    yield first.data
    async for written in rest:
        yield written.data


@router.get(
    "/reports/export",
    response_class=Response,
    summary="The ledger (台账): the cases the caller may see, as a CSV or Excel download",
    description=(
        "Every case the caller may see that matches the filters of `GET /reports` (the same "
        "parameters; `sort` aside: the ledger is oldest first), one row a case with its key "
        "dates in China time: number, status, category, source, priority, description, "
        "address, position, region, community, grid, reporter (shown and masked as in the "
        "case list), filing, acceptance, dispatch, resolution and closure times, deadlines, "
        "lead unit, supervision, reworks, hours on hold, closure type and satisfaction. CSV is "
        "UTF-8 with a byte order mark; text that a spreadsheet would run as a formula (starting "
        "with `=`, `+`, `-`, `@`, a tab or a carriage return) is written with a leading `'`."
    ),
    responses={**DOWNLOAD_RESPONSES, **error_responses(Unauthorized, ValidationFailed)},
)
async def export_reports(
    request: Request,
    principal: CurrentPrincipal,
    clock: ClockDep,
    sessionmaker: SessionMakerDep,
    filters: ReportFiltersDep,
    export_format: ExportFormatQuery = "csv",
) -> StreamingResponse:
    now = clock.now()
    if is_head(request):
        # What the download would be, without reading a single case for a body never sent.
        return table_download(
            export_format,
            title=LEDGER_SHEET,
            stem=LEDGER_FILE_STEM,
            headers=LEDGER_HEADERS,
            rows=[],
            now=now,
        )
    # The request's own session ends before the body is sent: the ledger reads in sessions of
    # its own. The first batch is read now, so that a database fault is an error answer rather
    # than a file cut short.
    batches = ledger_text_batches(sessionmaker, LedgerQuery(principal, filters, now), export_format)
    first = await anext(batches, None)
    rows = _resumed(first, batches)
    if export_format == "xlsx":
        chunks = xlsx_written_chunks(LEDGER_SHEET, LEDGER_HEADERS, rows)
    else:
        chunks = csv_written_chunks(LEDGER_HEADERS, rows)
    return download(export_format, chunks, title=LEDGER_SHEET, stem=LEDGER_FILE_STEM, now=now)
