"""The one place that commits (app/core/db.py ``session_scope``): work handed to ``after_commit``
runs once the commit succeeded, never after a rollback, and its failure does not undo an answer
whose change is committed; ``on_rollback`` clean-ups run only after a rollback."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import cast

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import after_commit, on_rollback, session_scope
from app.models import Region
from app.models.enums import RegionLevel
from app.models.ids import new_id


def _region(name: str) -> Region:
    region_id = new_id()
    return Region(id=region_id, name=name, level=RegionLevel.city, path=f"/{region_id}/")


async def _count(app: FastAPI, name: str) -> int:
    async with app.state.sessionmaker() as session:
        count: int = await session.scalar(
            select(func.count()).select_from(Region).where(Region.name == name)
        )
        return count


async def test_work_after_the_commit_sees_the_change_and_rollback_work_does_not_run(
    app: FastAPI,
) -> None:
    seen: list[str] = []

    async def after() -> None:
        seen.append(f"after commit: {await _count(app, '提交后可见')}")

    async def cleanup() -> None:
        seen.append("rollback clean-up")

    scope = session_scope(app.state.sessionmaker)
    session = await anext(scope)
    session.add(_region("提交后可见"))
    after_commit(session, after)
    on_rollback(session, cleanup)
    with pytest.raises(StopAsyncIteration):
        await anext(scope)
    assert seen == ["after commit: 1"]


async def test_nothing_after_a_rollback_and_a_failing_follow_up_keeps_the_commit(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    async def after() -> None:
        seen.append("after commit")

    async def cleanup() -> None:
        seen.append("rollback clean-up")

    # A generator underneath: the request's error is thrown into it as FastAPI does.
    scope = cast(AsyncGenerator[AsyncSession, None], session_scope(app.state.sessionmaker))
    session = await anext(scope)
    session.add(_region("回滚不可见"))
    after_commit(session, after)
    on_rollback(session, cleanup)
    with pytest.raises(RuntimeError, match="the work failed"):
        await scope.athrow(RuntimeError("the work failed"))
    assert seen == ["rollback clean-up"]
    assert await _count(app, "回滚不可见") == 0

    async def broken() -> None:
        raise OSError("the follow-up failed")

    scope = cast(AsyncGenerator[AsyncSession, None], session_scope(app.state.sessionmaker))
    session = await anext(scope)
    session.add(_region("提交仍在"))
    after_commit(session, broken)
    with pytest.raises(StopAsyncIteration):
        await anext(scope)
    assert await _count(app, "提交仍在") == 1
    assert "work after a commit failed" in caplog.text
