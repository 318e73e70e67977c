"""The person an integration filed a case for (Open311's contact fields): personal data of
someone who has no account here. The case's staff see it masked like every phone; an
administrator may read it in full, and each such read is written to the audit log, recorded
against the integration's account (the case's reporter)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import report_scope
from app.cases.visibility import case_view
from app.core.errors import Forbidden, NotFound
from app.core.phones import mask_phone
from app.models import IntegrationFiling, Report
from app.models.audit import AuditAction
from app.privacy.audit import AuditContext, record_personal_data_access
from app.reports import presenter

MASKED_FIELDS = ("email", "phone")


def mask_email(email: str | None) -> str | None:
    """The first character of the name and the whole domain: ``zhangsan@example.com`` →
    ``z*******@example.com``; enough to recognise an address, not to write to it."""
    if not email or "@" not in email:
        return email
    name, _, domain = email.rpartition("@")
    return f"{name[:1]}{'*' * max(len(name) - 1, 1)}@{domain}"


async def read_contact(
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    unmasked: bool,
    audit: AuditContext,
) -> dict[str, Any]:
    """How the case came in through an integration, for the case's staff; 404 for a case the
    caller may not see or one filed natively, 403 for one the caller sees but does not handle."""
    row = (
        await session.execute(
            presenter.case_with_paths()
            .add_columns(IntegrationFiling)
            .join(IntegrationFiling, IntegrationFiling.report_id == Report.id)
            .where(Report.id == report_id, report_scope(principal))
        )
    ).one_or_none()
    if row is None:
        raise NotFound("No integration contact for this report")
    # Only those who handle the case: not its reporter (the integration), the units on it or
    # the viewers of its region.
    if not case_view(principal, row.Report, row.region_path, row.place_path).internal:
        raise Forbidden("Only the case's staff read whom it was filed for")
    filing: IntegrationFiling = row.IntegrationFiling
    if unmasked:
        if not principal.is_admin:
            raise Forbidden("Only administrators read a contact unmasked")
        await record_personal_data_access(
            session,
            audit,
            AuditAction.contact_read_unmasked,
            [row.Report.reporter_id],
            {"report": row.Report.number, "fields": list(MASKED_FIELDS)},
        )
    return {
        "integration": filing.integration,
        "media_url": filing.media_url,
        "first_name": filing.first_name,
        "last_name": filing.last_name,
        "email": filing.email if unmasked else mask_email(filing.email),
        "phone": filing.phone if unmasked else mask_phone(filing.phone),
        "device_id": filing.device_id,
        "account_id": filing.account_id,
        "filed_at": filing.created_at,
        "erased_at": filing.contact_erased_at,
    }
