"""Writing events to the outbox, in the transaction of the change they describe."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job, OutboxEvent, Report
from app.reports.visibility import region_path

# The channel the live-event brokers LISTEN on (PostgreSQL only; see app/integrations/stream.py).
NOTIFY_CHANNEL = "ssp_outbox"


async def record(
    session: AsyncSession,
    type: str,
    report: Report,
    *,
    now: datetime,
    job: Job | None = None,
    data: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Queue ``type`` (e.g. "report.accepted") about ``report`` (and ``job``). The visibility
    fields are copied from the report so that a stream can filter events without joins."""
    path = await region_path(session, report)
    unit_ids = (
        await session.scalars(select(Job.unit_id).where(Job.report_id == report.id).distinct())
    ).all()
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
    event = OutboxEvent(
        type=type,
        report_id=report.id,
        job_id=job.id if job is not None else None,
        community_id=report.community_id,
        region_path=path,
        unit_ids=sorted(str(u) for u in unit_ids),
        reporter_id=report.reporter_id,
        payload=payload,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Delivered at commit (and never on rollback), so a broker woken by it finds the row;
        # PostgreSQL folds repeats within one transaction into one notification.
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
    return event


def _job(job: Job) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "unit_id": str(job.unit_id),
        "is_lead": job.is_lead,
        "status": job.status.value,
    }
