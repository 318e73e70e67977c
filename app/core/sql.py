"""SQL expressions the hot reads need that SQLAlchemy does not spell the way they want."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from typing import Any, Final, cast

from sqlalchemy import ARRAY, ColumnElement, Table, any_, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def sql_string(text: str) -> str:
    """``text`` as an SQL string literal (standard_conforming_strings: only quotes doubled), for
    SQL written as text (the ledger's cells, app/stats/tabular_sql.py; phone masks)."""
    return "'" + text.replace("'", "''") + "'"


def member_of(session: AsyncSession, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values``: ``column = ANY(:values)`` with one array parameter on
    PostgreSQL, ``column IN (…)`` elsewhere.

    An IN list is written out at every execution, a parameter a value: the statement's text
    changes with the number of values, so the driver prepares it anew, and SQLAlchemy rewrites
    the whole (long) statement each time — some 0.7 ms a statement for a page's. One array
    parameter keeps one text, prepared once per connection. For rows looked up by key (a
    page's ids), not for a scope filter that should read an index in order: an IN of one
    value is an equality there, an array never is."""
    if session.get_bind().dialect.name != "postgresql":
        return cast(ColumnElement[bool], column.in_(list(values)))
    array = bindparam(None, list(values), type_=ARRAY(column.type))
    return cast(ColumnElement[bool], column == any_(array))


async def update_rows(
    session: AsyncSession,
    table: Table,
    key: str,
    rows: Sequence[Mapping[str, Any]],
    *bounds: ColumnElement[bool],
    **same: Any,
) -> None:
    """Set on each row of ``table`` whose ``key`` is one of ``rows``'s the other values given
    with it, and the values ``same`` gives every one. ``bounds``, true of every such row, let
    PostgreSQL leave out the partitions none is in (SQLite, with plain tables, does without).

    On PostgreSQL, one statement: the rows as arrays (one parameter a column), unnested and
    joined by key. An UPDATE by key run once per row, as an executemany does, starts its plan
    over every month's partition of a partitioned table each time (the overdue sweep's notes on
    a batch of 265 clocks: 55 ms a column); one statement starts it once. Row by row elsewhere.
    """
    if not rows:
        return
    names = [name for name in rows[0] if name != key]
    if session.get_bind().dialect.name != "postgresql":
        await session.execute(
            update(table)
            .where(table.c[key] == bindparam("given_key"))
            .values({**{name: bindparam(f"given_{name}") for name in names}, **same}),
            [{"given_key": row[key], **{f"given_{n}": row[n] for n in names}} for row in rows],
        )
        return
    arrays = [
        bindparam(None, [row[name] for row in rows], type_=ARRAY(table.c[name].type))
        for name in (key, *names)
    ]
    given = (
        func.unnest(*arrays)
        .table_valued(*(f"given_{name}" for name in (key, *names)))
        .render_derived(name="given")
    )
    await session.execute(
        update(table)
        .where(table.c[key] == given.c[f"given_{key}"], *bounds)
        .values({**{name: given.c[f"given_{name}"] for name in names}, **same})
    )


async def names_by_id(
    session: AsyncSession, id_column: Any, name_column: Any, ids: Collection[Any]
) -> dict[Any, str]:
    """``{id: name}`` for the rows of ``ids`` (a page's communities, units, people), in one
    query; none for no ids."""
    if not ids:
        return {}
    rows = await session.execute(
        select(id_column, name_column).where(member_of(session, id_column, ids))
    )
    return dict(rows.all())


def upsert_insert(
    dialect: str,
) -> Callable[..., postgresql.Insert] | Callable[..., sqlite.Insert]:
    """The INSERT of the database named ``dialect``, which can say what to do ``ON CONFLICT``
    (PostgreSQL and SQLite spell it alike; SQLAlchemy has one construct for each)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def add_to_kept_rows(
    session: Session,
    table: Table,
    keys: Sequence[str],
    amounts: Sequence[str],
    changes: Mapping[tuple[Any, ...], Sequence[float]],
) -> None:
    """Add ``changes`` (per key: an amount for each of ``amounts``) to ``table``'s rows, made
    where missing, in one statement in key order: run just before a commit, the rows are locked
    for its last moment, and no two writers take them in a different order. Keys whose amounts
    are all zero are left out."""
    rows = [
        {**dict(zip(keys, key, strict=True)), **dict(zip(amounts, change, strict=True))}
        for key, change in sorted(changes.items())
        if any(change)
    ]
    if not rows:
        return
    insert = upsert_insert(session.get_bind().dialect.name)(table).values(rows)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: table.c[name] + insert.excluded[name] for name in amounts},
        )
    )


# A case's rows (jobs, events, marks …) lie in the month partition of the case (app/core/
# partitions.py): joined month by month, the planner sees how few rows each month's join has
# and looks each case up by its index, where over the whole table it counts every month's index
# for each look-up and reads every case instead (the unit sheet: 566 ms, not 110).
CASES_WITH_THEIR_ROWS: Final = {"enable_partitionwise_join": "on"}


@contextlib.asynccontextmanager
async def settings_for_the_block(
    session: AsyncSession, settings: dict[str, str]
) -> AsyncIterator[None]:
    """``settings`` in force for the statements inside (PostgreSQL: ``set_config(…, true)``,
    the transaction's), what was in force before (a setting of the role or the database, say)
    put back after them: two round trips. Not after an error: the transaction is being rolled
    back then, settings and all. Nothing elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    names = list(settings)
    swap = ", ".join(
        f"current_setting(:name{i}), set_config(:name{i}, :value{i}, true)"
        for i in range(len(names))
    )
    values = {f"name{i}": name for i, name in enumerate(names)}
    values.update({f"value{i}": settings[name] for i, name in enumerate(names)})
    before = (await session.execute(text(f"SELECT {swap}"), values)).one()
    yield
    restore = ", ".join(f"set_config(:name{i}, :value{i}, true)" for i in range(len(names)))
    values.update({f"value{i}": before[2 * i] for i in range(len(names))})
    await session.execute(text(f"SELECT {restore}"), values)
