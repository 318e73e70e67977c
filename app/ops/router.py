"""Liveness, readiness and metrics for the orchestrator and Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.core.deps import ClockDep, SessionMakerDep, SettingsDep
from app.core.migrations import current_revisions, head_revisions
from app.integrations.backlog import refresh_backlog_gauges

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and migrated to the head revision",
    responses={503: {"description": "Not ready: the body says why"}},
)
async def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        current = await current_revisions(engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "detail": type(exc).__name__},
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
    return JSONResponse({"status": "ok", "database": "ok", "revision": sorted(current)})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(
    sessionmaker: SessionMakerDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    await refresh_backlog_gauges(sessionmaker, settings, clock.now())
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
