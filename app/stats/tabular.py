"""Tables streamed as CSV or Excel (.xlsx) files, with memory that stays flat however many rows
there are: rows are read from an iterable (async, or plain for a table already in memory) and
written out a batch at a time.

Cells are ``None`` (empty), ``str``, ``int``, ``float``, ``Decimal``, ``bool``, ``date`` or
``datetime``. A datetime is written as wall-clock time to the second: an aware one in China time
(the time people using the service read everywhere), a naive one as it is. In CSV it is text,
``YYYY-MM-DD HH:MM:SS`` (a date ``YYYY-MM-DD``); in .xlsx it is a real date, with that same
display format, so that a spreadsheet sorts and filters it as a date.

Formula injection: a spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and a leading tab or carriage return can hide such a start). Text cells — only ``str``
values, so that numbers, negative ones included, stay numbers — that begin with one of these
six characters get a leading apostrophe: ``=1+1`` is written ``'=1+1``. The rule is the same in
both formats, so one file reads like the other.

An .xlsx is a zip of XML parts: the sheet is written row by row with inline strings (no shared
string table to hold in memory) into a zip entry whose compressed bytes land in a buffer that is
drained after each batch; the zip is written without seeking (sizes in data descriptors). The
header row is bold and frozen."""

from __future__ import annotations

import asyncio
import csv
import io
import math
import re
import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final
from xml.sax.saxutils import escape

from app.core.workcalendar import CHINA_TZ
from app.stats.xlsx_package import (
    DATE_STYLE,
    DATETIME_STYLE,
    HEADER_STYLE,
    NOT_IN_XML,
    RELATIONSHIPS_NS,
    SHEET_PART,
    SPREADSHEET_NS,
    XML_DECLARATION,
    Drain,
    write_fixed_parts,
)

UTF8_BOM = "\ufeff".encode()
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows written between two drains of the output: a few hundred kilobytes at most.
BATCH_ROWS = 500
# Lines end as PostgreSQL's COPY ends them (the ledger's rows are written by it): a line feed.
CSV_LINE_END = "\n"
# Each row of the sheet on a line of its own, as COPY writes the ledger's rows.
ROW_END = "\n"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# zlib's fastest: the ledger's sheet of 90,000 rows (140 MB of XML) is compressed in a quarter
# of the time of the default level (6), into a file a third larger (18.4 MB, not 14.0).
SHEET_COMPRESSION = 1
# Excel's limit on the characters of one cell.
MAX_CELL_CHARS = 32_767
# Day 0 of Excel's date serial numbers (1900 system, past its leap-year bug).
EXCEL_EPOCH = datetime(1899, 12, 30)

Cell = str | int | float | Decimal | bool | date | datetime | None
Rows = AsyncIterable[Sequence[Cell]] | Iterable[Sequence[Cell]]


