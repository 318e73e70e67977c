"""Helpers every organisation service uses: lookups that fail the right way, region subtrees,
and flushes that turn a lost race on a unique name into a 409."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Delete, Select, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import DomainError, NotFound, ValidationFailed
from app.models import Region

ModelT = TypeVar("ModelT")


async def get_or_404(
    session: AsyncSession, model: type[ModelT], row_id: uuid.UUID, what: str
) -> ModelT:
    """A row named in the path: 404 if it does not exist."""
    row = await session.get(model, row_id)
    if row is None:
        raise NotFound(f"No such {what}")
    return row


async def get_or_422(
    session: AsyncSession,
    model: type[ModelT],
    row_id: uuid.UUID,
    loc: Sequence[str | int],
    what: str,
) -> ModelT:
    """A row named in a body or a query: 422 naming the field if it does not exist."""
    row = await session.get(model, row_id)
    if row is None:
        raise ValidationFailed.at(loc, f"no such {what}: {row_id}")
    return row


def in_region_subtrees(paths: Sequence[str]) -> ColumnElement[bool]:
    """Regions in the subtree of any of the regions with these materialised paths."""
    if not paths:
        return false()
    return or_(*(Region.path.startswith(path) for path in paths))


def region_subtree_ids(path: str) -> Select[uuid.UUID]:
    return select(Region.id).where(in_region_subtrees([path]))


async def region_filter_path(session: AsyncSession, region_id: uuid.UUID) -> str:
    """The path of a region given as a list filter, whose subtree the list is limited to."""
    region = await get_or_422(session, Region, region_id, ["query", "region_id"], "region")
    return region.path


async def flush_or_raise(session: AsyncSession, error: DomainError) -> None:
    """Flush; a constraint violation here means a concurrent request won a race that the
    service's own checks had already looked for, so it gets the same answer they give."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise error from exc


async def delete_or_raise(session: AsyncSession, stmt: Delete, error: DomainError) -> None:
    """Delete with a statement, so that the database cascades to the children instead of the
    ORM loading them; a row still referenced from elsewhere gets ``error``."""
    try:
        await session.execute(stmt)
    except IntegrityError as exc:
        raise error from exc


def apply_changes(row: Any, changes: dict[str, Any]) -> None:
    for field, value in changes.items():
        setattr(row, field, value)
