"""Wish events on the outbox (``wish.submitted``, ``wish.<action>``): written in the transaction
of the change, read by live streams and webhooks like the cases' events. They never carry the
resident's contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.scope import community_region_path
from app.models import OutboxEvent, Wish


async def record(
    session: AsyncSession,
    type: str,
    wish: Wish,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    region_path = await community_region_path(session, wish.community_id)
    session.add(
        OutboxEvent(
            type=type,
            report_id=None,
            job_id=None,
            # The community's staff and the supervisors above it see it; the resident too.
            community_id=wish.community_id,
            region_path=region_path,
            unit_ids=[],
            reporter_id=wish.resident_id,
            payload={
                "type": type,
                "occurred_at": now.isoformat(),
                "wish": {
                    "id": str(wish.id),
                    "status": wish.status.value,
                    "title": wish.title,
                    "community_id": str(wish.community_id),
                },
                # The reason given (a decline, a withdrawal, a release, a reopening).
                **({"data": data} if data else {}),
            },
            created_at=now,
        )
    )
    await session.flush()
