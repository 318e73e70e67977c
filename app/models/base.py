"""Declarative base, the naming convention for constraints, and shared column types."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from sqlalchemy import ColumnElement, DateTime, Index, MetaData, Uuid, literal_column, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.models.ids import new_id

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back time-zone aware.

    SQLite keeps no zone, so naive values from it are UTC by construction."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # asyncpg reads timestamptz as aware datetimes in UTC already: no call per value (a
        # page of reports reads some 1,500 timestamps).
        if dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class UUIDPrimaryKey:
    # Time-ordered (UUIDv7): rows written together sit together in the key's index.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class CaseRowId:
    """The id of a row that hangs off a case; its key is ``case_row_key()``, the id with the
    case's (app/models/partitioning.py)."""

    id: Mapped[uuid.UUID] = mapped_column(default=new_id)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _status_sql(running: Iterable[str]) -> str:
    statuses = sorted(running)
    if len(statuses) == 1:
        return f"status = '{statuses[0]}'"
    return "status IN ({})".format(", ".join(f"'{status}'" for status in statuses))


def status_among(column: Any, running: Iterable[str]) -> ColumnElement[bool]:
    """``column`` among the statuses, with the values written into the statement (sorted, as
    the partial index below has them): PostgreSQL uses a partial index only where it can
    prove the query implies its predicate, which a bound parameter never does in a prepared
    statement's generic plan. Written in at compile time, they also spare each execution the
    rewriting of the statement that an IN list of parameters costs."""
    statuses = sorted(running)
    for status in statuses:
        if not status.replace("_", "").isalnum():
            raise ValueError(f"not a status: {status!r}")
    constants: list[ColumnElement[str]] = [literal_column(f"'{status}'") for status in statuses]
    if len(constants) == 1:
        return cast(ColumnElement[bool], column == constants[0])
    return cast(ColumnElement[bool], column.in_(constants))


def open_index(name: str, *columns: str, open_statuses: Iterable[str]) -> Index:
    """A partial index of the open reports, for the reads that only look at those (nearby,
    "already reported?"): a twentieth of the table. Queries use ``status_among``."""
    status = _status_sql(open_statuses)
    return Index(name, *columns, postgresql_where=text(status), sqlite_where=text(status))
