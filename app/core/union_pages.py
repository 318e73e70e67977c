"""A page of a list whose rows are the union of a few branches (a caller's scope: its
communities OR its own reports, app/auth/scope.py), each read in the order of its own index,
with the cursors of app/core/pagination.py; on PostgreSQL, newest months first
(app/core/pruning.py, ``NewestMonthsFirst``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import (
    CursorShape,
    PageParams,
    SortKey,
    after_cursor,
    decode_cursor,
    encode_cursor,
    order_by,
    partition_bounds,
    planned_for_its_values,
)
from app.core.pruning import NewestMonthsFirst, prunes


def _page_statement(
    session: AsyncSession,
    branches: Sequence[Select[*tuple[Any, ...]]],
    keys: Sequence[SortKey],
    after: Sequence[Any] | None,
    bounds: Sequence[ColumnElement[bool]],
    limit: int,
) -> Select[*tuple[Any, ...]]:
    """The first ``limit`` rows of the union after the cursor ``after``, within ``bounds``."""

    def bounded(stmt: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
        if after is not None:
            stmt = stmt.where(after_cursor(keys, after), *partition_bounds(session, keys, after))
        return stmt.where(*bounds).order_by(*order_by(keys)).limit(limit)

    if len(branches) == 1:
        return bounded(branches[0])
    merged = union(*(select(*bounded(b).subquery().c) for b in branches)).subquery()
    merged_order = [
        merged.c[key.column.key].desc() if key.descending else merged.c[key.column.key].asc()
        for key in keys
    ]
    return select(*merged.c).order_by(*merged_order).limit(limit)


async def paginate_union(
    session: AsyncSession,
    branches: Sequence[Select[*tuple[Any, ...]]],
    keys: Sequence[SortKey],
    params: PageParams,
    *,
    plan_for_values: bool = True,
    window: NewestMonthsFirst | None = None,
) -> tuple[list[Row[*tuple[Any, ...]]], str | None]:
    """One page of the union of ``branches``, each a query selecting the key columns in the
    keys' order, then any others a caller wants beside them (the same in each); the rows are
    those columns. Each branch is read after the cursor, in order, up to the page size (a
    bounded scan of its own index), and the merge keeps the first page's worth: a caller whose
    scope is a few conditions OR-ed together pays a few short index scans instead of sorting
    every match. A row found by two branches is listed once.

    With a ``window`` (a list newest first by its first key, the time a partition key follows),
    the page is read in the window's months first and below them only for what they lacked:
    one statement for nearly every page, two for a list whose newest page spans more months."""
    shape = CursorShape.of(keys)
    after = decode_cursor(params, shape)
    if not branches:
        return [], None
    spans: list[list[ColumnElement[bool]]] = [[]]
    if window is not None and prunes(session):
        spans = window.spans(after[0] if after is not None else None)
    rows: list[Row[*tuple[Any, ...]]] = []
    async with planned_for_its_values(session, plan_for_values):
        for bounds in spans:
            wanted = params.limit + 1 - len(rows)
            stmt = _page_statement(session, branches, keys, after, bounds, wanted)
            rows += (await session.execute(stmt)).all()
            if len(rows) > params.limit:
                break
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    return rows, encode_cursor(params, shape, [getattr(rows[-1], key.column.key) for key in keys])
