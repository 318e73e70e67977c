"""``/open311/v2``: discovery, services, service definitions, requests, a request, tokens — each
as ``.json`` or ``.xml``. Specification: GeoReport v2; how the cases map onto it: docs/api.md
("Open311"). Filing a request (POST requests): app/open311/filing.py."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy import ColumnElement, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth
from app.auth.scope import report_scope
from app.core import security
from app.core.config import Settings
from app.core.deps import CalendarDep, ClockDep, SessionDep, SettingsDep
from app.core.errors import Unauthorized
from app.open311 import services
from app.open311.errors import Open311Error
from app.open311.filing import MAX_FORM_FIELDS, check_form_type, notice, read_filing
from app.open311.params import Format, Text, checked_format, request_query
from app.open311.present import extended_attributes, service_request
from app.open311.render import open311_response
from app.open311.requests import RequestQuery, read_page
from app.photos.links import photo_url
from app.reports import intake
from app.reports.deps import IntakeServicesDep

OPEN311_PREFIX = "/open311/v2"

router = APIRouter(prefix=OPEN311_PREFIX, tags=["open311"], include_in_schema=False)


@router.get("/discovery.{fmt}")
async def discovery(request: Request, fmt: str, settings: SettingsDep) -> Response:
    endpoint = str(request.base_url).rstrip("/") + OPEN311_PREFIX
    document = services.discovery(endpoint, settings.open311_contact, settings.open311_key_service)
    return open311_response(checked_format(fmt), "discovery", document)


@router.get("/services.{fmt}")
async def service_list(fmt: Format, session: SessionDep) -> Response:
    return open311_response(fmt, "services", await services.service_list(session))


@router.get("/services/{service_code}.{fmt}")
async def service_definition(service_code: str, fmt: Format, session: SessionDep) -> Response:
    definition = await services.service_definition(session, service_code)
    return open311_response(fmt, "service_definition", definition)


async def _reading_scope(
    session: AsyncSession, settings: Settings, api_key: str | None, clock: ClockDep
) -> ColumnElement[bool]:
    """Whose cases: a key's region; everyone's when public reading is on; else 403."""
    if api_key and api_key.strip():
        if security.split_api_key(api_key.strip()) is None:
            raise Open311Error(403, "api_key is not valid")
        try:
            principal = await auth.authenticate(session, settings, api_key.strip(), clock.now())
        except Unauthorized as exc:
            raise Open311Error(403, f"api_key: {exc.detail}") from None
        return report_scope(principal)
    if settings.open311_reads_public:
        return true()
    raise Open311Error(403, "api_key is required to read service requests")


async def _answer(
    request: Request,
    fmt: Format,
    query: RequestQuery,
    scope: ColumnElement[bool],
    session: AsyncSession,
    settings: Settings,
    clock: ClockDep,
    calendar: CalendarDep,
) -> list[dict[str, object]]:
    now = clock.now()
    rows = await read_page(session, query, scope, now)
    base = str(request.base_url).rstrip("/")

    def link(photo_id: uuid.UUID) -> str:
        return base + photo_url(photo_id, "display", now)

    found = [service_request(row, link) for row in rows]
    if query.extensions:
        extra = await extended_attributes(session, rows, calendar, now, link)
        for row, item in zip(rows, found, strict=True):
            item["extended_attributes"] = extra[row.Report.id]
    return found


@router.get("/requests.{fmt}")
async def service_requests(
    request: Request,
    fmt: Format,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    calendar: CalendarDep,
    api_key: Text = None,
    service_request_id: Text = None,
    service_code: Text = None,
    start_date: Text = None,
    end_date: Text = None,
    status: Text = None,
    page: Text = None,
    page_size: Text = None,
    extensions: Text = None,
) -> Response:
    query = await request_query(
        session,
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        page=page,
        page_size=page_size,
        extensions=extensions,
    )
    scope = await _reading_scope(session, settings, api_key, clock)
    found = await _answer(request, fmt, query, scope, session, settings, clock, calendar)
    return open311_response(fmt, "service_requests", found)


@router.post("/requests.{fmt}")
async def file_service_request(
    request: Request,
    fmt: Format,
    session: SessionDep,
    settings: SettingsDep,
    services: IntakeServicesDep,
    clock: ClockDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """A service request filed by an integration's filing key: answered at once with the
    case's number (no token), 200 as the specification has it."""
    now = clock.now()
    check_form_type(request.headers.get("content-type"))
    form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
    filing = await read_filing(session, settings, form, dict(request.query_params), now)
    result = await intake.submit_report(
        session, filing.filer.principal, filing.submission, services, idempotency_key, now
    )
    answer = {
        "service_request_id": result.body["number"],
        "service_notice": notice(result.body),
        "account_id": filing.account_id,
    }
    response = open311_response(fmt, "service_requests", [answer])
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get("/requests/{service_request_id}.{fmt}")
async def one_service_request(
    request: Request,
    service_request_id: str,
    fmt: Format,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    calendar: CalendarDep,
    api_key: Text = None,
    extensions: Text = None,
) -> Response:
    scope = await _reading_scope(session, settings, api_key, clock)
    query = RequestQuery(
        ids=(service_request_id,),
        page_size=1,
        extensions=(extensions or "").strip().lower() == "true",
    )
    found = await _answer(request, fmt, query, scope, session, settings, clock, calendar)
    if not found:
        raise Open311Error(404, f"No service request {service_request_id!r}")
    return open311_response(fmt, "service_requests", found)


@router.get("/tokens/{token}.{fmt}")
async def token(fmt: Format, token: str) -> Response:
    """Every service answers at once with the request's id, so no token is ever issued."""
    raise Open311Error(404, f"No token {token!r}: requests are answered with their id at once")
