"""Helpers for points tests: reports filed through the API, then paid with ``award``."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.demo.seed import demo_id
from app.models import Community, PointsEntry, Report
from app.points.service import award
from tests.reports.conftest import COMMUNITY_1_POINT, photo_bytes

EAST = demo_id("community", "陕坝镇", "东街社区")
SOUTH = demo_id("community", "陕坝镇", "南街社区")
SF_COMPANY = demo_id("courier_company", "顺丰速运")
SF_BRANCH = demo_id("courier_branch", "顺丰速运", "顺丰速运杭锦后旗营业部")
ZTO_COMPANY = demo_id("courier_company", "中通快递")
ZTO_BRANCH = demo_id("courier_branch", "中通快递", "中通快递杭锦后旗分部")

LoginFn = Callable[[str], Awaitable[dict[str, str]]]
Rule = Literal["accepted", "closed_bonus"]
FileReportFn = Callable[..., Awaitable[Report]]
AwardFn = Callable[..., Awaitable[PointsEntry | None]]


@pytest.fixture
def file_report(client: httpx.AsyncClient, login: LoginFn, session: AsyncSession) -> FileReportFn:
    """``await file_report("courier1", community=SOUTH, source="hotline")`` → the Report row of
    a report submitted through the API at the centre of ``community`` (东街社区 by default)."""
    counter = iter(range(1_000))

    async def _file(
        username: str,
        *,
        community: uuid.UUID = EAST,
        category_code: str = "chaotic_parking",
        **fields: Any,
    ) -> Report:
        if community == EAST:
            lat, lng = COMMUNITY_1_POINT
        else:
            place = await session.get_one(Community, community)
            assert place.center_lat is not None
            assert place.center_lng is not None
            lat, lng = place.center_lat, place.center_lng
        # Nudged apart a few metres so that no two reports are the same point.
        lat += next(counter) * 0.00003
        response = await client.post(
            "/api/v1/reports",
            data={
                "category_code": category_code,
                "description": "巷子里乱停车，消防车进不去",
                "lat": str(lat),
                "lng": str(lng),
                **{k: str(v) for k, v in fields.items()},
            },
            files=[("photos", ("a.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"))],
            headers=await login(username),
        )
        assert response.status_code == 201, response.text
        report = await session.get_one(Report, uuid.UUID(response.json()["id"]))
        assert report.community_id == community
        return report

    return _file


@pytest.fixture
def pay(session: AsyncSession, settings: Settings) -> AwardFn:
    """``await pay(report, "accepted", at)``: award in the test's session and commit, as the
    report actions do in theirs."""

    async def _pay(
        report: Report, rule: Rule, at: datetime, with_settings: Settings | None = None
    ) -> PointsEntry | None:
        entry = await award(session, report, rule, at, with_settings or settings)
        await session.commit()
        return entry

    return _pay


async def ledger_rows(session: AsyncSession, user: str) -> list[PointsEntry]:
    return list(
        await session.scalars(
            select(PointsEntry)
            .where(PointsEntry.user_id == demo_id("user", user))
            .order_by(PointsEntry.created_at, PointsEntry.rule)
            .execution_options(populate_existing=True)
        )
    )
