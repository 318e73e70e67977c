"""A database that cannot serve at all: unreachable, refusing connections, missing, out of
connections, starting or stopping, or not migrated yet.

Every request that needs it gets the same answer, 503 ``database_unavailable`` with
``Retry-After``, while ``/readyz`` says why; not a 500 with a stack trace per call. The failures
are recognised where they happen, on the app's engine (``watch_for_unavailability``), and become
one typed domain error that the one error handler renders. Errors of a statement itself (a
constraint, a deadlock, a bad value) are left alone: they are the request's, not the database's.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.errors import DomainError

log = logging.getLogger("app.db")

# Long enough for a restarting database or a running migration, short enough for a phone's retry.
RETRY_AFTER_SECONDS = 5
# One warning in the log per this many seconds, not one per request of an outage.
LOG_EVERY_SECONDS = 10.0

NOT_MIGRATED = "the database is not migrated to this version of the application"
# PostgreSQL's SQLSTATEs that mean the database cannot serve this process at all.
UNAVAILABLE_SQLSTATES = {
    "3D000": "the database does not exist",
    "28000": "the database refused the credentials",
    "28P01": "the database refused the credentials",
    "53300": "the database has no connection left",
    "57P01": "the database is shutting down",
    "57P02": "the database is restarting after a crash",
    "57P03": "the database is starting up",
    "25006": "the database is read-only (a standby after a failover)",
    # A table or column the application needs is missing: the schema is older than the code
    # (a replica started before its migration ran). /readyz reports the same.
    "42P01": NOT_MIGRATED,
    "42703": NOT_MIGRATED,
}
UNAVAILABLE_SQLITE_ERRORS = {
    "SQLITE_CANTOPEN": "the database file cannot be opened",
    "SQLITE_NOTADB": "the database file is not a database",
}
SQLITE_NOT_MIGRATED_MESSAGES = ("no such table", "no such column")


class DatabaseUnavailable(DomainError):
    status_code, code, title = 503, "database_unavailable", "Service unavailable"

    def __init__(self, reason: str) -> None:
        # The reason is for the log and the operator (see /readyz); the caller only needs to
        # know that it is temporary and when to try again.
        super().__init__(
            "The service cannot reach its database just now; try again in a few seconds.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        self.reason = reason

    def __str__(self) -> str:
        return f"database unavailable: {self.reason}"


def unavailability(error: BaseException) -> str | None:
    """Why ``error`` (a driver's exception) means the database cannot serve, or None when it
    is an error of the statement."""
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        if sqlstate.startswith("08"):  # connection exception: refused, lost, protocol
            return "the connection to the database failed"
        return UNAVAILABLE_SQLSTATES.get(sqlstate)
    if isinstance(error, sqlite3.Error):
        known = UNAVAILABLE_SQLITE_ERRORS.get(getattr(error, "sqlite_errorname", ""))
        if known is not None:
            return known
        if str(error).startswith(SQLITE_NOT_MIGRATED_MESSAGES):
            return NOT_MIGRATED
    return None


class _Reporter:
    """Logs why the database is unavailable, at most once per LOG_EVERY_SECONDS."""

    def __init__(self) -> None:
        self._last = -LOG_EVERY_SECONDS

    def __call__(self, reason: str, error: BaseException) -> DatabaseUnavailable:
        now = time.monotonic()
        if now - self._last >= LOG_EVERY_SECONDS:
            self._last = now
            log.warning("database unavailable (%s): %s: %s", reason, type(error).__name__, error)
        return DatabaseUnavailable(reason)


def watch_for_unavailability(engine: AsyncEngine) -> None:
    """Make connection-level failures of ``engine`` raise ``DatabaseUnavailable`` (chained to
    the driver's error)."""
    report = _Reporter()

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except OSError as error:
            # Refused, no route, unknown host, timed out: no database answered at all. The
            # driver raises these as they are, not as database errors.
            raise report("cannot connect to the database", error) from error

    @event.listens_for(engine.sync_engine, "handle_error")
    def _classify(context: ExceptionContext) -> BaseException | None:
        if context.is_pre_ping:  # the pool reconnects by itself; let it
            return None
        error = context.original_exception
        if isinstance(error, asyncio.CancelledError):
            # A task cancelled in the middle of a statement (a client gone): the database is
            # not at fault, and the cancellation must reach the task's owner as it is.
            return None
        reason = unavailability(error)
        if reason is None and context.is_disconnect:
            reason = "the connection to the database was lost"
        return report(reason, error) if reason is not None else None
