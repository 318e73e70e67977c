"""Open311 errors: a list of ``{code, description}`` in the format the client asked for, with
the specification's statuses — 404 for what does not exist, 403 for a missing or wrong
``api_key``, 400 for anything else the request gets wrong.

Every error on an ``/open311/`` path is answered so, whoever raised it: the house handlers
(problem+json) are wrapped, so that a validation error, a 404 of the router or a database that
is down still reach an Open311 client as a document it can parse."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Final

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import DomainError, FieldError
from app.open311.render import FORMATS, open311_response

OPEN311_ROOT: Final = "/open311/"
_BODY_HEADERS: Final = frozenset({"content-length", "content-type"})


class Open311Error(Exception):
    def __init__(self, status_code: int, description: str) -> None:
        super().__init__(description)
        self.status_code = status_code
        self.description = description


def requested_format(path: str) -> str:
    """The format named by the path's suffix; XML (the specification's own) when it names none."""
    suffix = path.rsplit("/", 1)[-1].rpartition(".")[2]
    return suffix if suffix in FORMATS else "xml"


def error_document(path: str, status_code: int, description: str) -> Response:
    fmt = requested_format(path)
    return open311_response(
        fmt, "errors", [{"code": status_code, "description": description}], status_code
    )


def _open311_status(status_code: int) -> int:
    """The specification's three statuses; a server's own failure stays what it is."""
    if status_code >= 500 or status_code in {400, 403, 404}:
        return status_code
    if status_code == 401:
        return 403
    return 400


# The native fields a filed request's errors name, by the names Open311 gave them.
_OPEN311_NAMES: Final = {
    "category_code": "service_code",
    "lng": "long",
    "photos": "media",
    "occurred_at": "attribute[occurred_at]",
    "address": "address_string",
}


def _field_errors(errors: list[FieldError]) -> str:
    parts = []
    for error in errors:
        name = str(error.loc[1]) if len(error.loc) > 1 else ""
        name = _OPEN311_NAMES.get(name, name)
        parts.append(f"{name}: {error.msg}" if name else error.msg)
    return "; ".join(parts)


def _description(exc: Exception) -> str:
    if isinstance(exc, DomainError) and exc.errors:
        return _field_errors(exc.errors)
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ())[1:])
        return f"{where}: {first.get('msg', 'not valid')}" if where else "The request is not valid"
    if isinstance(exc, DomainError):
        return exc.detail or exc.title
    if isinstance(exc, StarletteHTTPException):
        return str(exc.detail)
    return "The server could not answer this request"


Handler = Callable[[Request, Any], Response | Awaitable[Response]]


async def _answered(house: Handler, request: Request, exc: Exception) -> Response:
    answer = house(request, exc)
    return await answer if inspect.isawaitable(answer) else answer


def _wrapped(house: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        answered = await _answered(house, request, exc)
        if not request.url.path.startswith(OPEN311_ROOT):
            return answered
        status_code = _open311_status(answered.status_code)
        document = error_document(request.url.path, status_code, _description(exc))
        # What the house answer said besides its body: the request id and the security
        # headers of a 500 (written outside the middleware), Allow, Retry-After.
        for name, value in answered.headers.items():
            if name not in _BODY_HEADERS:
                document.headers[name] = value
        return document

    return handler


def install_open311_errors(app: FastAPI) -> None:
    """After the house handlers: Open311 paths get Open311 errors."""

    async def open311_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Open311Error)
        return error_document(request.url.path, exc.status_code, exc.description)

    for kind, house in list(app.exception_handlers.items()):
        if isinstance(kind, type) and kind is not Open311Error:
            app.exception_handlers[kind] = _wrapped(house)
    app.exception_handler(Open311Error)(open311_error)
