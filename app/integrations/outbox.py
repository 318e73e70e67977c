"""Writing events to the outbox, in the transaction of the change they describe."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.scope import event_paths, place_path, region_path
from app.core.db import insert_new
from app.models import Job, OutboxEvent, Report

# The channel the live-event brokers LISTEN on (PostgreSQL only; see app/integrations/stream.py).
# The trigger ``outbox_events_notify`` (migration 2026-11-29-2140) notifies it once per
# statement that inserts events; PostgreSQL delivers it at commit, never on rollback, and folds
# repeats within one transaction into one notification.
NOTIFY_CHANNEL = "ssp_outbox"


async def record(
    session: AsyncSession,
    type: str,
    report: Report,
    *,
    now: datetime,
    job: Job | None = None,
    data: dict[str, Any] | None = None,
    internal: bool = False,
) -> OutboxEvent:
    """Queue ``type`` (e.g. "report.accepted") about ``report`` (and ``job``), written with the
    transaction. The visibility fields are copied from the report so that a stream can filter
    events without joins. ``internal``: the change's timeline entry is internal."""
    unit_ids = (
        await session.scalars(select(Job.unit_id).where(Job.report_id == report.id).distinct())
    ).all()
    event = new_event(
        type,
        report,
        # The region it happened in: an escalated case is owned above it, and the supervisors
        # of both regions (the owner's path is a prefix of this one) receive its events.
        region_path=await place_path(session, report) or await region_path(session, report),
        unit_ids=unit_ids,
        now=now,
        job=job,
        data=data,
        internal=internal,
    )
    session.add(event)
    # Now, not at commit: the event row refers to the report and job rows, and the next query
    # of the caller's transaction should see it.
    await session.flush()
    return event


# What record_all writes for one event: its type, the report, the job (or None), its data.
EventAbout = tuple[str, Report, Job | None, dict[str, Any]]


async def record_all(
    session: AsyncSession, events: Sequence[EventAbout], *, now: datetime, internal: bool = False
) -> None:
    """``record`` for many events at once (the overdue sweep's batch): the units of their
    reports and the paths they carry read in one query each, the rows inserted together."""
    if not events:
        return
    reports = {report.id: report for _, report, _, _ in events}
    units: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in await session.execute(
        select(Job.report_id, Job.unit_id).where(Job.report_id.in_(list(reports))).distinct()
    ):
        units.setdefault(row.report_id, []).append(row.unit_id)
    paths = await event_paths(session, reports.values())
    await insert_new(
        session,
        [
            new_event(
                type,
                report,
                region_path=paths[report.id],
                unit_ids=units.get(report.id, ()),
                now=now,
                job=job,
                data=data,
                internal=internal,
            )
            for type, report, job, data in events
        ],
    )


def new_event(
    type: str,
    report: Report,
    *,
    region_path: str,
    unit_ids: Iterable[uuid.UUID],
    now: datetime,
    job: Job | None = None,
    data: dict[str, Any] | None = None,
    internal: bool = False,
) -> OutboxEvent:
    """The outbox row for a caller that already knows the report's region path and the units
    of its jobs (a report just submitted has none): no query. The caller adds it to the
    session. A PostgreSQL trigger notifies ``NOTIFY_CHANNEL`` when the row is committed."""
    payload: dict[str, Any] = {
        "type": type,
        "occurred_at": now.isoformat(),
        "report": {
            "id": str(report.id),
            "number": report.number,
            "status": report.status.value,
            "version": report.version,
            "category_code": report.category_code,
            "community_id": str(report.community_id) if report.community_id else None,
            "region_id": str(report.region_id),
        },
        **({"job": _job(job)} if job is not None else {}),
        **({"data": data} if data else {}),
    }
    if internal:
        # Streams and unit webhooks find their events by these two fields. An internal change
        # (a decline, a request for more time, an overdue mark, a card) is the community's
        # and its supervisors' business, and the business of the unit whose job it is — not
        # the reporter's, nor other units' (the same rule as the timeline's internal entries).
        unit_ids = [job.unit_id] if job is not None else []
    return OutboxEvent(
        type=type,
        report_id=report.id,
        job_id=job.id if job is not None else None,
        community_id=report.community_id,
        region_path=region_path,
        unit_ids=sorted(str(u) for u in unit_ids),
        reporter_id=None if internal else report.reporter_id,
        payload=payload,
        created_at=now,
    )


def _job(job: Job) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "unit_id": str(job.unit_id),
        "is_lead": job.is_lead,
        "status": job.status.value,
    }
