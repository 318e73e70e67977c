"""Helpers for the personal-information tests: cases filed and handled through the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry
from tests.reports.conftest import COMMUNITY_1_POINT, photo_bytes

LoginFn = Callable[..., Awaitable[dict[str, str]]]
FileFn = Callable[..., Awaitable[dict[str, Any]]]
ActFn = Callable[..., Awaitable[dict[str, Any]]]

AFTER_PHOTO = ("photos", ("after.jpg", photo_bytes("DSCN0010.jpg"), "image/jpeg"))


@pytest.fixture
def file_report(client: httpx.AsyncClient, login: LoginFn) -> FileFn:
    """``await file_report("courier1", description=…)`` → the created case as the API answered
    it (a report in 东街社区 with one photo)."""

    async def _file(username: str, description: str = "巷口乱停车，消防车进不去") -> dict[str, Any]:
        response = await client.post(
            "/api/v1/reports",
            data={
                "category_code": "chaotic_parking",
                "description": description,
                "lat": str(COMMUNITY_1_POINT[0]),
                "lng": str(COMMUNITY_1_POINT[1]),
            },
            files=[("photos", ("IMG_0042.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"))],
            headers=await login(username),
        )
        assert response.status_code == 201, response.text
        report: dict[str, Any] = response.json()
        return report

    return _file


@pytest.fixture
def act(client: httpx.AsyncClient, login: LoginFn) -> ActFn:
    """``await act("staff1", report_id, "accept", json={…})`` → the case after the action."""

    async def _act(username: str, report_id: str, action: str, **kwargs: Any) -> dict[str, Any]:
        if "data" not in kwargs:
            kwargs.setdefault("json", {})
        response = await client.post(
            f"/api/v1/reports/{report_id}/{action}", headers=await login(username), **kwargs
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    return _act


async def close_in_house(act: ActFn, staff: str, report_id: str) -> dict[str, Any]:
    await act(staff, report_id, "start")
    await act(staff, report_id, "resolve", data={"note": "已处理"}, files=[AFTER_PHOTO])
    closed = await act(staff, report_id, "verify", data={"passed": "true"})
    assert closed["status"] == "closed"
    return closed


async def audit_rows(session: AsyncSession, **where: Any) -> list[AuditEntry]:
    """The audit log's rows as stored, oldest first, narrowed by column values."""
    stmt = select(AuditEntry).execution_options(populate_existing=True)
    for column, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, column) == value)
    return list(await session.scalars(stmt.order_by(AuditEntry.occurred_at, AuditEntry.id)))
