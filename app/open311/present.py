"""A case as an Open311 service request: the standard fields always (every key, null where
there is no value), and with ``extensions=true`` an ``extended_attributes`` object beside them —
the detailed status, the places, the units on the case, the deadlines with their lights and
every photo the reporter took."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.clocks import NO_HISTORY, accept_light, load_histories, reading_time, resolve_light
from app.core.lights import ClockRules
from app.core.pruning import of_cases
from app.core.workcalendar import WorkingCalendar
from app.models import Job, Photo, Unit
from app.models.enums import HoursKind, JobStatus, PhotoKind
from app.open311.requests import agency, status_notes, status_of
from app.open311.times import w3c

PhotoLink = Callable[[uuid.UUID], str]


def service_request(row: Any, link: PhotoLink) -> dict[str, Any]:
    report = row.Report
    photo = row.first_photo_id
    return {
        "service_request_id": report.number,
        "status": status_of(report.status),
        "status_notes": status_notes(report),
        "service_name": row.service_name,
        "service_code": report.category_code,
        "description": report.description,
        "agency_responsible": agency(row),
        "service_notice": None,
        "requested_datetime": w3c(report.created_at),
        "updated_datetime": w3c(report.updated_at),
        "expected_datetime": w3c(report.resolve_due_at),
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lng,
        # A photo the case has, else the link an integration filed it with (never fetched).
        "media_url": link(photo) if photo is not None else row.filed_media_url,
    }


async def _units(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    """The units on each case, lead first; declined jobs are the units' business, not shown."""
    rows = await session.execute(
        select(Job.report_id, Unit.name, Job.is_lead, Job.status)
        .join(Unit, Unit.id == Job.unit_id)
        .where(of_cases(session, Job.report_id, ids), Job.status != JobStatus.declined)
        .order_by(Job.report_id, Job.is_lead.desc(), Job.created_at, Job.id)
    )
    units: dict[uuid.UUID, list[Any]] = {}
    for report_id, name, is_lead, status in rows:
        units.setdefault(report_id, []).append(
            {"name": name, "lead": is_lead, "status": status.value}
        )
    return units


async def _photos(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    rows = await session.execute(
        select(Photo.report_id, Photo.id)
        .where(of_cases(session, Photo.report_id, ids), Photo.kind == PhotoKind.report)
        .order_by(Photo.report_id, Photo.position, Photo.id)
    )
    photos: dict[uuid.UUID, list[Any]] = {}
    for report_id, photo_id in rows:
        photos.setdefault(report_id, []).append(photo_id)
    return photos


async def extended_attributes(
    session: AsyncSession,
    rows: Sequence[Any],
    calendar: WorkingCalendar,
    now: datetime,
    link: PhotoLink,
) -> dict[uuid.UUID, dict[str, Any]]:
    """``extended_attributes`` of each case of the page, in three queries for the page."""
    ids = [row.Report.id for row in rows]
    units, photos = await _units(session, ids), await _photos(session, ids)
    histories = await load_histories(session, [r.Report.id for r in rows if r.Report.held_seconds])
    out: dict[uuid.UUID, dict[str, Any]] = {}
    for row in rows:
        report = row.Report
        rules = ClockRules(working=row.hours_kind is HoursKind.working, calendar=calendar)
        at = reading_time(report.status, report.on_hold_at, now)
        pauses = histories.get(report.id, NO_HISTORY).pauses
        out[report.id] = {
            "detailed_status": report.status.value,
            "community": row.community_name,
            "region": row.region_name,
            "units": units.get(report.id, []),
            "deadlines": _deadlines(report, rules, at, pauses),
            "media_urls": [link(photo) for photo in photos.get(report.id, [])],
        }
    return out


def _deadlines(report: Any, rules: ClockRules, at: datetime, pauses: Any) -> list[Any]:
    """The case's clocks that were set, as the case's own page shows them."""
    clocks = (
        ("accept", report.accept_due_at, accept_light(report, rules, at)),
        ("resolve", report.resolve_due_at, resolve_light(report, rules, at, pauses)),
    )
    return [
        {"kind": kind, "due_at": w3c(due), "light": _value(light)}
        for kind, due, light in clocks
        if due is not None
    ]


def _value(light: Any) -> str | None:
    return None if light is None else str(light.value)
