"""The cells of app/stats/tabular.py written by PostgreSQL: SQL expressions that make of a column
the very text that tabular.py's CSV writer (before quoting: COPY quotes as it does) or .xlsx
writer would write for its value.

A table too big to write a cell at a time in Python (the ledger: app/stats/ledger_sql.py) has
the database write each row's text, and Python only joins the rows. The rules are tabular.py's,
said again in SQL: text guarded against formulas (``neutralise``); in CSV, an empty text NULL
(COPY quotes the rest as the csv module does); in the sheet, cut to Excel's limit, rid of the
characters XML forbids, Excel's own escapes escaped, XML-escaped, and an empty cell written
empty. The markup around a value is tabular.py's own, cut around it; a code's label is written
by tabular.py once, when the statement is built. The two writers' files are held equal byte for
byte (tests/stats/test_ledger_sql.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Final

from app.core.sql import sql_string
from app.core.workcalendar import CHINA_TZ
from app.stats.tabular import (
    EMPTY_CELL,
    EXCEL_EPOCH,
    FORMULA_STARTS,
    MAX_CELL_CHARS,
    datetime_xml,
    inline_string_xml,
    neutralise,
    number_xml,
    text_xml,
)


class Kind(Enum):
    TEXT = "text"  # text (or a code shown as its label)
    INTEGER = "integer"
    FLOAT = "float"  # double precision
    MOMENT = "moment"  # timestamp with time zone


@dataclass(frozen=True)
class SqlColumn:
    """A column of a table as the statement has it: the SQL of its value and what it is. A
    code shown as a label has the labels by code; one without a label is an empty cell."""

    sql: str
    kind: Kind = Kind.TEXT
    labels: Mapping[str, str] | None = None


# China's wall clock as tabular.wall_clock reads it: a fixed offset, as CHINA_TZ is (a zone's
# name would bring in the summer times of 1986–1991).
_OFFSET = CHINA_TZ.utcoffset(None) or timedelta()
_OFFSET_SECONDS: Final = int(_OFFSET.total_seconds())
_CHINA_CLOCK: Final = f"INTERVAL '{_OFFSET_SECONDS} seconds'"
# By their code points: ascii() reads a text's first one without making a new text.
_GUARD_STARTS: Final = ", ".join(str(ord(start)) for start in FORMULA_STARTS)
# What _text_xml changes in a text: the characters XML forbids (NUL aside: PostgreSQL's text
# never holds it), _xHHHH_, the XML specials and the carriage return. A text with none of these
# is written as it is, which is most of them: one scan instead of six.
_NOT_IN_XML: Final = sql_string("[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]")
_EXCEL_ESCAPE: Final = sql_string("_(x[0-9A-Fa-f]{4}_)")
_XML_WORK: Final = sql_string("[\\x01-\\x1f&<>\\\\\\ufffe\\uffff]|_x")
# The most arguments a PostgreSQL function takes (FUNC_MAX_ARGS).
_MOST_ARGUMENTS: Final = 100
# Seconds from Excel's day 0 to 1970-01-01, the epoch PostgreSQL counts from.
_EXCEL_EPOCH_SECONDS: Final = int(
    (EXCEL_EPOCH.replace(year=1970, month=1, day=1) - EXCEL_EPOCH).total_seconds()
)


def _guard(value: str) -> str:
    """The apostrophe ``neutralise`` puts before a text that starts like a formula, or ''."""
    return f"(CASE WHEN ascii({value}) IN ({_GUARD_STARTS}) THEN '''' ELSE '' END)"


def _xml_text(value: str) -> str:
    """The text as ``text_xml`` writes it (NULL for NULL)."""
    cut = f"left({_guard(value)} || {value}, {MAX_CELL_CHARS})"
    cleaned = f"regexp_replace({cut}, {_NOT_IN_XML}, '', 'g')"
    unescaped = f"regexp_replace({cleaned}, {_EXCEL_ESCAPE}, '_x005F_\\1', 'g')"
    escaped = unescaped
    for special, reference in (
        ("&", "&amp;"),
        (">", "&gt;"),
        ("<", "&lt;"),
        ("\r", "&#13;"),
        ("\n", "&#10;"),
        ("\t", "&#9;"),
        ("\\", "&#92;"),
    ):
        escaped = f"replace({escaped}, {sql_string(special)}, {sql_string(reference)})"
    return f"CASE WHEN {value} ~ {_XML_WORK} THEN {escaped} ELSE {cut} END"


def float_text(value: str) -> str:
    """What ``repr`` writes of a double (the CSV writer's text of a float, and the sheet's),
    NULL for NaN and the infinities, which both writers leave empty. PostgreSQL's text of a
    double has the same digits as Python's (each is the shortest that reads back as the same
    double; extra_float_digits at its default, 1); the two differ in form only: Python writes a
    whole number with ".0", and a number from 1e15 to 1e16 without an exponent."""
    digits = f"replace(split_part(ltrim({value}::text, '-'), 'e', 1), '.', '')"
    without_exponent = (
        f"(CASE WHEN {value} < 0 THEN '-' ELSE '' END) || CASE WHEN length({digits}) > 16 "
        f"THEN left({digits}, 16) || '.' || substr({digits}, 17) "
        f"ELSE rpad({digits}, 16, '0') || '.0' END"
    )
    return (
        f"CASE WHEN {value} IN ('NaN', 'Infinity', '-Infinity') THEN NULL "
        f"WHEN abs({value}) < 1e15 THEN CASE WHEN {value} = trunc({value}) "
        f"THEN {value}::text || '.0' ELSE {value}::text END "
        f"WHEN abs({value}) >= 1e16 THEN {value}::text "
        f"ELSE {without_exponent} END"
    )


def serial_text(serial: str) -> str:
    """``float_text`` of a date's serial number (``excel_serial``), in fewer steps: a date of the
    years 1425–2514 has a serial far from NaN, the infinities and 1e15, so only a whole number's
    ".0" differs between PostgreSQL's text and Python's (a sheet writes 7 dates a row)."""
    return (
        f"CASE WHEN {serial} = trunc({serial}) THEN {serial}::text || '.0' ELSE {serial}::text END"
    )


def china_wall_clock(moment: str) -> str:
    """A timestamp with time zone as China's wall clock (a timestamp without one)."""
    return f"({moment} AT TIME ZONE {_CHINA_CLOCK})"


