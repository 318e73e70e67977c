"""The ledger's rows as the file's text, a batch at a time: on PostgreSQL written by the
database (app/stats/ledger_sql.py), with the reporter's two cells put in by Python as ``People``
shows them to the caller; elsewhere (SQLite) written a cell at a time in Python, to the same
text. Either way the batches are by key, oldest first, each read in a short transaction of its
own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.sql import settings_for_the_block
from app.stats.ledger import BATCH_SIZE, LedgerQuery, People, ledger_batches
from app.stats.ledger_sql import (
    LETTERS,
    NAME_LETTER,
    PEOPLE_KEY,
    PHONE_LETTER,
    FileFormat,
    text_statement,
)
from app.stats.tabular import (
    BATCH_ROWS,
    csv_fields,
    csv_lines,
    inline_string_xml,
    text_xml,
    xlsx_rows,
)

# Cases read a batch. Each batch's statement is planned anew (for its values, see
# ledger_batches), some 15 ms at a time over the months of cases and of jobs; two batches are
# held at a time, some 25 MB of the sheet's rows each.
TEXT_BATCH_SIZE = 5_000
# A batch's transaction: its statement planned for its values (as ledger_batches's), and the
# memory to sort and join a batch's rows without temporary files (bench/stats.py gives its
# hand SQL as much).
_BATCH_SETTINGS: Final = {"plan_cache_mode": "force_custom_plan", "work_mem": "64MB"}


Shown = tuple[str | None, str | None]  # the reporter's name and phone number, or None


@dataclass(frozen=True)
class WrittenRows:
    """Rows of the file, each ended, in UTF-8 (``csv_written_chunks``, ``xlsx_written_chunks``
    of app/stats/tabular.py write them out)."""

    data: bytes
    rows: int


class _PeopleCells:
    """The reporter's two cells of each row as the file has them, in UTF-8, written once for
    each reporter, case's place and source (what ``People`` decides by)."""

    def __init__(self, people: People, file_format: FileFormat) -> None:
        self.people = people
        self._lines: dict[tuple[Any, ...], bytes] = {}
        self._shown_lines: dict[Shown, bytes] = {}
        self._texts: dict[tuple[Any, ...], Shown] = {}
        self.write = self._in_a_line if file_format == "csv" else self._in_a_row

    def _in_a_line(self, row: Any) -> bytes:
        line = self._lines.get(key := row[PEOPLE_KEY])
        if line is None:
            shown = self.people.cells(row)
            line = self._shown_lines.get(shown)
            if line is None:
                line = self._shown_lines[shown] = csv_fields(shown).encode()
            self._lines[key] = line
        return line

    def _in_a_row(self, row: Any) -> bytes:
        texts = self._texts.get(key := row[PEOPLE_KEY])
        if texts is None:
            name, phone = (
                None if cell is None else text_xml(cell) for cell in self.people.cells(row)
            )
            texts = self._texts[key] = (name, phone)
        name, phone = texts
        number = row.row_number
        return (
            ("" if name is None else inline_string_xml(f"{NAME_LETTER}{number}", name))
            + ("" if phone is None else inline_string_xml(f"{PHONE_LETTER}{number}", phone))
        ).encode()


def written_by_the_database(session: AsyncSession) -> bool:
    """Whether the rows' text is PostgreSQL's to write (SQLite has none of its functions)."""
    return session.get_bind().dialect.name == "postgresql"


async def ledger_text_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    *,
    batch_size: int | None = None,
) -> AsyncIterator[WrittenRows]:
    """The ledger's rows as the file's text (``csv_written_chunks``, ``xlsx_written_chunks``
    of app/stats/tabular.py write them out), a few hundred rows at a time; read ``batch_size``
    at a time (TEXT_BATCH_SIZE, or BATCH_SIZE where Python writes them), each batch in a
    session of its own, closed before the batch is handed on."""
    async with sessionmaker() as session:
        by_the_database = written_by_the_database(session)
    if by_the_database:
        size = batch_size or TEXT_BATCH_SIZE
        batches = _written_by_the_database(sessionmaker, query, file_format, size)
    else:
        batches = _written_in_python(sessionmaker, query, file_format, batch_size or BATCH_SIZE)
    async for batch in batches:
        yield batch


async def _written_by_the_database(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    batch_size: int,
) -> AsyncIterator[WrittenRows]:
    """Each batch is read while the one before is written out: PostgreSQL writes the next
    rows' text on one core while this process sends the last ones on the other. At most two
    batches are held, and a connection only while a batch is read."""
    people = _PeopleCells(People(query.principal), file_format)
    written = 1  # the headers' row
    reading = asyncio.ensure_future(
        _read(sessionmaker, query, file_format, None, written, batch_size)
    )
    try:
        while True:
            rows = await reading
            written += len(rows)
            more = len(rows) == batch_size
            if more:
                last = rows[-1]
                reading = asyncio.ensure_future(
                    _read(sessionmaker, query, file_format, last, written, batch_size)
                )
            for start in range(0, len(rows), BATCH_ROWS):
                part = rows[start : start + BATCH_ROWS]
                data = b"".join([row[0] + people.write(row) + row[1] for row in part])
                yield WrittenRows(data, len(part))
                # The reading of the next batch goes on: its round trips need the event loop,
                # which a writer that never waits (a fast client's) would otherwise not hand.
                await asyncio.sleep(0)
            if not more:
                return
    finally:
        if not reading.done():  # the download was given up
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading


async def _read(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    last: Any,
    written: int,
    batch_size: int,
) -> Sequence[Any]:
    """The batch after ``last`` (None: the first), its rows numbered after ``written``."""
    async with sessionmaker() as session, settings_for_the_block(session, _BATCH_SETTINGS):
        statement = text_statement(session, query, last, batch_size, file_format)
        # Core rows: an ORM result would load each row through the ORM's machinery.
        connection = await session.connection()
        result = await connection.execute(statement, {"ledger_rows_before": written})
        return result.all()


async def _written_in_python(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    batch_size: int,
) -> AsyncIterator[WrittenRows]:
    written = 1  # the headers' row
    async for batch in ledger_batches(sessionmaker, query, batch_size=batch_size):
        lines = csv_lines(batch) if file_format == "csv" else xlsx_rows(written + 1, LETTERS, batch)
        yield WrittenRows("".join(lines).encode(), len(lines))
        written += len(batch)
