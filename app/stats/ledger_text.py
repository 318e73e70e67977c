"""The ledger's rows as the file's text, a batch at a time: on PostgreSQL written by the
database's ``COPY`` (app/stats/ledger_sql.py); elsewhere (SQLite) written a cell at a time in
Python, to the same text. Either way the batches are by key, oldest first, each read in a short
transaction of its own."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.sql import settings_for_the_block
from app.stats.ledger import BATCH_SIZE, LedgerQuery, batch_end_statement, ledger_batches
from app.stats.ledger_sql import BatchEnd, FileFormat, copy_statement
from app.stats.tabular import csv_lines, xlsx_rows

# Cases read a batch, by format. Each batch's statement is planned anew, some 10 ms at a time
# over the months of cases and of jobs, and sorts its rows; three batches are held at a time,
# as bytes: some 17 MB of CSV each, or 12 MB of the sheet's rows.
TEXT_BATCH_SIZE: Final[dict[FileFormat, int]] = {"csv": 50_000, "xlsx": 10_000}
# Batches read side by side: PostgreSQL writes each one's text on a core of its own.
READ_AT_ONCE: Final = 2
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
    """READ_AT_ONCE batches are read side by side while the one before them is written out:
    PostgreSQL writes their rows' text on two cores, and this process sends the rows before.
    Each batch but the last is read through the keys where it ends (``batch_end_statement``,
    found first): the cases up to them, whatever was filed or removed meanwhile, so that the
    batches meet with no case missed or read twice. The last one (fewer than ``batch_size``
    cases were left) is read as a page; should it be whole (cases filed meanwhile), more
    batches follow after it."""
    reading: collections.deque[asyncio.Future[tuple[bytes, BatchEnd]]] = collections.deque()
    after: Any = None  # where the next batch starts (None: at the beginning)
    all_started = False

    async def start_more() -> None:
        nonlocal after, all_started
        while not all_started and len(reading) < READ_AT_ONCE:
            through = await _batch_end(sessionmaker, query, after, batch_size)
            batch = _copied(sessionmaker, query, file_format, after, through, batch_size)
            reading.append(asyncio.ensure_future(batch))
            if through is None:
                all_started = True
            else:
                after = through

    try:
        await start_more()
        while reading:
            data, end = await reading.popleft()
            if not reading and all_started and end.rows == batch_size:
                all_started, after = False, end  # the last page was whole: more may follow
            await start_more()
            handed = 0
            for start in range(0, len(data), _PIECE_BYTES):
                piece = data[start : start + _PIECE_BYTES]
                rows = end.rows * (start + len(piece)) // len(data) - handed
                handed += rows
                yield WrittenRows(piece, rows)
                # The reading of the next batches goes on: their round trips need the event
                # loop, which a writer that never waits (a fast client's) would otherwise not
                # hand.
                await asyncio.sleep(0)
    finally:
        for batch in reading:  # the download was given up
            batch.cancel()
        for batch in reading:
            with contextlib.suppress(asyncio.CancelledError):
                await batch


async def _batch_end(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    last: Any,
    batch_size: int,
) -> Any:
    """The keys where the whole batch after ``last`` ends, or None: fewer cases are left."""
    async with sessionmaker() as session, settings_for_the_block(session, _BATCH_SETTINGS):
        statement = batch_end_statement(session, query, last, batch_size)
        return (await session.execute(statement)).one_or_none()


async def _copied(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: LedgerQuery,
    file_format: FileFormat,
    last: Any,
    through: Any,
    batch_size: int,
) -> tuple[bytes, BatchEnd]:
    """The batch after ``last`` (None: the first), through the keys ``through`` or
    ``batch_size`` cases, as COPY writes it; and where it ended (its last line, cut off)."""
    chunks: list[bytes] = []

    async def keep(chunk: bytes) -> None:
        chunks.append(chunk)

    async with sessionmaker() as session, settings_for_the_block(session, _BATCH_SETTINGS):
        statement = copy_statement(session, query, last, batch_size, file_format, through)
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
    async for batch in ledger_batches(sessionmaker, query, batch_size=batch_size):
        lines = csv_lines(batch) if file_format == "csv" else xlsx_rows(batch)
        yield WrittenRows("".join(lines).encode(), len(lines))
