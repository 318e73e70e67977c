"""Cursor (keyset) pagination: ``?limit=&cursor=`` → ``{items, next_cursor}``.

The cursor is the sort key of the last row served, so pages stay stable while rows are added,
and a page costs one index range scan however deep it is.

A cursor is signed (HMAC-SHA256 with a key derived from the secret key) over its values and the
list it belongs to: the endpoint, its path parameters, the filters of its query and its sort.
Anything else (garbage, a cut or edited cursor, one from another list or other filters, one
signed with an older key) is refused with 422 ``invalid_cursor`` before it reaches a query."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    Select,
    TypeDecorator,
    and_,
    literal,
    or_,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeEngine

from app.core.errors import FieldError, ValidationFailed
from app.core.pruning import KeyFollowsTime, prunes
from app.core.sql import settings_for_the_block

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# 128 bits of the HMAC: forging one is out of reach, and the cursor stays short.
SIGNATURE_BYTES = 16
# Room for a sort key of a few hundred characters of Chinese (three bytes each in UTF-8).
MAX_CURSOR_LENGTH = 2048
PAGING_PARAMETERS = frozenset({"limit", "cursor"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class InvalidCursor(ValidationFailed):
    code, title = "invalid_cursor", "Invalid cursor"

    def __init__(self) -> None:
        message = (
            "the cursor was not made by this list with these filters (or has expired); "
            "start again from the first page"
        )
        super().__init__(message, errors=[FieldError(loc=["query", "cursor"], msg=message)])


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None
    # The list a cursor belongs to (endpoint, path parameters, filters), signed into it.
    list_identity: str
    signing_key: bytes


@lru_cache(maxsize=8)
def cursor_signing_key(secret_key: str) -> bytes:
    """A key of its own, so that a cursor can never pass for a token signed with the secret."""
    return hmac.new(secret_key.encode(), b"suishoupai cursor v1", hashlib.sha256).digest()


def _query_names(dependant: Dependant) -> set[str]:
    names = {str(field.alias) for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names


def _declared_filters(route: Any) -> set[str]:
    """The query parameters the endpoint reads (its filters); others a client adds, such as a
    cache buster, do not belong to the list. A walk over a dozen dependencies: not cached."""
    dependant = getattr(route, "dependant", None)
    return _query_names(dependant) - PAGING_PARAMETERS if dependant is not None else set()


def list_identity(request: Request) -> str:
    """The list a request reads: its path as sent (path parameters included) and its filters."""
    filters = _declared_filters(request.scope.get("route"))
    return json.dumps(
        [
            request.method,
            request.url.path,
            sorted((k, v) for k, v in request.query_params.multi_items() if k in filters),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


async def page_params(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_LENGTH,
            description=(
                "`next_cursor` of the previous page, with the same path and filters "
                "(422 `invalid_cursor` otherwise)"
            ),
        ),
    ] = None,
) -> PageParams:
    return PageParams(
        limit=limit,
        cursor=cursor,
        list_identity=list_identity(request),
        signing_key=cursor_signing_key(request.app.state.settings.secret_key),
    )


@dataclass(frozen=True)
class SortKey:
    column: InstrumentedAttribute[Any]
    descending: bool = False
    # A time key a partition key follows: a cursor then also bounds the partition key.
    partition_key: KeyFollowsTime | None = None


def partition_bounds(
    session: AsyncSession, keys: Sequence[SortKey], after: Sequence[Any] | None
) -> list[ColumnElement[bool]]:
    """What the cursor implies for the partition key (app/core/pruning.py)."""
    if after is None or not prunes(session):
        return []
    bounds = []
    for key, value in zip(keys, after, strict=True):
        if key.partition_key is not None:
            follows = key.partition_key
            bound = follows.before(value) if key.descending else follows.from_(value)
            bounds += [bound] if bound is not None else []
    return bounds


def _encode_datetime(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def _decode_datetime(value: Any) -> datetime:
    # Aware, as the columns want them; an int, so no time zone can be left out.
    if type(value) is not int:
        raise ValueError
    return _EPOCH + value * _MICROSECOND


def _decode_uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str) or len(value) != 32:
        raise ValueError
    return uuid.UUID(hex=value)


def _decode_exactly(kind: type) -> Any:
    def decode(value: Any) -> Any:
        if type(value) is not kind:  # not isinstance: True is not a position
            raise ValueError
        return value

    return decode


# How each kind of sort value travels in a cursor: compact, and checked on the way back.
_CODECS: dict[type, tuple[Any, Any]] = {
    datetime: (_encode_datetime, _decode_datetime),
    uuid.UUID: (lambda value: value.hex, _decode_uuid),
    str: (lambda value: value, _decode_exactly(str)),
    int: (lambda value: value, _decode_exactly(int)),
}


@dataclass(frozen=True)
class CursorShape:
    """What a list's cursor holds: its sort (signed into the cursor) and the kind of each
    value."""

    sort: str
    kinds: tuple[type, ...]

    @classmethod
    def of(cls, keys: Sequence[SortKey]) -> CursorShape:
        return cls(
            sort=",".join(
                f"{key.column.class_.__tablename__}.{key.column.key}"
                f"{' desc' if key.descending else ''}"
                for key in keys
            ),
            kinds=tuple(_kind(key.column) for key in keys),
        )


def _kind(column: InstrumentedAttribute[Any]) -> type:
    column_type: TypeEngine[Any] = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    kind = column_type.python_type
    if kind not in _CODECS:
        raise TypeError(f"no cursor encoding for {column} ({kind})")
    return kind


def _signature(params: PageParams, shape: CursorShape, payload: bytes) -> bytes:
    signed = f"{params.list_identity}\n{shape.sort}\n".encode() + payload
    return hmac.new(params.signing_key, signed, hashlib.sha256).digest()[:SIGNATURE_BYTES]


def encode_cursor(params: PageParams, shape: CursorShape, values: Sequence[Any]) -> str:
    payload = json.dumps(
        [_CODECS[kind][0](value) for kind, value in zip(shape.kinds, values, strict=True)],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    raw = payload + _signature(params, shape, payload)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(params: PageParams, shape: CursorShape) -> list[Any] | None:
    """The values of the page's cursor, or None without one; ``InvalidCursor`` unless it was
    signed for this list and holds values of the right kinds."""
    if not params.cursor:  # ``?cursor=`` as a client builds it for the first page
        return None
    try:
        padded = params.cursor + "=" * (-len(params.cursor) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor from exc
    payload, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    if len(raw) <= SIGNATURE_BYTES or not hmac.compare_digest(
        signature, _signature(params, shape, payload)
    ):
        raise InvalidCursor
    try:
        values = json.loads(payload)
        if not isinstance(values, list) or len(values) != len(shape.kinds):
            raise ValueError
        return [_CODECS[kind][1](value) for kind, value in zip(shape.kinds, values, strict=True)]
    except (ValueError, TypeError, OverflowError) as exc:
        # Signed by us, yet not what this list holds: made by another version of the code.
        raise InvalidCursor from exc


def after_cursor(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order given by ``keys``. Keys all in one direction
    make a row-value comparison, ``(created_at, id) < (:c, :i)``, which bounds the index scan
    where the page starts; mixed directions are spelled out term by term."""
    if len({key.descending for key in keys}) == 1:
        columns = tuple_(*(key.column for key in keys))
        bound = tuple_(*(literal(v, key.column.type) for key, v in zip(keys, values, strict=True)))
        return columns < bound if keys[0].descending else columns > bound
    clauses = []
    for i, key in enumerate(keys):
        equal_prefix = [k.column == v for k, v in zip(keys[:i], values[:i], strict=True)]
        step = key.column < values[i] if key.descending else key.column > values[i]
        clauses.append(and_(*equal_prefix, step))
    return or_(*clauses)


