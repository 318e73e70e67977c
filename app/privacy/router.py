from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.auth.deps import AdminPrincipal, UserPrincipal
from app.core.deps import SessionDep
from app.core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, error_responses
from app.core.pagination import Page, PageParams, page_params
from app.core.params import ReportId, UserId
from app.privacy import cancellation, contacts, export
from app.privacy.audit import list_audit_entries
from app.privacy.deps import AuditContextDep, AuditLogFiltersDep
from app.privacy.exceptions import LastAdministrator
from app.privacy.schemas import (
    AdminCancellation,
    AuditEntryRead,
    CancellationRead,
    IntegrationContactRead,
    PersonalDataExport,
    SelfCancellation,
)

router = APIRouter(tags=["privacy"])

_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9_.\-]")


@router.get(
    "/me/export",
    response_model=PersonalDataExport,
    summary="Download a copy of my personal data (JSON)",
    description=(
        "Everything the service holds about the caller: profile (phone in full), roles, "
        "sign-ins, dashboard keys and webhooks they made (never secrets), check-ins, the "
        "reports they filed with their photos, their comments and ratings, the points ledger, "
        "and the recorded accesses to their data. Sent as an attachment; the export itself is "
        "recorded in the audit log."
    ),
    responses=error_responses(Unauthorized, Forbidden),
)
async def export_my_data(
    principal: UserPrincipal, session: SessionDep, audit: AuditContextDep, response: Response
) -> PersonalDataExport:
    assert principal.user_id is not None
    data = await export.export_personal_data(session, principal.user_id, audit)
    stamp = data.generated_at.strftime("%Y%m%dT%H%M%SZ")
    name = _UNSAFE_IN_FILENAME.sub("_", data.profile.username)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="suishoupai-personal-data-{name}-{stamp}.json"'
    )
    # Personal data: no shared or browser cache keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    return data


@router.post(
    "/me/cancel",
    response_model=CancellationRead,
    summary="Cancel my account (账号注销): my personal data is erased; my reports stay, unnamed",
    description=(
        "Confirm with the current password. The name, phone, password and roles are erased and "
        "the username retired for good; every sign-in, dashboard key and webhook of the "
        "account stops; check-ins end; the points balance is forfeited. Reports stay as cases "
        "with the reporter shown as 已注销用户. Cannot be undone; this token stops working."
    ),
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed, LastAdministrator),
)
async def cancel_my_account(
    body: SelfCancellation, principal: UserPrincipal, session: SessionDep, audit: AuditContextDep
) -> CancellationRead:
    assert principal.user_id is not None
    return await cancellation.cancel_own_account(
        session, principal.user_id, body.password, body.reason, audit
    )


@router.post(
    "/users/{user_id}/cancel",
    response_model=CancellationRead,
    tags=["admin"],
    summary="Cancel an account on the person's request (admin)",
    description=(
        "The same as `POST /me/cancel`, with the reason on record. Cancelling an account "
        "already cancelled changes nothing and answers `already_cancelled: true`."
    ),
    responses=error_responses(
        Unauthorized, Forbidden, NotFound, ValidationFailed, LastAdministrator
    ),
)
async def cancel_account(
    user_id: UserId,
    body: AdminCancellation,
    _: AdminPrincipal,
    session: SessionDep,
    audit: AuditContextDep,
) -> CancellationRead:
    return await cancellation.cancel_account_on_request(session, user_id, body.reason, audit)


@router.get(
    "/admin/audit-log",
    response_model=Page[AuditEntryRead],
    tags=["admin"],
    summary="Who accessed whose personal data, newest first (admin)",
    description=(
        "Data exports, account cancellations and directory reads that showed administrators "
        "fields others see masked. Filters: `actor_id`, `subject_id`, `action`, `from` "
        "(inclusive) and `to` (exclusive), times with a zone."
    ),
    responses=error_responses(Unauthorized, Forbidden, ValidationFailed),
)
async def read_audit_log(
    _: AdminPrincipal,
    session: SessionDep,
    filters: AuditLogFiltersDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[AuditEntryRead]:
    items, cursor = await list_audit_entries(session, filters, page)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/reports/{report_id}/contact",
    response_model=IntegrationContactRead,
    tags=["reports"],
    summary="Whom an integration filed the case for (Open311's contact fields), masked",
    description=(
        "For the case's staff: the integration, its media link and the contact it sent, phone "
        "and email masked. Administrators may ask `unmasked=true`; each such read is recorded "
        "in the audit log. 404 for a case filed natively."
    ),
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def read_integration_contact(
    report_id: ReportId,
    principal: UserPrincipal,
    session: SessionDep,
    audit: AuditContextDep,
    response: Response,
    unmasked: Annotated[bool, Query(description="Administrators: phone and email in full")] = False,
) -> IntegrationContactRead:
    contact = await contacts.read_contact(session, principal, report_id, unmasked, audit)
    response.headers["Cache-Control"] = "no-store"
    return IntegrationContactRead(**contact)
