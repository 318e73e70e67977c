"""What a light needs beyond a clock's own columns: the holds (挂账) that stopped a case's
clocks, and when a job's completion clock was restarted by rework (返工).

Both come from the timeline, and only for the cases that had a hold or a rework (the report's
``held_seconds`` and the job's ``rework_count`` say so): most lists of cases need no query."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.transitions import ReportAction
from app.core.lights import Pause
from app.core.sql import member_of
from app.models import ReportEvent
from app.models.enums import ReportStatus

JOB_REWORK_EVENT = "job_rework"


@dataclass(frozen=True)
class ClockHistory:
    pauses: tuple[Pause, ...] = ()
    # The latest rework of each reworked job: its completion clock started again then.
    reworked_at: Mapping[uuid.UUID, datetime] = field(default_factory=dict)


NO_HISTORY = ClockHistory()


def reading_time(status: ReportStatus, on_hold_at: datetime | None, now: datetime) -> datetime:
    """When a case's clocks are read: now, or the moment they stopped while it is on hold."""
    if status is ReportStatus.on_hold and on_hold_at is not None:
        return min(on_hold_at, now)
    return now


async def load_histories(
    session: AsyncSession, report_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, ClockHistory]:
    """The holds and reworks of the given cases (one query; none for no cases)."""
    if not report_ids:
        return {}
    rows = await session.execute(
        select(ReportEvent.report_id, ReportEvent.type, ReportEvent.created_at, ReportEvent.data)
        .where(
            member_of(session, ReportEvent.report_id, report_ids),
            ReportEvent.type.in_(
                [ReportAction.hold.value, ReportAction.resume.value, JOB_REWORK_EVENT]
            ),
        )
        .order_by(ReportEvent.report_id, ReportEvent.seq)
    )
    pauses: dict[uuid.UUID, list[Pause]] = {}
    held_since: dict[uuid.UUID, datetime] = {}
    reworks: dict[uuid.UUID, dict[uuid.UUID, datetime]] = {}
    for report_id, kind, at, data in rows:
        if kind == ReportAction.hold.value:
            held_since[report_id] = at
        elif kind == ReportAction.resume.value:
            start = held_since.pop(report_id, None)
            if start is not None:
                pauses.setdefault(report_id, []).append(Pause(start=start, end=at))
        elif data and data.get("job_id"):
            reworks.setdefault(report_id, {})[uuid.UUID(data["job_id"])] = at
    return {
        report_id: ClockHistory(
            pauses=tuple(pauses.get(report_id, ())), reworked_at=reworks.get(report_id, {})
        )
        for report_id in report_ids
    }
