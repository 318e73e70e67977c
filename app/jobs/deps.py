"""Role guards of the whistle and job routes, the ``If-Match`` header and the inbox filters.
The guards only keep out roles that can never act; the services check the caller's part in
the very case (and hide cases outside their scope)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query

from app.auth.deps import require_roles
from app.auth.principal import Principal
from app.jobs.queries import JobFilters
from app.models.enums import JobStatus, Role

JobReader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.unit_staff,
            Role.community_staff,
            Role.grid_worker,
            Role.supervisor,
            Role.viewer,
        )
    ),
]
UnitStaffPrincipal = Annotated[Principal, Depends(require_roles(Role.unit_staff))]
# Whistling, deciding extensions and cancelling jobs: the case's community staff or supervisors.
CaseStaffPrincipal = Annotated[
    Principal, Depends(require_roles(Role.community_staff, Role.supervisor))
]


async def job_filters(
    status: Annotated[list[JobStatus] | None, Query(description="Repeatable")] = None,
    overdue: Annotated[
        bool,
        Query(
            description="Only open jobs past a deadline: not accepted in time, or not "
            "completed in time"
        ),
    ] = False,
    unit_id: Annotated[uuid.UUID | None, Query(description="One unit's jobs")] = None,
    report_id: Annotated[uuid.UUID | None, Query(description="One case's jobs")] = None,
) -> JobFilters:
    return JobFilters(
        statuses=tuple(status or ()), overdue=overdue, unit_id=unit_id, report_id=report_id
    )


JobFiltersDep = Annotated[JobFilters, Depends(job_filters)]
