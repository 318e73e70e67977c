"""The report actions of the community and the supervisors, the whistle (吹哨) among them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.cases.context import ActionContext
from app.cases.deps import Action, CaseStaffAction
from app.core.bodies import form_or_json, form_or_json_body
from app.core.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    ValidationFailed,
    error_responses,
)
from app.core.etags import version_tag
from app.core.params import ReportId
from app.models import Report
from app.photos.deps import PhotoServicesDep
from app.photos.exceptions import PhotosRejected
from app.photos.pending import sent_photos
from app.reports import queries as reports
from app.reports.schemas import ReportRead
from app.workflow import service, supervision, transfer, whistle
from app.workflow.schemas import (
    AcceptBody,
    EscalateBody,
    HoldBody,
    MarkDuplicateBody,
    RateBody,
    RejectBody,
    ReopenBody,
    ResolveReportForm,
    ResolveReportJSON,
    ResumeBody,
    StartBody,
    TransferBody,
    VerifyReportForm,
    VerifyReportJSON,
    WhistleRequest,
)

router = APIRouter(tags=["workflow"])

ACTION_ERRORS = error_responses(
    Unauthorized, Forbidden, NotFound, InvalidTransition, PreconditionFailed, ValidationFailed
)


async def respond(ctx: ActionContext, response: Response, report: Report) -> ReportRead:
    """The updated report as the caller sees it, with its new ETag."""
    read = await reports.present(ctx.session, ctx.principal, report, ctx.now, ctx.calendar)
    response.headers["ETag"] = version_tag(read.id, read.version)
    return read


@router.post(
    "/reports/{report_id}/accept",
    response_model=ReportRead,
    summary="立案: accept the report, with priority and re-categorising",
    responses=ACTION_ERRORS,
)
async def accept_report(
    report_id: ReportId, body: AcceptBody, ctx: Action, response: Response
) -> ReportRead:
    return await respond(ctx, response, await service.accept(ctx, report_id, body))


@router.post(
    "/reports/{report_id}/reject",
    response_model=ReportRead,
    summary="不予立案: reject the report, with a reason",
    responses=ACTION_ERRORS,
)
async def reject_report(
    report_id: ReportId, body: RejectBody, ctx: Action, response: Response
) -> ReportRead:
    return await respond(ctx, response, await service.reject(ctx, report_id, body))


@router.post(
    "/reports/{report_id}/mark-duplicate",
    response_model=ReportRead,
    summary="Mark as a duplicate of another report (chains resolve to the original)",
    responses=ACTION_ERRORS,
)
async def mark_duplicate_report(
    report_id: ReportId, body: MarkDuplicateBody, ctx: Action, response: Response
) -> ReportRead:
    return await respond(ctx, response, await service.mark_duplicate(ctx, report_id, body))


@router.post(
    "/reports/{report_id}/transfer",
    response_model=ReportRead,
    summary="转派: hand the report to another community",
    responses=ACTION_ERRORS,
)
async def transfer_report(
    report_id: ReportId, body: TransferBody, ctx: Action, response: Response
) -> ReportRead:
    return await respond(ctx, response, await transfer.transfer(ctx, report_id, body))


@router.post(
    "/reports/{report_id}/start",
    response_model=ReportRead,
    summary="社区自办: the community handles it itself, with an assignee",
    responses=ACTION_ERRORS,
)
async def start_report(
    report_id: ReportId, body: StartBody, ctx: Action, response: Response
) -> ReportRead:
    return await respond(ctx, response, await service.start(ctx, report_id, body))


@router.post(
    "/reports/{report_id}/reopen",
    response_model=ReportRead,
    summary="Reopen a closed case within the reopen period",
    responses=ACTION_ERRORS,
)
async def reopen_report(
    report_id: ReportId, body: ReopenBody, ctx: Action, response: Response
) -> ReportRead:
    return await respond(ctx, response, await service.reopen(ctx, report_id, body))


@router.post(
    "/reports/{report_id}/escalate",
    response_model=ReportRead,
    summary="上报/督办: ownership moves to the region above, with a supervision level",
    responses=ACTION_ERRORS,
)
async def escalate_report(
    report_id: ReportId, body: EscalateBody, ctx: Action, response: Response
) -> ReportRead:
    return await respond(ctx, response, await supervision.escalate(ctx, report_id, body))


@router.post(
    "/reports/{report_id}/hold",
    response_model=ReportRead,
    summary="挂账: put on hold (supervisors); every clock stops",
    responses=ACTION_ERRORS,
)
async def hold_report(
    report_id: ReportId, body: HoldBody, ctx: Action, response: Response
) -> ReportRead:
    return await respond(ctx, response, await supervision.hold(ctx, report_id, body))


@router.post(
    "/reports/{report_id}/resume",
    response_model=ReportRead,
    summary="Resume a case on hold; clocks restart where they stopped",
    responses=ACTION_ERRORS,
)
async def resume_report(
    report_id: ReportId, body: ResumeBody, ctx: Action, response: Response
) -> ReportRead:
    return await respond(ctx, response, await supervision.resume(ctx, report_id, body))


@router.post(
    "/reports/{report_id}/rate",
    response_model=ReportRead,
    summary="The reporter rates a closed case, once",
    responses=ACTION_ERRORS,
)
async def rate_report(
    report_id: ReportId, body: RateBody, ctx: Action, response: Response
) -> ReportRead:
    return await respond(ctx, response, await service.rate(ctx, report_id, body))


async def _resolve_body(request: Request) -> ResolveReportForm | ResolveReportJSON:
    body = await form_or_json(request, ResolveReportForm, ResolveReportJSON)
    assert isinstance(body, ResolveReportForm | ResolveReportJSON)
    return body


async def _verify_body(request: Request) -> VerifyReportForm | VerifyReportJSON:
    body = await form_or_json(request, VerifyReportForm, VerifyReportJSON)
    assert isinstance(body, VerifyReportForm | VerifyReportJSON)
    return body


@router.post(
    "/reports/{report_id}/resolve",
    response_model=ReportRead,
    summary="The community's handler reports it done, with photos (multipart, or JSON ids)",
    responses={**ACTION_ERRORS, **error_responses(PhotosRejected)},
    openapi_extra=form_or_json_body(ResolveReportForm, ResolveReportJSON),
)
async def resolve_report(
    report_id: ReportId,
    ctx: Action,
    response: Response,
    photo_services: PhotoServicesDep,
    body: Annotated[ResolveReportForm | ResolveReportJSON, Depends(_resolve_body)],
) -> ReportRead:
    sent = await sent_photos(body)
    report = await service.resolve(ctx, report_id, body.note, sent, photo_services)
    return await respond(ctx, response, report)


@router.post(
    "/reports/{report_id}/verify",
    response_model=ReportRead,
    summary="核查: passed closes the case; failed sends it back for rework (multipart or JSON)",
    responses={**ACTION_ERRORS, **error_responses(PhotosRejected)},
    openapi_extra=form_or_json_body(VerifyReportForm, VerifyReportJSON),
)
async def verify_report(
    report_id: ReportId,
    ctx: Action,
    response: Response,
    photo_services: PhotoServicesDep,
    body: Annotated[VerifyReportForm | VerifyReportJSON, Depends(_verify_body)],
) -> ReportRead:
    sent = await sent_photos(body)
    report = await service.verify(ctx, report_id, body.passed, body.note, sent, photo_services)
    return await respond(ctx, response, report)


@router.post(
    "/reports/{report_id}/whistle",
    response_model=ReportRead,
    summary="Blow the whistle (吹哨): call units to the case, one job each",
    description=(
        "Community staff call units paired with their community for the report's category; "
        "supervisors covering the report call units of their region, of the regions above it "
        "or inside it; admins any unit. The first unit leads (主办) unless `lead_unit_id` "
        "names another; while a lead job is open, units called assist (协办) and naming a "
        "lead is refused. A unit with an open job on the case cannot be called again. Each "
        "job must be accepted within the category's accept limit and completed by "
        "`complete_by`, or else within the category's resolve limit counted from its "
        "acceptance. Allowed while the case is "
        "accepted, in progress or dispatched; it becomes dispatched. Returns the report."
    ),
    responses=ACTION_ERRORS,
)
async def whistle_report(
    report_id: ReportId,
    body: WhistleRequest,
    ctx: CaseStaffAction,
    response: Response,
) -> ReportRead:
    return await respond(ctx, response, await whistle.whistle(ctx, report_id, body))
