"""The application factory: settings, database, routers, middleware, error handlers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.auth.router import router as auth_router
from app.calendar.cache import CalendarCache
from app.calendar.router import router as calendar_router
from app.calendar.working_days import WorkingDaysKeeper
from app.categories.router import router as categories_router
from app.core.api_docs import install_api_docs
from app.core.body_limit import BodySizeLimitMiddleware
from app.core.clock import Clock
from app.core.config import Settings, get_settings
from app.core.database_faults import watch_for_unavailability
from app.core.db import create_engine, create_sessionmaker
from app.core.errors import install_error_handlers
from app.core.head import HeadAsGetMiddleware
from app.core.middleware import RequestContextMiddleware
from app.core.openapi import install_openapi, operation_id
from app.core.proxies import ForwardedHeadersMiddleware
from app.core.runtime import tune_for_serving
from app.core.security_headers import SecurityHeadersMiddleware
from app.core.storage import build_storage
from app.core.text import refuse_control_characters
from app.dashboard.router import install_dashboard
from app.integrations.router import router as integrations_router
from app.integrations.schemas import Event
from app.jobs import schemas as jobs_schemas
from app.jobs.router import router as jobs_router
from app.labels.catalogue import VOCABULARIES
from app.labels.router import router as labels_router
from app.lifecycle import background_work
from app.mobile.router import install_mobile
from app.open311.errors import install_open311_errors
from app.open311.router import router as open311_router
from app.ops.router import router as ops_router
from app.org.locator_cache import LocatorCache
from app.org.router import router as org_router
from app.photos.links import PhotoSigner, SignedPhotoLinks
from app.photos.pool import PhotoPool
from app.photos.router import router as photos_router
from app.points.router import router as points_router
from app.privacy.router import router as privacy_router
from app.reports import schemas as reports_schemas
from app.reports.router import router as reports_router
from app.stats.export_router import router as export_router
from app.stats.router import router as stats_router
from app.store.router import router as store_router
from app.users.router import router as users_router
from app.wishes.router import router as wishes_router
from app.workflow import schemas as workflow_schemas
from app.workflow.router import router as workflow_router

API_PREFIX = "/api/v1"

DESCRIPTION = """
Suishoupai (随手拍) receives photo reports of hazards from couriers, grid workers and residents,
routes each to the community responsible for the spot, and follows it through triage, the
community's whistle (吹哨) to its paired units, their jobs (报到), verification and closure.

Every error is `application/problem+json` with a stable `code`. Besides the answers each
operation lists, any may be a 503 `database_unavailable` (with `Retry-After`) while the database
cannot serve, or a 500 `internal_error` on a fault of ours. Authenticate with
`Authorization: Bearer <token>` from `POST /api/v1/auth/token`, or a dashboard API key.
"""


# Served under API_PREFIX, in the order the API document lists them.
DOMAIN_ROUTERS = (
    auth_router,
    users_router,
    categories_router,
    calendar_router,
    labels_router,
    org_router,
    # Before the reports: /reports/export is not a report's id.
    export_router,
    reports_router,
    workflow_router,
    jobs_router,
    photos_router,
    points_router,
    store_router,
    wishes_router,
    privacy_router,
    integrations_router,
    stats_router,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    tune_for_serving(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.photo_storage.prepare()
        async with background_work(app):
            yield
        app.state.photo_pool.shutdown()
        await app.state.engine.dispose()

    app = FastAPI(
        title="Suishoupai 随手拍 API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served by install_api_docs from packaged assets: FastAPI's own pages load a CDN.
        docs_url=None,
        redoc_url=None,
        # One rule for every text field, form field and parameter of every route.
        dependencies=[Depends(refuse_control_characters)],
        # Operation ids a client generator can use: reports:submit_report (app/core/openapi.py).
        generate_unique_id_function=operation_id,
    )
    _set_state(app, settings, clock)
    install_error_handlers(app)
    install_open311_errors(app)
    # The event stream's messages carry events, which no route answers as JSON.
    install_openapi(
        app,
        components=[Event],
        vocabularies=VOCABULARIES,
        bodies=REQUEST_BODIES,
    )
    install_api_docs(app)
    _add_middleware(app, settings)
    app.include_router(ops_router)
    install_dashboard(app)
    install_mobile(app)
    app.include_router(open311_router)
    for router in DOMAIN_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    return app


def _set_state(app: FastAPI, settings: Settings, clock: Clock | None) -> None:
    """What the requests and the background work share: settings, clock, database, calendar,
    photo storage, the photo workers and the community locator."""
    engine = create_engine(settings)
    # A database that cannot serve is a 503 on every call that needs it, not a 500.
    watch_for_unavailability(engine)
    app.state.settings = settings
    app.state.clock = clock or Clock()
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    # The working calendar in force, shared with the embedded worker; reloaded after this
    # process changes it and when another process did (checked every few seconds).
    app.state.calendar = CalendarCache(
        app.state.sessionmaker, refresh_seconds=settings.calendar_refresh_seconds
    )
    # The working calendar as a table, for statistics in working hours (app/stats/timesql.py).
    app.state.working_days = WorkingDaysKeeper(app.state.sessionmaker)
    app.state.photo_storage = build_storage(settings)
    app.state.photo_pool = PhotoPool(settings.photo_workers)
    # The communities and grids in memory, for routing every report (app/org/locator_cache.py).
    app.state.community_locator = LocatorCache(
        app.state.sessionmaker,
        max_distance_m=settings.routing_max_distance_m,
        refresh_seconds=settings.geo_index_refresh_seconds,
    )


# The bodies routes read by hand (a form with files, or JSON naming uploads), for the document.
REQUEST_BODIES = (
    reports_schemas.SubmitReportForm,
    reports_schemas.SubmitReportJSON,
    workflow_schemas.ResolveReportForm,
    workflow_schemas.ResolveReportJSON,
    workflow_schemas.VerifyReportForm,
    workflow_schemas.VerifyReportJSON,
    jobs_schemas.ReportJobProgressForm,
    jobs_schemas.ReportJobProgressJSON,
    jobs_schemas.CompleteJobForm,
    jobs_schemas.CompleteJobJSON,
)


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """The last added runs first: the client's address, then the request's context, …"""
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "X-Request-ID", "Retry-After"],
        )
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(
        SignedPhotoLinks, signer=PhotoSigner.of(settings.secret_key, settings.photo_link_minutes)
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware)
    # Outermost: everything inside sees the client's address, not a proxy's.
    app.add_middleware(ForwardedHeadersMiddleware, trusted=settings.forwarded_allow_ips)


def create_served_app() -> FastAPI:
    """The app as ``python -m app serve`` runs it (in each worker process). Everything made so
    far lives as long as the process: frozen out of the garbage collector's sight, so that its
    full collections under load do not walk the whole framework each time (~0.3 s of CPU per
    200 reports otherwise)."""
    app = create_app()
    gc.freeze()
    return app
