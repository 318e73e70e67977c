"""The OpenAPI document, made to say what the server answers when things go wrong.

FastAPI documents an error's model under the route's own media type (``application/json``)
and gives every route with parameters that declares no 422 its own validation error
(``HTTPValidationError``, ``{"detail": [...]}``). The server answers neither: every error is
a ``Problem`` as ``application/problem+json`` (app/core/errors.py). A client generated from
the document, or a tester checking answers against it, must find that media type with that
schema.

Some answers follow from rules every request meets rather than from one route, so every route
documents them: text with a control character anywhere (a parameter, even one the route does
not read, a form field, a JSON string) is a 422 (app/core/text.py); a body that cannot be read
at all (not UTF-8, a broken multipart form) is a 400 and one over the size limit a 413
(app/core/body_limit.py), on the routes that take a body. What no request can cause — a 503
when the database cannot serve, a 500 — is said once, in the API's description."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.core.errors import PROBLEM_JSON, PROBLEM_SCHEMA_REF, Problem

FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
EVERY_REQUEST = {"422": "Invalid input"}
EVERY_BODY = {
    "400": "The body cannot be read (not UTF-8, a broken form)",
    "413": "The body is larger than allowed",
}
COMPONENT_REF = "#/components/schemas/{model}"


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (what ``/openapi.json`` serves) answer the honest document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Every error response as ``application/problem+json`` with the ``Problem`` schema, and
    the answers of the rules every request meets on every operation."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template=COMPONENT_REF)
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            rules = {**EVERY_REQUEST, **(EVERY_BODY if "requestBody" in operation else {})}
            responses = operation.setdefault("responses", {})
            for status, description in rules.items():
                responses.setdefault(
                    status, {"description": description, "content": {PROBLEM_JSON: {}}}
                )
            for response in responses.values():
                content = response.get("content", {})
                if PROBLEM_JSON in content or _is_fastapi_validation_error(content):
                    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}
                    if response.get("description") == "Validation Error":
                        response["description"] = "Invalid input"
            operation["responses"] = dict(sorted(responses.items()))
    if not _mentions(document["paths"], FASTAPI_VALIDATION_SCHEMAS):
        for name in FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
    return document


def _is_fastapi_validation_error(content: dict[str, Any]) -> bool:
    schema = content.get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == COMPONENT_REF.format(model="HTTPValidationError"))


def _mentions(value: Any, names: tuple[str, ...]) -> bool:
    """Whether a ``$ref`` anywhere in ``value`` names one of the components ``names``."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in names:
            return True
        return any(_mentions(item, names) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, names) for item in value)
    return False
