"""What the overdue sweep writes about a batch of clocks: the internal timeline entry and the
outbox event of each clock it recorded and of each card it raised.

A few statements for the whole batch rather than several for each clock: a catch-up after an
outage or an import goes over tens of thousands of clocks. Entries are numbered here, after the
latest of each report's timeline: every report of the batch is locked (app/workflow/overdue.py
``_lock_reports``) and each writer of a timeline takes that lock first on PostgreSQL; on SQLite
the batch has written before (the marks, the cards), so it holds the database's write lock."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.timeline import timeline_entry
from app.core.db import insert_new
from app.integrations import outbox
from app.models import Job, Report, ReportEvent
from app.models.enums import SupervisionLevel
from app.workflow.overdue_clocks import OverdueClock


@dataclass(frozen=True)
class Announcement:
    report: Report
    entry_type: str  # the timeline's
    event_type: str  # the outbox's
    data: dict[str, Any]
    job: Job | None = None


def overdue(report: Report, clock: OverdueClock, jobs: dict[uuid.UUID, Job]) -> Announcement:
    job = jobs[clock.job_id] if clock.is_job_clock else None
    event_type = "job.overdue" if job is not None else "report.overdue"
    return Announcement(report, "overdue", event_type, clock.event_data(), job)


def card_raised(
    report: Report, before: SupervisionLevel | None, clock: OverdueClock
) -> Announcement:
    """For a report whose ``supervision_level`` was just raised from ``before``."""
    assert report.supervision_level is not None
    data = {
        "from": before.value if before else None,
        "to": report.supervision_level.value,
        "region_id": str(report.region_id),
        **clock.event_data(),
    }
    return Announcement(report, "supervision_raised", "report.supervision_raised", data)


async def write(
    session: AsyncSession, announcements: Sequence[Announcement], now: datetime
) -> None:
    """The timeline entries (numbered in the order given) and the outbox events."""
    if not announcements:
        return
    reports = {a.report.id: a.report for a in announcements}
    last_seq = {
        row.report_id: row.seq
        for row in await session.execute(
            select(ReportEvent.report_id, func.max(ReportEvent.seq).label("seq"))
            .where(ReportEvent.report_id.in_(list(reports)))
            .group_by(ReportEvent.report_id)
        )
    }
    entries = []
    for a in announcements:
        seq = last_seq[a.report.id] = last_seq.get(a.report.id, 0) + 1
        entries.append(
            timeline_entry(
                a.report,
                seq=seq,
                type=a.entry_type,
                actor=None,
                is_internal=True,
                data=a.data,
                at=now,
            )
        )
    await insert_new(session, entries)
    await outbox.record_all(
        session,
        [(a.event_type, a.report, a.job, a.data) for a in announcements],
        now=now,
        internal=True,
    )
