"""The ledger's rows as the file's text, a batch at a time: on PostgreSQL written by the
database's ``COPY`` (app/stats/ledger_sql.py); elsewhere (SQLite) written a cell at a time in
Python, to the same text. Either way the batches are by key, oldest first, each read in a short
transaction of its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.sql import settings_for_the_block
from app.stats.ledger import BATCH_SIZE, LedgerQuery, ledger_batches
from app.stats.ledger_sql import LETTERS, BatchEnd, FileFormat, copy_statement
from app.stats.tabular import csv_lines, xlsx_rows

# Cases read a batch, by format. Each batch's statement is planned anew, some 10 ms at a time
# over the months of cases and of jobs, and sorts its rows; two batches are held at a time, as
# bytes: some 17 MB of CSV, or 16 MB of the sheet's rows.
TEXT_BATCH_SIZE: Final[dict[FileFormat, int]] = {"csv": 50_000, "xlsx": 10_000}
# What is handed on at a time: a few hundred rows.
_PIECE_BYTES: Final = 256 * 1024
# A batch's transaction: the memory to sort and join a batch's rows without temporary files
# (bench/stats.py gives its hand SQL as much).
_BATCH_SETTINGS: Final = {"work_mem": "64MB"}
_COPY_FORMAT: Final[dict[FileFormat, str]] = {"csv": "csv", "xlsx": "text"}


@dataclass(frozen=True)
class WrittenRows:
    """Rows of the file, each ended, in UTF-8 (``csv_written_chunks``, ``xlsx_written_chunks``
    of app/stats/tabular.py write them out); ``rows``: how many (where a piece of a batch
    ends inside a row, about how many)."""

    data: bytes
    rows: int


def written_by_the_database(session: AsyncSession) -> bool:
    """Whether the rows' text is PostgreSQL's to write (SQLite has none of its functions)."""
    return session.get_bind().dialect.name == "postgresql"


async def ledger_text_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    *,
    batch_size: int | None = None,
) -> AsyncGenerator[WrittenRows, None]:
    """The ledger's rows as the file's text (``csv_written_chunks``, ``xlsx_written_chunks``
    of app/stats/tabular.py write them out), a few hundred rows at a time; read ``batch_size``
    at a time (TEXT_BATCH_SIZE, or BATCH_SIZE where Python writes them), each batch in a
    session of its own, closed before the batch is handed on."""
    async with sessionmaker() as session:
        by_the_database = written_by_the_database(session)
    if by_the_database:
        size = batch_size or TEXT_BATCH_SIZE[file_format]
        batches = _written_by_the_database(sessionmaker, query, file_format, size)
    else:
        batches = _written_in_python(sessionmaker, query, file_format, batch_size or BATCH_SIZE)
    # Closed with this generator: a download given up stops the batch being read at once.
    async with contextlib.aclosing(batches):
        async for batch in batches:
            yield batch


async def _written_by_the_database(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    batch_size: int,
) -> AsyncGenerator[WrittenRows, None]:
    """Each batch is read while the one before is written out: PostgreSQL writes the next
    rows' text on one core while this process sends the last ones on the other. At most two
    batches are held, and a connection only while a batch is read."""
    written = 1  # the headers' row
    reading = asyncio.ensure_future(
        _copied(sessionmaker, query, file_format, None, written, batch_size)
    )
    try:
        while True:
            data, end = await reading
            written += end.rows
            more = end.rows == batch_size
            if more:
                reading = asyncio.ensure_future(
                    _copied(sessionmaker, query, file_format, end, written, batch_size)
                )
            handed = 0
            for start in range(0, len(data), _PIECE_BYTES):
                piece = data[start : start + _PIECE_BYTES]
                rows = end.rows * (start + len(piece)) // len(data) - handed
                handed += rows
                yield WrittenRows(piece, rows)
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


async def _copied(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    last: BatchEnd | None,
    written: int,
    batch_size: int,
) -> tuple[bytes, BatchEnd]:
    """The batch after ``last`` (None: the first) as COPY writes it, its rows numbered after
    ``written``; and where it ended (its last line, cut off)."""
    chunks: list[bytes] = []

    async def keep(chunk: bytes) -> None:
        chunks.append(chunk)

    async with sessionmaker() as session, settings_for_the_block(session, _BATCH_SETTINGS):
        statement = copy_statement(session, query, last, batch_size, file_format, written)
        connection = await (await session.connection()).get_raw_connection()
        assert connection.driver_connection is not None  # (asyncpg's)
        await connection.driver_connection.copy_from_query(
            statement, output=keep, format=_COPY_FORMAT[file_format]
        )
    data = b"".join(chunks)
    chunks.clear()
    # The last line (the batch's end) has no line break in it: the one before ends the rows.
    cut = data.rfind(b"\n", 0, len(data) - 1) + 1
    return data[:cut], BatchEnd.read(data[cut:])


async def _written_in_python(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    batch_size: int,
) -> AsyncGenerator[WrittenRows, None]:
    written = 1  # the headers' row
    async for batch in ledger_batches(sessionmaker, query, batch_size=batch_size):
        lines = csv_lines(batch) if file_format == "csv" else xlsx_rows(written + 1, LETTERS, batch)
        yield WrittenRows("".join(lines).encode(), len(lines))
        written += len(batch)
