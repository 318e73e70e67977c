"""The hours a case took, written on the case when they become known, so that statistics average
stored numbers instead of working each case's office hours out again on every read.

Hours count in the category's kind: office hours of the working calendar for a working-hour
category, calendar hours otherwise; hours to resolve leave the holds out (挂账 stops the clocks),
the way the category's limits count them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.workcalendar import WorkingCalendar
from app.models import Category, Report
from app.models.enums import HoursKind, ReportStatus


def hours_to_record(report: Report) -> bool:
    """Whether the status the case just entered makes one of its hours known: its first
    acceptance, or a resolution (each one: a resolution after rework replaces the last)."""
    first_acceptance = report.accepted_at is not None and report.hours_to_accept is None
    return first_acceptance or report.status is ReportStatus.resolved


async def record_hours(session: AsyncSession, report: Report, calendar: WorkingCalendar) -> None:
    category = await session.get_one(Category, report.category_code)
    working = category.hours_kind is HoursKind.working

    def hours(start: datetime, end: datetime) -> float:
        if working:
            return calendar.working_hours_between(start, end)
        return (end - start).total_seconds() / 3600

    if report.accepted_at is not None and report.hours_to_accept is None:
        report.hours_to_accept = hours(report.created_at, report.accepted_at)
    if (
        report.status is ReportStatus.resolved
        and report.accepted_at is not None
        and report.resolved_at is not None
    ):
        held = report.held_working_seconds if working else report.held_seconds
        report.hours_to_resolve = hours(report.accepted_at, report.resolved_at) - held / 3600
