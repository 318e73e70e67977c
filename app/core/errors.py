"""Typed domain errors and their rendering as RFC 9457 problem details."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from app.core.language import Language
from app.core.logging import current_request_id
from app.core.messages import error_language, problem_text, problem_title, validation_summary
from app.core.security_headers import security_headers_for_errors

log = logging.getLogger("app.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://suishoupai.cn/problems/"
PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """What every error response looks like (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    code: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class DomainError(Exception):
    status_code: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = headers or {}


class NotFound(DomainError):
    status_code, code, title = 404, "not_found", "Not found"


class Forbidden(DomainError):
    status_code, code, title = 403, "forbidden", "Forbidden"


class Unauthorized(DomainError):
    status_code, code, title = 401, "unauthorized", "Not authenticated"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Conflict(DomainError):
    status_code, code, title = 409, "conflict", "Conflict"


class InvalidTransition(DomainError):
    status_code, code, title = 409, "invalid_transition", "Action not allowed in this status"


class PreconditionFailed(DomainError):
    status_code, code, title = 412, "precondition_failed", "The resource has changed"


class ValidationFailed(DomainError):
    status_code, code, title = 422, "validation_error", "Invalid input"

    @classmethod
    def at(cls, loc: Sequence[str | int], msg: str) -> ValidationFailed:
        return cls(msg, errors=[FieldError(loc=list(loc), msg=msg)])


class UnsupportedMediaType(DomainError):
    status_code, code, title = 415, "unsupported_media_type", "Unsupported media type"


class RateLimited(DomainError):
    status_code, code, title = 429, "rate_limited", "Too many requests"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_seconds))})


