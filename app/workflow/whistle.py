"""The whistle (吹哨): a community, or a supervisor above it, calls units to a case, one job
(派单) per unit, one of them the lead (主办).

Who may call which unit:
- community staff: units paired with their community (结对) for the report's category (a pairing
  without categories covers all; one listing a category class covers its leaves);
- supervisors covering the report: units whose region is theirs, inside it or above it (units
  mostly sit at the banner level; a township's supervisor dispatches to the banner's
  departments, and a banner's to its townships' units);
- admins: any unit.
Someone holding several of these parts may call any unit one of them allows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import region_path
from app.cases import engine as case_engine
from app.cases.context import ActionContext
from app.cases.parts import Parts
from app.cases.transitions import Actor, ReportAction
from app.core.errors import FieldError, ValidationFailed
from app.core.workcalendar import due_at
from app.integrations import outbox
from app.models import Category, Job, Pairing, Region, Report, Unit
from app.models.enums import OPEN_JOB_STATUSES, HoursKind, JobStatus, Role
from app.models.ids import new_id
from app.workflow.schemas import WhistleRequest


async def _category_lineage(session: AsyncSession, category: Category) -> set[str]:
    """The category's code and its ancestors' (a pairing may name a whole class)."""
    codes = {category.code}
    parent = category.parent_code
    while parent is not None and parent not in codes:
        codes.add(parent)
        parent = await session.scalar(select(Category.parent_code).where(Category.code == parent))
    return codes


def _covers_category(pairing: Pairing, lineage: set[str]) -> bool:
    return pairing.category_codes is None or not lineage.isdisjoint(pairing.category_codes)


async def _check_units(
    session: AsyncSession,
    principal: Principal,
    report: Report,
    actors: Parts,
    category: Category,
    unit_ids: Sequence[uuid.UUID],
) -> dict[uuid.UUID, str]:
    """The units' names; 422 naming every unit the caller may not call (all at once)."""
    units = await _units_with_paths(session, unit_ids)
    pairings = await _pairings(session, report, actors, unit_ids)
    lineage = await _category_lineage(session, category)
    report_path = await region_path(session, report)
    supervised = (
        [p for p in principal.region_paths(Role.supervisor) if report_path.startswith(p)]
        if Actor.supervisor in actors
        else []
    )
    errors: list[FieldError] = []
    for index, unit_id in enumerate(unit_ids):
        found = units.get(unit_id)
        if found is None:
            errors.append(
                FieldError(loc=["body", "unit_ids", index], msg=f"no unit with id {unit_id}")
            )
            continue
        unit, unit_path = found
        pairing = pairings.get(unit_id)
        if (
            principal.is_admin
            or (pairing is not None and _covers_category(pairing, lineage))
            or any(unit_path.startswith(p) or p.startswith(unit_path) for p in supervised)
        ):
            continue
        errors.append(_refusal(index, unit, actors, category))
    if errors:
        raise ValidationFailed("; ".join(e.msg for e in errors), errors=errors)
    return {unit_id: unit.name for unit_id, (unit, _) in units.items()}


async def _units_with_paths(
    session: AsyncSession, unit_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Unit, str]]:
    """Each unit that exists, with the path of its region."""
    rows = await session.execute(
        select(Unit, Region.path)
        .join(Region, Region.id == Unit.region_id)
        .where(Unit.id.in_(list(unit_ids)))
    )
    return {unit.id: (unit, path) for unit, path in rows.all()}


async def _pairings(
    session: AsyncSession, report: Report, actors: Parts, unit_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Pairing]:
    """The units' pairings with the report's community, where the caller calls as its staff."""
    if Actor.community_staff not in actors or report.community_id is None:
        return {}
    return {
        p.unit_id: p
        for p in await session.scalars(
            select(Pairing).where(
                Pairing.community_id == report.community_id,
                Pairing.unit_id.in_(list(unit_ids)),
            )
        )
    }


def _refusal(index: int, unit: Unit, actors: Parts, category: Category) -> FieldError:
    """Why the caller may not call this unit, in the part(s) they play in the case."""
    reasons = []
    if Actor.community_staff in actors:
        reasons.append(f"not paired with this community for {category.code}")
    if Actor.supervisor in actors:
        reasons.append("outside your region")
    return FieldError(
        loc=["body", "unit_ids", index],
        msg=f"unit {unit.name} ({unit.id}) is {' and '.join(reasons)}",
    )


