"""Liveness, readiness and metrics for the orchestrator and Prometheus."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.calendar import service as calendar_service
from app.core.database_faults import DatabaseUnavailable
from app.core.deps import ClockDep, SessionMakerDep, SettingsDep
from app.core.errors import Forbidden, error_responses
from app.core.migrations import current_revisions, head_revisions
from app.core.workcalendar import china_today
from app.integrations.backlog import refresh_backlog_gauges
from app.ops.deps import require_metrics_access
from app.ops.schemas import Readiness

router = APIRouter(tags=["operations"])
log = logging.getLogger("app.ops")


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and migrated to the head revision",
    description=(
        "Also reports (without failing) how far ahead the working calendar is known: "
        "`calendar.covered_until`, and `calendar.warning` when the next 60 days are not all "
        "covered by the published schedule or days an administrator set."
    ),
    responses={
        200: {"model": Readiness, "description": "Ready"},
        503: {"model": Readiness, "description": "Not ready: the body says why"},
    },
)
async def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        current = await current_revisions(engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        detail = exc.reason if isinstance(exc, DatabaseUnavailable) else type(exc).__name__
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "detail": detail},
            status_code=503,
        )
    head = head_revisions()
    if current != head:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "not migrated",
                "current": sorted(current),
                "head": sorted(head),
            },
            status_code=503,
        )
    return JSONResponse(
        {
            "status": "ok",
            "database": "ok",
            "revision": sorted(current),
            "calendar": await _calendar_coverage(request),
        }
    )


async def _calendar_coverage(request: Request) -> dict[str, Any]:
    """How far ahead the working calendar is known. Reported, never failing readiness: an
    unimported year still has deadlines (Monday to Friday), and restarting would not help."""
    try:
        calendar = await request.app.state.calendar.current()
    except Exception as exc:  # the database answered a moment ago; say so rather than fail
        log.warning("readiness could not read the working calendar: %s", exc)
        return {"covered_until": None, "warning": "the working calendar could not be read"}
    today = china_today(request.app.state.clock.now())
    return calendar_service.coverage(calendar, today).model_dump(mode="json")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description=(
        "For the operator's scraper: from an address of `SSP_METRICS_ALLOWED_IPS` (default: "
        "loopback only), or with `Authorization: Bearer` and the token of `SSP_METRICS_TOKEN`."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "The metrics in Prometheus' text format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **error_responses(Forbidden),
    },
    dependencies=[Depends(require_metrics_access)],
)
async def metrics(
    sessionmaker: SessionMakerDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    await refresh_backlog_gauges(sessionmaker, settings, clock.now())
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