def neutralise(text: str) -> str:
    """The text as a spreadsheet shows it without running it (see the module's docstring)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def wall_clock(value: datetime) -> datetime:
    """A naive datetime to the second: an aware one in China time, a naive one as it is."""
    if value.tzinfo is not None:
        value = value.astimezone(CHINA_TZ).replace(tzinfo=None)
    return value.replace(microsecond=0)


# --- CSV --------------------------------------------------------------------------------------


def _csv_datetime(value: datetime) -> str:
    # isoformat is C: several times faster than strftime, the same text once cut to seconds.
    if value.tzinfo is not None:
        value = value.astimezone(CHINA_TZ)
    return value.isoformat(" ", "seconds")[:19]


def _csv_float(value: float) -> float | str:
    return value if math.isfinite(value) else ""  # as in a spreadsheet: no NaN or infinity


def _as_is(value: Cell) -> Cell:
    return value


# How each type of cell is written, looked up by the value's exact type: a ledger writes a
# million cells, and one look-up costs less than a chain of isinstance checks.
_CSV_BY_TYPE: dict[type, Callable[[Any], Any]] = {
    type(None): lambda _: "",
    str: neutralise,
    bool: lambda value: "TRUE" if value else "FALSE",
    int: _as_is,
    float: _csv_float,
    Decimal: _as_is,
    datetime: _csv_datetime,
    date: lambda value: value.isoformat(),
}


def _csv_cell(value: Cell) -> Any:
    write = _CSV_BY_TYPE.get(type(value))
    if write is not None:
        return write(value)
    # A subclass (a str enum, a datetime of another library): by what it is.
    for kind, write in _CSV_BY_TYPE.items():
        if kind is not type(None) and isinstance(value, kind):
            return write(value)
    return value


class _LinesEndedByLineFeeds:
    """What the csv module writes its lines to: each line written with "\r\n", so that a field
    holding a carriage return alone is quoted too (as COPY quotes it; with "\n" the module
    would leave it bare, and a reader would end the row there), and put down ended by
    CSV_LINE_END."""

    def __init__(self, buffer: io.StringIO) -> None:
        self.buffer = buffer

    def write(self, line: str) -> int:
        return self.buffer.write(line[:-2] + CSV_LINE_END)


def _csv_writer(buffer: io.StringIO) -> Any:
    # Fields are quoted where they hold the delimiter, a quote or a line break (QUOTE_MINIMAL),
    # quotes doubled: PostgreSQL's COPY quotes the ledger's fields so.
    return csv.writer(_LinesEndedByLineFeeds(buffer), lineterminator="\r\n")


def _csv_head(headers: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    _csv_writer(buffer).writerow([neutralise(header) for header in headers])
    return UTF8_BOM + _take(buffer)


async def csv_chunks(headers: Sequence[str], rows: Rows) -> AsyncIterator[bytes]:
    """A CSV file: UTF-8 with a byte order mark (so that Excel reads it as UTF-8), rows ended by
    a line feed (as COPY ends them; Excel, WPS and LibreOffice read them), a header row first;
    bytes a batch of rows at a time."""
    yield _csv_head(headers)
    buffer = io.StringIO()
    writer = _csv_writer(buffer)
    pending = 0
    # The exact type's writer, looked up inline (a function call less per cell: a ledger
    # writes millions); a subclass goes the long way round.
    by_type = _CSV_BY_TYPE.get
    async for row in _each(rows):
        writer.writerow([(by_type(type(value)) or _csv_cell)(value) for value in row])
        pending += 1
        if pending == BATCH_ROWS:
            yield _take(buffer)
            pending = 0
    if pending:
        yield _take(buffer)


def csv_lines(rows: Iterable[Sequence[Cell]]) -> list[str]:
    """Rows as lines of the CSV file, with their ends (``csv_written_chunks``)."""
    buffer = io.StringIO()
    writer = _csv_writer(buffer)
    by_type = _CSV_BY_TYPE.get
    lines = []
    for row in rows:
        writer.writerow([(by_type(type(value)) or _csv_cell)(value) for value in row])
        lines.append(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
    return lines


async def csv_written_chunks(
    headers: Sequence[str], lines: AsyncIterable[bytes]
) -> AsyncIterator[bytes]:
    """The CSV file of ``csv_chunks`` from rows written already: whole lines, each with its
    end, in UTF-8."""
    yield _csv_head(headers)
    async for data in lines:
        yield data


async def _each(rows: Rows) -> AsyncIterator[Sequence[Cell]]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


def _take(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


# --- XLSX -------------------------------------------------------------------------------------

# Excel reads _xHHHH_ in a string as an escaped character: a literal one is escaped in turn.
_EXCEL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")


def _text_xml(text: str) -> str:
    text = NOT_IN_XML.sub("", text[:MAX_CELL_CHARS])
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(r"_x005F_\1", text)
    # A carriage return as a reference: an XML reader turns a literal one into a line feed.
    # Line feeds, tabs and backslashes too: each row of the ledger's sheet is a line of COPY's
    # text format, which would escape them.
    return (
        escape(text)
        .replace("\r", "&#13;")
        .replace("\n", "&#10;")
        .replace("\t", "&#9;")
        .replace("\\", "&#92;")
    )


def text_xml(text: str) -> str:
    """A text cell's text as the sheet holds it: guarded (``neutralise``), cut to Excel's limit,
    without the characters XML forbids, Excel's own escapes escaped, and XML-escaped."""
    return _text_xml(neutralise(text))


# A cell's place is its place in its row, and a row's its place in the sheet: no cell or row
# names its reference (``r``, optional in SpreadsheetML), an empty cell is written as one, and
# a sheet's rows can be written by parts that do not know each other's lengths (the ledger's
# batches, read two at a time: app/stats/ledger_text.py). A fifth of the XML less, too.
EMPTY_CELL: Final = "<c/>"