def problem_response(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem written in English, answered in the language the client asks for (English
    without Accept-Language): title and detail, and the messages of ``errors`` the catalogue
    knows. ``code``, ``type``, ``status`` and each ``loc`` are the same in every language."""
    language = _language(request)
    if errors is not None:
        errors = [FieldError(loc=e.loc, msg=problem_text(e.msg, language)) for e in errors]
    return _render(
        request,
        language,
        status,
        code,
        problem_title(code, title, language),
        problem_text(detail, language) if detail is not None else None,
        errors,
        headers,
    )


def _language(request: Request) -> Language:
    return error_language(request.headers.get("accept-language"))


def _render(
    request: Request,
    language: Language,
    status: int,
    code: str,
    title: str,
    detail: str | None,
    errors: Sequence[FieldError] | None,
    headers: dict[str, str] | None,
) -> JSONResponse:
    body = Problem(
        type=PROBLEM_TYPE_BASE + code,
        title=title,
        status=status,
        detail=detail,
        code=code,
        instance=request.url.path,
        request_id=request.scope.get("request_id") or current_request_id(),
        errors=list(errors) if errors is not None else None,
    )
    headers = dict(headers or {})
    headers["Content-Language"] = language
    # Caches keep one answer per language: the same error reads differently in another.
    vary = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
    headers["Vary"] = ", ".join([*vary, "Accept-Language"])
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


# A transaction PostgreSQL gave up because of another running at the same moment: a deadlock,
# a serialization failure. Sending the request again is safe and will most likely succeed.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
RETRY_AFTER_SECONDS = 1

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def _loc(parts: Sequence[Any]) -> list[str | int]:
    return [p if isinstance(p, int) else str(p) for p in parts]


def _method_index(app: Any) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """Each route's full path pattern with its methods (included routers' prefixes applied);
    built on the first 405, when every router is included."""
    index: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "method_index", None
    )
    if index is None:
        index = [
            (compile_path(context.path_format)[0], frozenset(context.methods))
            for context in iter_route_contexts(app.routes)
            if context.methods and context.path_format
        ]
        app.state.method_index = index
    return index


def allowed_methods(request: Request) -> list[str]:
    """Every method the app answers at the request's path. The router names only the methods
    of the first route whose path matched (``GET`` for ``/me``, although ``PATCH /me`` is
    another route), so a 405 collects them from all the routes that match the path."""
    root_path = str(request.scope.get("root_path") or "")
    path = request.url.path
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    methods: set[str] = set()
    for pattern, route_methods in _method_index(request.app):
        if pattern.match(path):
            methods |= route_methods
    return sorted(methods)


async def _domain(request: Request, exc: DomainError) -> JSONResponse:
    return problem_response(
        request,
        exc.status_code,
        exc.code,
        exc.title,
        exc.detail,
        exc.errors,
        exc.headers,
    )


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    found = exc.errors()
    # Pydantic's messages stay in English in ``errors``; the detail is in the client's
    # language, told from each error's type where Chinese is asked for.
    errors = [FieldError(loc=_loc(e.get("loc", ())), msg=str(e.get("msg", ""))) for e in found]
    language = _language(request)
    summary: str | None
    if language == "en":
        summary = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors[:5])
    else:
        summary = validation_summary(
            [(_loc(e.get("loc", ())), str(e.get("type", "")), e.get("ctx")) for e in found[:5]]
        )
    return _render(
        request,
        language,
        422,
        "validation_error",
        problem_title("validation_error", "Invalid input", language),
        summary or None,
        errors,
        None,
    )


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "error")
    try:
        title = HTTPStatus(exc.status_code).phrase
    except ValueError:
        title = "Error"
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and detail is None:
        detail = f"No such resource: {request.method} {request.url.path}"
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
        detail = detail or (
            f"{request.method} is not allowed on {request.url.path}; it answers {headers['Allow']}"
        )
    return problem_response(request, exc.status_code, code, title, detail, headers=headers)


async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
    # The version guard: another request changed the same row first.
    return problem_response(
        request,
        409,
        "invalid_transition",
        "Changed by someone else",
        "Someone else acted on this at the same moment; reload it and decide again.",
    )


async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate not in RETRYABLE_SQLSTATES:
        raise exc  # answered as an internal error, by the handler of every other error
    # PostgreSQL gave the transaction up for another running at the same moment; nothing
    # of it was written. Case writers take their row locks in one order, so a deadlock
    # here is a fault worth finding in the log.
    log.warning(
        "transaction given up (SQLSTATE %s) on %s %s: %s",
        sqlstate,
        request.method,
        request.url.path,
        exc.orig,
    )
    return problem_response(
        request,
        409,
        "conflict_retry",
        "Conflict with a concurrent request",
        "Another request changed the same data at the same moment and nothing of this one "
        "was saved; send it again.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
    # Services check what they can; a race between the check and the write ends here.
    log.info("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
    return problem_response(
        request,
        409,
        "conflict",
        "Conflict",
        "A concurrent request changed the same data; try again.",
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = request.scope.get("request_id")
    log.exception(
        "unhandled error on %s %s",
        request.method,
        request.url.path,
        extra={"request_id": request_id},
    )
    return problem_response(
        request,
        500,
        "internal_error",
        "Internal server error",
        "Something went wrong on our side; quote the request id when reporting it.",
        # Made outside every middleware: the headers they add go here by hand.
        headers={
            **security_headers_for_errors(),
            **({"X-Request-ID": request_id} if request_id else {}),
        },
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every error answered as a problem, by the handlers above."""
    app.exception_handler(DomainError)(_domain)
    app.exception_handler(RequestValidationError)(_validation)
    app.exception_handler(StarletteHTTPException)(_http)
    app.exception_handler(StaleDataError)(_stale)
    app.exception_handler(DBAPIError)(_database)
    app.exception_handler(IntegrityError)(_integrity)
    app.exception_handler(Exception)(_unexpected)


def error_responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the domain errors a route may raise."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        # The schema under the media type it is served as, not as a ``model``: FastAPI would
        # file a model under application/json. The component is added by app/core/openapi.py.
        entry = out.setdefault(
            err.status_code,
            {
                "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
                "description": "",
            },
        )
        entry["description"] = (
            f"{entry['description']} / {err.title}" if entry["description"] else err.title
        )
    return out


class PayloadTooLarge(DomainError):
    status_code, code, title = 413, "payload_too_large", "Too large"
