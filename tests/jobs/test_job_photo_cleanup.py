"""A unit's photos stay only with the work that references them: when the commit of a progress
report or of a completion fails (after the endpoint returned), the files it stored are removed
again and the job is as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from tests.conftest import LoginFn
from tests.jobs.conftest import LEAD, PHOTO, CaseFn, WhistleFn, jobs_by_unit, ok


def stored_files(settings: Settings) -> set[str]:
    root = Path(settings.photo_dir)
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
async def lenient_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the app's 500 answer instead of the exception behind it."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.mark.parametrize("action", ["progress", "complete"])
async def test_a_failed_commit_leaves_no_photo_of_the_unit(
    action: str,
    client: httpx.AsyncClient,
    lenient_client: httpx.AsyncClient,
    login: LoginFn,
    accepted_case: CaseFn,
    whistle: WhistleFn,
    session: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = await accepted_case()
    ok(await whistle(case["id"], [LEAD]))
    job = (await jobs_by_unit(client, await login("staff1"), case["id"]))[LEAD]
    unit1 = await login("unit1")
    job_url = f"/api/v1/jobs/{job['id']}"
    accepted = ok(await client.post(f"{job_url}/accept", json={}, headers=unit1))
    before = stored_files(settings)
    assert before, "the report's own photos are stored"

    real_commit = AsyncSession.commit

    async def failing_commit(self: AsyncSession) -> None:
        if self is not session:
            await self.rollback()
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
        await real_commit(self)

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    response = await lenient_client.post(
        f"{job_url}/{action}",
        data={"note": "已清理"},
        files=[("photos", PHOTO)],
        headers=unit1,
    )
    monkeypatch.undo()
    assert response.status_code >= 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert stored_files(settings) == before
    again = ok(await client.get(job_url, headers=unit1))
    assert (again["status"], again["version"]) == (accepted["status"], accepted["version"])