def inline_string_xml(body: str, style: str = "") -> str:
    """A text cell: ``body`` is its text as ``text_xml`` writes it."""
    # xml:space="preserve": spaces at either end are part of the text.
    return f'<c t="inlineStr"{style}><is><t xml:space="preserve">{body}</t></is></c>'


def number_xml(number: str) -> str:
    return f"<c><v>{number}</v></c>"


def datetime_xml(serial: str) -> str:
    """A date and time cell: ``serial`` is the day number (``excel_serial``) as text."""
    return f'<c s="{DATETIME_STYLE}"><v>{serial}</v></c>'


def excel_serial(value: datetime) -> float:
    """Days since Excel's day 0 of ``value`` as a wall clock shows it (``wall_clock``)."""
    return (wall_clock(value) - EXCEL_EPOCH).total_seconds() / 86_400


def _inline_string(text: str, style: str = "") -> str:
    return inline_string_xml(text_xml(text), style)


def _cell_xml(value: Cell) -> str:
    if value is None:
        return EMPTY_CELL
    if isinstance(value, str):
        return _inline_string(value)
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        return datetime_xml(repr(excel_serial(value)))
    if isinstance(value, date):
        serial = (value - EXCEL_EPOCH.date()).days
        return f'<c s="{DATE_STYLE}"><v>{serial}</v></c>'
    if isinstance(value, float) and not math.isfinite(value):
        return EMPTY_CELL  # a spreadsheet has no NaN or infinity: left empty
    return number_xml(str(value))


def row_xml(cells: str) -> str:
    """A row of the sheet: ``cells`` is its cells' XML."""
    return f"<row>{cells}</row>{ROW_END}"


def _row_xml(values: Sequence[Cell]) -> str:
    return row_xml("".join(_cell_xml(value) for value in values))


def xlsx_rows(rows: Iterable[Sequence[Cell]]) -> list[str]:
    """Rows as ``<row>`` elements of the sheet (``xlsx_written_chunks``)."""
    return [_row_xml(row) for row in rows]


def _sheet_head(headers: Sequence[str]) -> str:
    widths = "".join(
        f'<col min="{i}" max="{i}" width="{max(10, 2 * len(header) + 4)}" customWidth="1"/>'
        for i, header in enumerate(headers, start=1)
    )
    bold = f' s="{HEADER_STYLE}"'
    header_cells = "".join(_inline_string(header, bold) for header in headers)
    return (
        XML_DECLARATION + f'<worksheet {SPREADSHEET_NS} xmlns:r="{RELATIONSHIPS_NS}"><sheetViews>'
        '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
        ' state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{widths}</cols><sheetData><row>{header_cells}</row>"
    )


def xlsx_chunks(sheet_name: str, headers: Sequence[str], rows: Rows) -> AsyncIterator[bytes]:
    """An Excel workbook of one sheet: the headers (bold, frozen) and the rows; bytes a batch
    of rows at a time."""
    return _workbook_chunks(sheet_name, headers, _sheet_rows(rows))


def xlsx_written_chunks(
    sheet_name: str, headers: Sequence[str], rows: AsyncIterable[bytes]
) -> AsyncIterator[bytes]:
    """The workbook of ``xlsx_chunks`` from rows written already: whole ``<row>`` elements of
    the sheet's XML in UTF-8, in order, after the headers' row."""
    return _workbook_chunks(sheet_name, headers, rows)


async def _sheet_rows(rows: Rows) -> AsyncIterator[bytes]:
    """The rows' XML, BATCH_ROWS rows at a time."""
    batch: list[str] = []
    async for row in _each(rows):
        batch.append(_row_xml(row))
        if len(batch) == BATCH_ROWS:
            yield "".join(batch).encode()
            batch.clear()
    if batch:
        yield "".join(batch).encode()


async def _workbook_chunks(
    sheet_name: str, headers: Sequence[str], sheet_rows: AsyncIterable[bytes]
) -> AsyncIterator[bytes]:
    sink = Drain()
    with zipfile.ZipFile(
        sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=SHEET_COMPRESSION
    ) as archive:
        write_fixed_parts(archive, sheet_name)
        with archive.open(SHEET_PART, "w") as sheet:
            sheet.write(_sheet_head(headers).encode())
            async for xml in sheet_rows:
                # In a thread: zlib lets go of the interpreter lock while it compresses, and
                # the event loop reads the next rows meanwhile.
                await asyncio.to_thread(sheet.write, xml)
                yield sink.take()
            sheet.write(b"</sheetData></worksheet>")
    yield sink.take()
