"""The demo's month of work (`python -m app seed-demo`): cases played through the API as the
demo accounts leave a database whose statistics, lists and timelines show real work."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.demo.activity import play_month
from app.main import create_app
from app.models import Job, OverdueMark, PointsEntry, Rating, Report, ReportEvent
from app.models.enums import ReportStatus
from tests.conftest import LoginFn

CASES = 16


async def test_a_month_of_work_fills_the_statistics(
    settings: Settings, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    await play_month(create_app(settings), settings, CASES)

    rows = await session.execute(select(Report.status, func.count()).group_by(Report.status))
    statuses: Counter[ReportStatus] = Counter({row[0]: row[1] for row in rows})
    assert sum(statuses.values()) == CASES
    # Cases at every stage: ended ones and open ones, handled in house and whistled.
    ended = statuses[ReportStatus.closed] + statuses[ReportStatus.rejected]
    assert statuses[ReportStatus.closed] >= 3
    assert sum(statuses.values()) - ended >= 3
    for table, least in ((Job, 2), (Rating, 1), (PointsEntry, 1)):
        assert (await session.scalar(select(func.count()).select_from(table)) or 0) >= least
    # Every case has its timeline from its filing on, at its own moment in the month.
    filed = await session.scalar(
        select(func.count()).select_from(ReportEvent).where(ReportEvent.type == "submitted")
    )
    assert filed == CASES
    first, last = (
        await session.execute(select(func.min(Report.created_at), func.max(Report.created_at)))
    ).one()
    assert (last - first).days >= 5
    # The sweep at the end recorded the clocks that ran out during the month.
    assert (await session.scalar(select(func.count()).select_from(OverdueMark)) or 0) >= 1

    supervisor = await login("supervisor")
    summary: dict[str, Any] = (await client.get("/api/v1/stats/summary", headers=supervisor)).json()
    assert summary["total"] == CASES
    assert summary["counts_by_status"]["closed"] == statuses[ReportStatus.closed]
    assert summary["closure_rate"] is not None
    assert summary["hours_to_accept"]["count"] == summary["accepted"] > 0
