"""The units' jobs (派单): reading them and acting on them. HTTP only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response

from app.cases.deps import CaseStaffAction, UnitAction
from app.core.bodies import form_or_json, form_or_json_body
from app.core.deps import CalendarDep, ClockDep, SessionDep
from app.core.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    Unauthorized,
    ValidationFailed,
    error_responses,
)
from app.core.etags import version_tag
from app.core.pagination import Page, PageParams, page_params
from app.core.params import JobId
from app.core.responses import PresentedJSON, page_response
from app.jobs import extensions, progress, queries, service
from app.jobs.deps import (
    JobFiltersDep,
    JobReader,
)
from app.jobs.exceptions import ExtensionAlreadyPending, NoPendingExtension
from app.jobs.schemas import (
    CompleteJobForm,
    CompleteJobJSON,
    ExtensionCreate,
    JobCancel,
    JobDecline,
    JobNoteBody,
    JobRead,
    ReportJobProgressForm,
    ReportJobProgressJSON,
)
from app.photos.deps import PhotoServicesDep
from app.photos.exceptions import PhotosRejected
from app.photos.pending import sent_photos

router = APIRouter(tags=["jobs"])

ACTION_ERRORS = (
    Unauthorized,
    Forbidden,
    NotFound,
    InvalidTransition,
    PreconditionFailed,
    ValidationFailed,
)
JobNote = Annotated[JobNoteBody, Body()]


def tagged(response: Response, job: JobRead) -> JobRead:
    """The job, with its ETag: the If-Match of the next action on it."""
    response.headers["ETag"] = version_tag(job.id, job.version)
    return job


@router.get(
    "/jobs",
    response_model=Page[JobRead],
    summary="Jobs the caller may see (a unit's inbox), newest first",
    description=(
        "Unit staff see their unit's jobs; community staff and grid workers those of their "
        "community's cases; supervisors and viewers those of their region's subtree; admins "
        "all."
    ),
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def list_jobs(
    principal: JobReader,
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    filters: JobFiltersDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> PresentedJSON:
    items, cursor = await queries.list_jobs(
        session, principal, filters, page, clock.now(), calendar
    )
    return page_response(items, cursor)


@router.get(
    "/jobs/{job_id}",
    response_model=JobRead,
    summary="One job, with its deadlines and extension requests",
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def read_job(
    job_id: JobId,
    principal: JobReader,
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    response: Response,
) -> JobRead:
    job = await queries.read_visible_job(session, principal, job_id, clock.now(), calendar)
    return tagged(response, job)


@router.post(
    "/jobs/{job_id}/accept",
    response_model=JobRead,
    summary="The unit reports for duty (报到/接单): its clock starts",
    description="The job's unit staff; pending jobs.",
    responses=error_responses(*ACTION_ERRORS),
)
async def accept_job(
    job_id: JobId, ctx: UnitAction, response: Response, body: JobNote = JobNoteBody()
) -> JobRead:
    return tagged(response, await service.accept_job(ctx, job_id, body.note))


@router.post(
    "/jobs/{job_id}/decline",
    response_model=JobRead,
    summary="The unit declines the job (退单) with a reason",
    description=(
        "The job's unit staff; pending jobs. When no unit is left on the case it goes back to "
        "the community (accepted); when the lead declines while others assist, the case stays "
        "dispatched and shows `needs_redispatch` until the community names a new lead."
    ),
    responses=error_responses(*ACTION_ERRORS),
)
async def decline_job(
    job_id: JobId, body: JobDecline, ctx: UnitAction, response: Response
) -> JobRead:
    return tagged(response, await service.decline_job(ctx, job_id, body))


async def _progress_body(request: Request) -> ReportJobProgressForm | ReportJobProgressJSON:
    body = await form_or_json(request, ReportJobProgressForm, ReportJobProgressJSON)
    assert isinstance(body, ReportJobProgressForm | ReportJobProgressJSON)
    return body


async def _complete_body(request: Request) -> CompleteJobForm | CompleteJobJSON:
    body = await form_or_json(request, CompleteJobForm, CompleteJobJSON)
    assert isinstance(body, CompleteJobForm | CompleteJobJSON)
    return body


@router.post(
    "/jobs/{job_id}/progress",
    response_model=JobRead,
    summary="The unit reports progress, with photos if it has them",
    description="Multipart: `note` and up to 9 files in `photos`; or JSON: `note` and "
    "`photo_ids` of photos uploaded first. The job's unit staff; accepted jobs. The note and "
    "photos go into the case's timeline.",
    responses=error_responses(*ACTION_ERRORS, PhotosRejected, PayloadTooLarge),
    openapi_extra=form_or_json_body(ReportJobProgressForm, ReportJobProgressJSON),
)
async def report_job_progress(
    job_id: JobId,
    ctx: UnitAction,
    response: Response,
    photo_services: PhotoServicesDep,
    body: Annotated[ReportJobProgressForm | ReportJobProgressJSON, Depends(_progress_body)],
) -> JobRead:
    sent = await sent_photos(body)
    job = await progress.report_progress(ctx, job_id, body.note, sent, photos=photo_services)
    return tagged(response, job)


@router.post(
    "/jobs/{job_id}/complete",
    response_model=JobRead,
    summary="The unit is done (办结), with at least one “after” photo",
    description=(
        "Multipart: `note` and 1 to 9 files in `photos`; or JSON: `note` and `photo_ids` of "
        "photos uploaded first. The job's unit staff; accepted jobs. The lead's completion "
        "resolves the case (待核查); assisting jobs still open carry on."
    ),
    responses=error_responses(*ACTION_ERRORS, PhotosRejected, PayloadTooLarge),
    openapi_extra=form_or_json_body(CompleteJobForm, CompleteJobJSON),
)
async def complete_job(
    job_id: JobId,
    ctx: UnitAction,
    response: Response,
    photo_services: PhotoServicesDep,
    body: Annotated[CompleteJobForm | CompleteJobJSON, Depends(_complete_body)],
) -> JobRead:
    sent = await sent_photos(body)
    job = await progress.complete_job(ctx, job_id, body.note, sent, photos=photo_services)
    return tagged(response, job)


@router.post(
    "/jobs/{job_id}/extension",
    response_model=JobRead,
    summary="The unit asks for more time (延期申请)",
    description="The job's unit staff; accepted jobs; one request waiting at a time.",
    responses=error_responses(*ACTION_ERRORS, ExtensionAlreadyPending),
)
async def request_extension(
    job_id: JobId, body: ExtensionCreate, ctx: UnitAction, response: Response
) -> JobRead:
    return tagged(response, await extensions.request_extension(ctx, job_id, body))


@router.post(
    "/jobs/{job_id}/extension/grant",
    response_model=JobRead,
    summary="Grant the unit's request for more time: the completion time moves",
    description="The case's community staff or a supervisor covering it.",
    responses=error_responses(*ACTION_ERRORS, NoPendingExtension),
)
async def grant_extension(
    job_id: JobId, ctx: CaseStaffAction, response: Response, body: JobNote = JobNoteBody()
) -> JobRead:
    job = await extensions.decide_extension(ctx, job_id, body.note, grant=True)
    return tagged(response, job)


@router.post(
    "/jobs/{job_id}/extension/refuse",
    response_model=JobRead,
    summary="Refuse the unit's request for more time",
    description="The case's community staff or a supervisor covering it.",
    responses=error_responses(*ACTION_ERRORS, NoPendingExtension),
)
async def refuse_extension(
    job_id: JobId, ctx: CaseStaffAction, response: Response, body: JobNote = JobNoteBody()
) -> JobRead:
    job = await extensions.decide_extension(ctx, job_id, body.note, grant=False)
    return tagged(response, job)


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobRead,
    summary="Withdraw a pending or accepted job",
    description=(
        "The case's community staff or a supervisor covering it. As with a decline, a case "
        "with no unit left goes back to the community (accepted)."
    ),
    responses=error_responses(*ACTION_ERRORS),
)
async def cancel_job(
    job_id: JobId, body: JobCancel, ctx: CaseStaffAction, response: Response
) -> JobRead:
    return tagged(response, await service.cancel_job(ctx, job_id, body))