def _check_not_already_called(
    open_jobs: Sequence[Job], unit_ids: Sequence[uuid.UUID], unit_names: dict[uuid.UUID, str]
) -> None:
    busy = {job.unit_id for job in open_jobs}
    errors = [
        FieldError(
            loc=["body", "unit_ids", index],
            msg=f"unit {unit_names[unit_id]} ({unit_id}) already has an open job on this case",
        )
        for index, unit_id in enumerate(unit_ids)
        if unit_id in busy
    ]
    if errors:
        raise ValidationFailed("; ".join(e.msg for e in errors), errors=errors)


def _lead_unit(body: WhistleRequest, open_jobs: Sequence[Job]) -> uuid.UUID | None:
    """The unit to lead: the one named, else the first called; none while a lead job is open
    (more units called then assist), and naming one then is refused: one lead at a time."""
    lead_open = any(job.is_lead for job in open_jobs)
    if lead_open:
        if body.lead_unit_id is not None:
            raise ValidationFailed.at(
                ["body", "lead_unit_id"],
                "the case already has an open lead job; it must decline or be cancelled "
                "before another unit can lead",
            )
        return None
    return body.lead_unit_id or body.unit_ids[0]


def _new_jobs(
    ctx: ActionContext,
    report: Report,
    category: Category,
    body: WhistleRequest,
    lead_unit_id: uuid.UUID | None,
) -> list[Job]:
    """One pending job per unit called, with its answer and completion deadlines."""
    # Each unit's completion clock starts when it accepts the job (see ``accept_job``), unless
    # the whistle names the completion time: then every unit must be done by then.
    complete_due = body.complete_by.astimezone(UTC) if body.complete_by is not None else None
    accept_due = due_at(
        ctx.calendar,
        ctx.now,
        category.accept_within_hours,
        category.hours_kind is HoursKind.working,
    )
    if complete_due is not None:
        # A completion time shorter than the answer limit would leave the unit overdue before
        # it had to answer: it must answer by then at the latest.
        accept_due = min(accept_due, complete_due)
    return [
        Job(
            id=new_id(),
            report_id=report.id,
            unit_id=unit_id,
            is_lead=unit_id == lead_unit_id,
            status=JobStatus.pending,
            version=1,
            dispatched_by_id=ctx.principal.user_id,
            accept_due_at=accept_due,
            complete_due_at=complete_due,
            complete_by_explicit=body.complete_by is not None,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        for unit_id in body.unit_ids
    ]


async def whistle(ctx: ActionContext, report_id: uuid.UUID, body: WhistleRequest) -> Report:
    session, principal, now = ctx.session, ctx.principal, ctx.now
    report, actors = await case_engine.load_for_action(session, principal, report_id, ctx.if_match)
    case_engine.ensure_allowed(report, ReportAction.whistle, actors)
    if body.complete_by is not None and body.complete_by <= now:
        raise ValidationFailed.at(["body", "complete_by"], "must be in the future")
    category = await session.get_one(Category, report.category_code)
    unit_names = await _check_units(session, principal, report, actors, category, body.unit_ids)
    open_jobs = list(
        await session.scalars(
            select(Job).where(Job.report_id == report.id, Job.status.in_(list(OPEN_JOB_STATUSES)))
        )
    )
    _check_not_already_called(open_jobs, body.unit_ids, unit_names)
    lead_unit_id = _lead_unit(body, open_jobs)
    jobs = _new_jobs(ctx, report, category, body, lead_unit_id)
    session.add_all(jobs)
    await session.flush()
    await case_engine.transition(
        session,
        report,
        ReportAction.whistle,
        actors=actors,
        principal=principal,
        now=now,
        note=body.note,
        data={
            "unit_ids": [str(u) for u in body.unit_ids],
            "lead_unit_id": str(lead_unit_id) if lead_unit_id else None,
            "job_ids": [str(job.id) for job in jobs],
        },
    )
    for job in jobs:
        await outbox.record(session, "job.dispatched", report, now=now, job=job)
    return report
