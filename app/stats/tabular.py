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

import csv
import io
import math
import re
import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from app.core.workcalendar import CHINA_TZ

UTF8_BOM = "\ufeff".encode()
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows written between two drains of the output: a few hundred kilobytes at most.
BATCH_ROWS = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel's limits: the characters of one cell, and a sheet's name.
MAX_CELL_CHARS = 32_767
MAX_SHEET_NAME = 31
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


async def csv_chunks(headers: Sequence[str], rows: Rows) -> AsyncIterator[bytes]:
    """A CSV file: UTF-8 with a byte order mark (so that Excel reads it as UTF-8), rows ended by
    CRLF (RFC 4180), a header row first; bytes a batch of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(header) for header in headers])
    yield UTF8_BOM + _take(buffer)
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

# Characters XML 1.0 does not allow at all (a file holding one does not open).
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Excel reads _xHHHH_ in a string as an escaped character: a literal one is escaped in turn.
_EXCEL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")
# Cell styles, by their index in styles.xml's cellXfs.
_HEADER_STYLE = 1
_DATETIME_STYLE = 2
_DATE_STYLE = 3

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = (
    _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
    '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml'
    '.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
)
_ROOT_RELS = (
    _XML + f'<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
    f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    _XML + f'<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>'
)
_STYLES = (
    _XML + f"<styleSheet {_NS}>"
    f'<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    f'<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)


def _workbook(sheet_name: str) -> str:
    name = escape(sheet_name, {'"': "&quot;"})
    return (
        _XML + f'<workbook {_NS} xmlns:r="{_REL_NS}"><sheets>'
        f'<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def sheet_title(name: str) -> str:
    """A name Excel accepts for a sheet: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", _NOT_IN_XML.sub("", name)).strip("'").strip()
    return cleaned[:MAX_SHEET_NAME] or "Sheet1"


def column_letters(count: int) -> list[str]:
    """A, B, …, Z, AA, AB, …: the names of the first ``count`` columns."""
    names = []
    for number in range(1, count + 1):
        name = ""
        while number:
            number, rest = divmod(number - 1, 26)
            name = chr(ord("A") + rest) + name
        names.append(name)
    return names


def _text_xml(text: str) -> str:
    text = _NOT_IN_XML.sub("", text[:MAX_CELL_CHARS])
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(r"_x005F_\1", text)
    # A carriage return as a reference: an XML reader turns a literal one into a line feed.
    return escape(text).replace("\r", "&#13;")


def _inline_string(ref: str, text: str, style: str = "") -> str:
    # xml:space="preserve": spaces at either end are part of the text.
    body = _text_xml(neutralise(text))
    return f'<c r="{ref}" t="inlineStr"{style}><is><t xml:space="preserve">{body}</t></is></c>'


def _serial(value: datetime) -> float:
    return (value - EXCEL_EPOCH).total_seconds() / 86_400


def _cell_xml(ref: str, value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _inline_string(ref, value)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        return f'<c r="{ref}" s="{_DATETIME_STYLE}"><v>{_serial(wall_clock(value))!r}</v></c>'
    if isinstance(value, date):
        serial = (value - EXCEL_EPOCH.date()).days
        return f'<c r="{ref}" s="{_DATE_STYLE}"><v>{serial}</v></c>'
    if isinstance(value, float) and not math.isfinite(value):
        return ""  # a spreadsheet has no NaN or infinity: left empty
    return f'<c r="{ref}"><v>{value}</v></c>'


def _row_xml(number: int, letters: Sequence[str], values: Sequence[Cell]) -> str:
    cells = "".join(
        _cell_xml(f"{col}{number}", value) for col, value in zip(letters, values, strict=True)
    )
    return f'<row r="{number}">{cells}</row>'


def _sheet_head(headers: Sequence[str], letters: Sequence[str]) -> str:
    widths = "".join(
        f'<col min="{i}" max="{i}" width="{max(10, 2 * len(header) + 4)}" customWidth="1"/>'
        for i, header in enumerate(headers, start=1)
    )
    bold = f' s="{_HEADER_STYLE}"'
    header_cells = "".join(
        _inline_string(f"{col}1", header, bold)
        for col, header in zip(letters, headers, strict=True)
    )
    return (
        _XML + f'<worksheet {_NS} xmlns:r="{_REL_NS}"><sheetViews>'
        '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
        ' state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        f'<cols>{widths}</cols><sheetData><row r="1">{header_cells}</row>'
    )


class _Drain:
    """Where the zip is written: bytes kept until taken. It cannot seek, so zipfile writes
    each entry's sizes after its data instead of going back for them."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


async def xlsx_chunks(sheet_name: str, headers: Sequence[str], rows: Rows) -> AsyncIterator[bytes]:
    """An Excel workbook of one sheet: the headers (bold, frozen) and the rows; bytes a batch
    of rows at a time."""
    sink = _Drain()
    letters = column_letters(len(headers))
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(sheet_title(sheet_name)))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_sheet_head(headers, letters).encode())
            batch: list[str] = []
            number = 1
            async for row in _each(rows):
                number += 1
                batch.append(_row_xml(number, letters, row))
                if len(batch) == BATCH_ROWS:
                    sheet.write("".join(batch).encode())
                    batch.clear()
                    yield sink.take()
            sheet.write(("".join(batch) + "</sheetData></worksheet>").encode())
    yield sink.take()
