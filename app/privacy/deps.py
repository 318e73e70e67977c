from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request

from app.auth.deps import CurrentPrincipal
from app.core.deps import ClockDep, client_address
from app.core.errors import ValidationFailed
from app.core.params import Moment
from app.models.audit import AuditAction
from app.privacy.audit import AuditContext, AuditLogFilters


async def get_audit_context(
    request: Request, principal: CurrentPrincipal, clock: ClockDep
) -> AuditContext:
    return AuditContext(
        actor_id=principal.user_id,
        client_address=client_address(request),
        request_id=request.scope.get("request_id"),
        now=clock.now(),
    )


AuditContextDep = Annotated[AuditContext, Depends(get_audit_context)]


async def audit_log_filters(
    actor_id: Annotated[uuid.UUID | None, Query(description="Who acted")] = None,
    subject_id: Annotated[uuid.UUID | None, Query(description="Whose data")] = None,
    action: AuditAction | None = None,
    occurred_from: Annotated[
        Moment, Query(alias="from", description="From this time on (RFC 3339)")
    ] = None,
    occurred_to: Annotated[
        Moment, Query(alias="to", description="Before this time (RFC 3339)")
    ] = None,
) -> AuditLogFilters:
    for name, value in (("from", occurred_from), ("to", occurred_to)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed.at(["query", name], "give a time zone (RFC 3339)")
    if occurred_from and occurred_to and occurred_from > occurred_to:
        raise ValidationFailed.at(["query", "to"], "is before from")
    return AuditLogFilters(
        actor_id=actor_id,
        subject_id=subject_id,
        action=action,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )


AuditLogFiltersDep = Annotated[AuditLogFilters, Depends(audit_log_filters)]