def excel_serial(moment: str) -> str:
    """``tabular.excel_serial`` in SQL: the whole seconds of China's wall clock since Excel's
    day 0, then divided by 86,400 as doubles, as Python divides them. The seconds since 1970
    are the moment's microseconds divided by a million as a double (``date_part``), rounded
    down. That is exact between the years 1425 and 2514 (2^34 seconds either side of 1970):
    there the double is within half a millionth of a second of the true quotient, and a
    fraction of a second ends at least a millionth short of the next second."""
    seconds = f"floor(date_part('epoch', {moment}))"
    return f"(({seconds} + {_EXCEL_EPOCH_SECONDS + _OFFSET_SECONDS}) / 86400)"


def _labelled(column: SqlColumn, write: Callable[[str], str]) -> str:
    assert column.labels is not None
    cases = " ".join(
        f"WHEN {sql_string(code)} THEN {sql_string(write(label))}"
        for code, label in column.labels.items()
    )
    return f"CASE {column.sql} {cases} END"


def csv_value(column: SqlColumn) -> str:
    """The cell's text as the CSV writer writes it before quoting it (COPY quotes it as the csv
    module does), NULL for an empty cell: COPY writes NULL as nothing and an empty text as
    two quotes."""
    if column.labels is not None:
        return _labelled(column, neutralise)
    if column.kind is Kind.TEXT:
        return f"nullif({_guard(column.sql)} || {column.sql}, '')"
    if column.kind is Kind.INTEGER:
        return f"{column.sql}::text"
    if column.kind is Kind.FLOAT:
        return float_text(column.sql)
    return f"to_char({china_wall_clock(column.sql)}, 'YYYY-MM-DD HH24:MI:SS')"


def _around(write: Callable[[str], str], value_sql: str) -> str:
    """tabular.py's markup of a cell (``write(value)``) around the SQL of the value; an empty
    cell where the value is NULL."""
    before, after = write("\0").split("\0")
    return (
        f"coalesce({sql_string(before)} || {value_sql} || {sql_string(after)},"
        f" {sql_string(EMPTY_CELL)})"
    )


def xlsx_cell(column: SqlColumn, serial: str | None = None) -> str:
    """The cell as the .xlsx writer writes it (SQL): a moment's ``serial`` is the SQL of its
    ``excel_serial``, worked out once (it is read three times)."""
    if column.labels is not None:
        return _around(inline_string_xml, _labelled(column, text_xml))
    if column.kind is Kind.TEXT:
        return _around(inline_string_xml, _xml_text(column.sql))
    if column.kind is Kind.INTEGER:
        return _around(number_xml, f"{column.sql}::text")
    if column.kind is Kind.FLOAT:
        return _around(number_xml, float_text(column.sql))
    return _around(datetime_xml, serial_text(serial or excel_serial(column.sql)))


def joined(parts: Sequence[str]) -> str:
    """The SQL of the parts' texts one after the other (none of them NULL), in one ``concat``.
    A chain of ``||`` copies the text made so far at each step: for a row of the sheet (some
    thirty parts, 1.4 kB) that copying cost PostgreSQL more than writing the cells."""
    assert len(parts) <= _MOST_ARGUMENTS
    return f"concat({', '.join(parts)})"
