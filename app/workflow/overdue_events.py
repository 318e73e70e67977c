"""What the overdue sweep writes about a batch of clocks: the internal timeline entry and the
outbox event of each clock it recorded and of each card it raised.

A few statements for the whole batch rather than several for each clock: a catch-up after an
outage or an import goes over tens of thousands of clocks. Entries are numbered here, after the
latest of each report's timeline: every report of the batch is locked (app/workflow/overdue.py
``_lock_reports``) and each writer of a timeline takes that lock first on PostgreSQL; on SQLite
the batch has written before (the marks, the cards), so it holds the database's write lock."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.timeline import timeline_entry
from app.core.db import insert_new
from app.integrations import outbox
from app.models import Community, Job, Region, Report, ReportEvent
from app.models.enums import SupervisionLevel
from app.workflow.overdue_clocks import OverdueClock

K = TypeVar("K")
V = TypeVar("V")


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
    last_seq = await _pairs(
        session,
        select(ReportEvent.report_id, func.max(ReportEvent.seq))
        .where(ReportEvent.report_id.in_(list(reports)))
        .group_by(ReportEvent.report_id),
    )
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
    units = await _unit_ids(session, reports)
    paths = await _paths(session, reports.values())
    events = [
        outbox.new_event(
            a.event_type,
            a.report,
            region_path=paths[a.report.id],
            unit_ids=units.get(a.report.id, ()),
            now=now,
            job=a.job,
            data=a.data,
            internal=True,
        )
        for a in announcements
    ]
    await insert_new(session, events)


async def _unit_ids(
    session: AsyncSession, report_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = await session.execute(
        select(Job.report_id, Job.unit_id).where(Job.report_id.in_(list(report_ids))).distinct()
    )
    units: dict[uuid.UUID, list[uuid.UUID]] = {}
    for report_id, unit_id in rows:
        units.setdefault(report_id, []).append(unit_id)
    return units


async def _paths(session: AsyncSession, reports: Iterable[Report]) -> dict[uuid.UUID, str]:
    """Where each case happened, as its events carry it: its community's region (an escalated
    case is owned above it, and the supervisors of both see it), else the region owning it."""
    reports = list(reports)
    community_ids = {r.community_id for r in reports if r.community_id is not None}
    region_ids = {r.region_id for r in reports}
    community_paths = await _pairs(
        session,
        select(Community.id, Region.path)
        .join(Region, Region.id == Community.region_id)
        .where(Community.id.in_(community_ids)),
    )
    region_paths = await _pairs(
        session, select(Region.id, Region.path).where(Region.id.in_(region_ids))
    )
    paths: dict[uuid.UUID, str] = {}
    for report in reports:
        place = community_paths.get(report.community_id) if report.community_id else None
        paths[report.id] = place or region_paths[report.region_id]
    return paths


async def _pairs(session: AsyncSession, query: Select[K, V]) -> dict[K, V]:
    # Not dict(result): a Result has keys() (its columns'), which dict() would take for a mapping.
    return {row[0]: row[1] for row in (await session.execute(query)).all()}
