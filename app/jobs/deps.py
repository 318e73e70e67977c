"""Who may read jobs, and the inbox filters. (The action routes take their context and role
guard from ``app.cases.deps``; the services check the caller's part in the very case.)"""

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
