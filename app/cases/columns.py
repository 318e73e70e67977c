"""Correlated columns that several readers of cases show beside each case (the ledger, Open311)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.models import Job, Photo, Report, Unit
from app.models.enums import JobStatus, PhotoKind


def lead_unit_name() -> Any:
    """The unit of the case's lead job (主办), the latest one if the lead changed; a declined job
    is not shown, as the case's public jobs leave it out."""
    lead = aliased(Job)
    return (
        select(Unit.name)
        .join(lead, lead.unit_id == Unit.id)
        .where(
            lead.report_id == Report.id,
            lead.is_lead.is_(True),
            lead.status != JobStatus.declined,
        )
        .order_by(lead.created_at.desc(), lead.id.desc())
        .limit(1)
        .correlate(Report)
        .scalar_subquery()
        .label("lead_unit")
    )


def first_photo_id() -> Any:
    """The reporter's first photo of the case: the one that stands for it in a list."""
    return (
        select(Photo.id)
        .where(Photo.report_id == Report.id, Photo.kind == PhotoKind.report)
        .order_by(Photo.position, Photo.id)
        .limit(1)
        .correlate(Report)
        .scalar_subquery()
        .label("first_photo_id")
    )