def order_by(keys: Sequence[SortKey]) -> list[Any]:
    return [k.column.desc() if k.descending else k.column.asc() for k in keys]


async def plan_for_the_values(session: AsyncSession) -> str | None:
    """From now to the end of the transaction, each statement is planned for the values it is
    sent with (PostgreSQL; nothing elsewhere); the setting in force before."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    before: str | None = await session.scalar(
        text(
            "SELECT current_setting('plan_cache_mode'),"
            " set_config('plan_cache_mode', 'force_custom_plan', true)"
        )
    )
    return before


@contextlib.asynccontextmanager
async def planned_for_its_values(session: AsyncSession, wanted: bool) -> AsyncIterator[None]:
    """Statements inside are planned for the values they are sent with (PostgreSQL), where
    ``wanted``.

    A prepared statement gets a generic plan after five runs, one made without its values. A
    filtered page's best index depends on them: 30 % of the reports in one community and 0.5 %
    in another, a rare category or a common one, a narrow period or a wide one. At a million
    reports the generic plan of "category and period" read 6.7 ms where a plan for the values
    read 0.45 ms. Planning a page's statement costs ~0.15 ms and two round trips (the SETs);
    the other statements of a request keep their cached plans. A page with one plan that fits
    every value (a community's inbox: its own index, newest first) does without."""
    if not wanted:
        yield
        return
    async with settings_for_the_block(session, {"plan_cache_mode": "force_custom_plan"}):
        yield


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    keys: Sequence[SortKey],
    params: PageParams,
) -> tuple[list[Any], str | None]:
    """Run ``stmt`` (selecting one entity) for one page; return the rows and the next cursor.

    The last key must be unique (an id) so that the order is total."""
    shape = CursorShape.of(keys)
    if (after := decode_cursor(params, shape)) is not None:
        stmt = stmt.where(after_cursor(keys, after), *partition_bounds(session, keys, after))
    rows = list(
        (await session.scalars(stmt.order_by(*order_by(keys)).limit(params.limit + 1))).all()
    )
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1]
    return rows, encode_cursor(params, shape, [getattr(last, k.column.key) for k in keys])
