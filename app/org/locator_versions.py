"""The version of the communities and grids that every process's locator follows.

Whatever changes a community's or grid's boundary, name, region or centre calls
:func:`record_locator_change` in the same transaction. It raises the one ``locator_versions``
row and notes the new version against each changed community (``locator_changes``), so that a
process whose snapshot is of an older version reads again only those communities. On
PostgreSQL it also sends ``NOTIFY ssp_locator``, which PostgreSQL delivers at commit (never on
rollback): the other processes LISTEN and catch up within milliseconds instead of polling.

The version row is locked from the raise to the commit, so two such transactions take their
versions in the order they commit: a reader that saw version V has seen every change up to V.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.sql import upsert_insert
from app.models import LocatorChange, LocatorVersion

NOTIFY_CHANNEL = "ssp_locator"
_VERSION_ROW = 1
_CHANGES_PER_STATEMENT = 5000
_NOTIFY = text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', :version)")


async def record_locator_change(session: AsyncSession, community_ids: Collection[uuid.UUID]) -> int:
    """Raise the version for a change to these communities (or their grids), in the caller's
    transaction; the new version. Flushes first, so that the rows are written by then."""
    await session.flush()
    dialect = session.get_bind().dialect.name
    insert = upsert_insert(dialect)
    versions = cast(Table, LocatorVersion.__table__)
    # An upsert, not an update: a database made from the models (not the migrations) has no row.
    version: int = (
        await session.execute(
            insert(versions)
            .values(id=_VERSION_ROW, version=1)
            .on_conflict_do_update(
                index_elements=[versions.c.id], set_={"version": versions.c.version + 1}
            )
            .returning(versions.c.version)
        )
    ).scalar_one()
    changes = cast(Table, LocatorChange.__table__)
    ids = list(set(community_ids))
    # In slices: an import of a whole city would pass the drivers' limit of bind parameters.
    for start in range(0, len(ids), _CHANGES_PER_STATEMENT):
        statement: Any = insert(changes).values(
            [
                {"community_id": c, "version": version}
                for c in ids[start : start + _CHANGES_PER_STATEMENT]
            ]
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[changes.c.community_id], set_={"version": version}
            )
        )
    if dialect == "postgresql":
        await session.execute(_NOTIFY, {"version": str(version)})
    return version


async def read_version(session: AsyncSession) -> int:
    """The current version (0 before any change): one primary-key read."""
    version = await session.scalar(
        select(LocatorVersion.version).where(LocatorVersion.id == _VERSION_ROW)
    )
    return version or 0


async def changed_since(session: AsyncSession, version: int) -> list[uuid.UUID]:
    """The communities changed (or deleted, or whose grids changed) after ``version``."""
    rows = await session.scalars(
        select(LocatorChange.community_id).where(LocatorChange.version > version)
    )
    return list(rows)
