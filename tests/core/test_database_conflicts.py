"""A transaction PostgreSQL gives up because of another one running at the same moment — a
deadlock, a serialization failure — is answered 409 ``conflict_retry`` with ``Retry-After``:
nothing of the request was saved and sending it again is safe. Not a 500.

The case's own writers take their locks in one order (tests/jobs/test_lock_order.py); these
tests make the failures for real with two transactions on the categories, through a route of
the test's own that runs in the request's session like every endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.deps import SessionDep
from app.models import Category
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="row locks and their conflicts: PostgreSQL")

FIRST, SECOND = "chaotic_parking", "road_damage"


def _rename(code: str, name: str) -> Any:
    return update(Category).where(Category.code == code).values(name=name)


async def _names(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(Category.code, Category.name).where(Category.code.in_([FIRST, SECOND]))
        )
        return {row.code: row.name for row in rows}


def _route(app: Any, work: Callable[[Any], Awaitable[None]]) -> None:
    async def endpoint(session: SessionDep) -> dict[str, str]:
        await work(session)
        return {"saved": "yes"}

    app.add_api_route("/test/conflict", endpoint, methods=["POST"])


def _assert_conflict_retry(response: httpx.Response) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["code"] == "conflict_retry"
    assert body["instance"] == "/test/conflict"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_a_deadlock_is_a_409_to_send_again(app: FastAPI, client: httpx.AsyncClient) -> None:
    engine: AsyncEngine = app.state.engine
    before = await _names(engine)
    first_locked, second_locked = asyncio.Event(), asyncio.Event()

    async def request_side(session: Any) -> None:
        await session.execute(_rename(FIRST, "请求改名"))
        first_locked.set()
        await second_locked.wait()
        await session.execute(_rename(SECOND, "请求改名"))  # waits for the other: a circle

    async def other_side() -> None:
        await first_locked.wait()
        async with engine.begin() as conn:
            await conn.execute(_rename(SECOND, "另一事务"))
            second_locked.set()
            # The request waits first, so PostgreSQL's check finds the circle on its side.
            await asyncio.sleep(0.3)
            await conn.execute(_rename(FIRST, "另一事务"))

    _route(app, request_side)
    response, _ = await asyncio.gather(client.post("/test/conflict"), other_side())

    _assert_conflict_retry(response)
    # The request's change was undone; the other transaction's stands.
    assert await _names(engine) == {FIRST: "另一事务", SECOND: "另一事务"} != before


async def test_a_serialization_failure_is_a_409_to_send_again(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    engine: AsyncEngine = app.state.engine
    read, changed = asyncio.Event(), asyncio.Event()

    async def request_side(session: Any) -> None:
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        await session.execute(select(Category.name).where(Category.code == FIRST))
        read.set()
        await changed.wait()
        # Changed since this transaction's snapshot: it cannot be serialised after the other.
        await session.execute(_rename(FIRST, "请求改名"))

    async def other_side() -> None:
        await read.wait()
        async with engine.begin() as conn:
            await conn.execute(_rename(FIRST, "另一事务"))
        changed.set()

    _route(app, request_side)
    response, _ = await asyncio.gather(client.post("/test/conflict"), other_side())

    _assert_conflict_retry(response)
    assert (await _names(engine))[FIRST] == "另一事务"


async def test_other_database_errors_stay_internal_errors(app: FastAPI) -> None:
    async def request_side(session: Any) -> None:
        await session.execute(text("SELECT 1 / 0"))

    _route(app, request_side)
    # As a server answers: the test client would otherwise hand the app's exception on.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as server:
        response = await server.post("/test/conflict")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
