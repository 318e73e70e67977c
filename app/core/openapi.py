"""The OpenAPI document, made to say what the server answers when things go wrong.

FastAPI documents an error's model under the route's own media type (``application/json``)
and gives every route with parameters that declares no 422 its own validation error
(``HTTPValidationError``, ``{"detail": [...]}``). The server answers neither: every error is
a ``Problem`` as ``application/problem+json`` (app/core/errors.py). A client generated from
the document, or a tester checking answers against it, must find that media type with that
schema, and the ``Content-Language`` each carries: a problem's title and detail follow
Accept-Language (app/core/messages.py).

Some answers follow from rules every request meets rather than from one route, so every route
documents them: text with a control character anywhere (a parameter, even one the route does
not read, a form field, a JSON string) is a 422 (app/core/text.py); a body that cannot be read
at all (not UTF-8, a broken multipart form) is a 400 and one over the size limit a 413
(app/core/body_limit.py), on the routes that take a body. What no request can cause — a 503
when the database cannot serve, a 500 — is said once, in the API's description.

Forms (``multipart/form-data``, ``application/x-www-form-urlencoded``) carry text, never a
null: FastAPI writes an optional field as "this or null", but a field left out is how a form
says nothing, and an empty one counts as left out — so a required field is at least one
character (or one file) long.

Names a client generator turns into code are stable and readable. Each operation's
``operationId`` is ``<domain>:<endpoint function>`` (``reports:submit_report``), the domain
being the top-level package after ``app.`` of the router's module: ``app.org.units.router`` is
``org``, one organisation API, so an endpoint function's name is unique within its package. A
form body FastAPI would call ``Body_<operationId>`` is named after its endpoint
(``complete_job`` → ``CompleteJobForm``), a page of a list after what it lists
(``ReportReadPage``). Every enum carries the labels clients show for its values
(app/labels/catalogue.py, also served at ``GET /api/v1/labels``): Chinese in
``x-enum-labels``, both languages in its description."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.core.errors import PROBLEM_JSON, PROBLEM_SCHEMA_REF, Problem
from app.core.language import LANGUAGES

FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
EVERY_REQUEST = {"422": "Invalid input"}
EVERY_BODY = {
    "400": "The body cannot be read (not UTF-8, a broken form)",
    "413": "The body is larger than allowed",
}
COMPONENT_REF = "#/components/schemas/{model}"
CONTENT_LANGUAGE = "Content-Language"
CONTENT_LANGUAGE_HEADER = {
    "description": "The language of `title` and `detail`: the one `Accept-Language` ranks "
    "highest, English without it",
    "required": True,
    "schema": {"type": "string", "enum": list(LANGUAGES)},
}
FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
# FastAPI's name for a body model it makes up from a route's body parameters, and Pydantic's
# for a generic model of one type (``Page_ReportRead_``).
GENERATED_BODY_PREFIX = "Body_"
GENERIC_NAME = re.compile(r"(?P<origin>[A-Za-z0-9]+)_(?P<argument>[A-Za-z0-9]+)_")

# A vocabulary's enum and each of its values' (Chinese, English) labels, as
# app.labels.catalogue.VOCABULARIES holds them.
Vocabularies = Mapping[str, tuple[type[Enum], Mapping[str, tuple[str, str]]]]


def operation_id(route: APIRoute) -> str:
    """``<domain>:<endpoint function>``: the app's ``generate_unique_id_function``."""
    module = route.endpoint.__module__.split(".")
    domain = module[1] if module[0] == "app" and len(module) > 1 else module[0]
    return f"{domain}:{route.endpoint.__name__}"


def install_openapi(
    app: FastAPI,
    components: Sequence[type[BaseModel]] = (),
    vocabularies: Vocabularies | None = None,
    bodies: Sequence[type[BaseModel]] = (),
) -> None:
    """Make ``app.openapi()`` (what ``/openapi.json`` serves) answer the honest document.
    ``components``: models that responses name by reference only (FastAPI adds to the
    document just the models of routes' bodies and JSON answers). ``vocabularies``: the
    labels of enums' values. ``bodies``: request bodies a route reads by hand and names by
    reference (``openapi_extra``), described like the bodies FastAPI reads."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for model in bodies:
                _add_component(document, model, mode="validation")
            document = name_components(describe_forms(describe_problems(document)))
            drop_item_schemas(document)
            for model in components:
                _add_component(document, model)
            label_enums(document, vocabularies or {})
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def drop_item_schemas(document: dict[str, Any]) -> None:
    """FastAPI describes the items of a streamed answer (the event stream) with OpenAPI 3.2's
    ``itemSchema``, a field a 3.1 document may not hold; such a route states its message in
    the 3.1 way itself (a ``schema`` of one message), which is what stays."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    media.pop("itemSchema", None)


def describe_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Every error response as ``application/problem+json`` with the ``Problem`` schema and
    its ``Content-Language``, and the answers of the rules every request meets on every
    operation."""
    schemas = _add_component(document, Problem)
    document["components"].setdefault("headers", {})[CONTENT_LANGUAGE] = CONTENT_LANGUAGE_HEADER
    language = {"$ref": f"#/components/headers/{CONTENT_LANGUAGE}"}
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
                    response.setdefault("headers", {})[CONTENT_LANGUAGE] = language
                    if response.get("description") == "Validation Error":
                        response["description"] = "Invalid input"
            operation["responses"] = dict(sorted(responses.items()))
    if not _mentions(document["paths"], FASTAPI_VALIDATION_SCHEMAS):
        for name in FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
    return document


def describe_forms(document: dict[str, Any]) -> dict[str, Any]:
    """Form fields as a form can send them: no nulls, required ones not empty."""
    schemas = document.get("components", {}).get("schemas", {})
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media_type in FORM_TYPES & content.keys():
                schema = content[media_type].get("schema", {})
                ref = schema.get("$ref", "")
                if ref.startswith(COMPONENT_REF.format(model="")):
                    schema = schemas[ref.rsplit("/", 1)[-1]]
                required = set(schema.get("required", ()))
                for name, field in schema.get("properties", {}).items():
                    _without_null(field)
                    if name not in required:
                        continue
                    if field.get("type") == "string":
                        field.setdefault("minLength", 1)
                    elif field.get("type") == "array":
                        field.setdefault("minItems", 1)
    return document


def name_components(document: dict[str, Any]) -> dict[str, Any]:
    """Component names a client generator makes good class names of. FastAPI's
    ``Body_<operationId>`` is named after its endpoint: a form body ``<Endpoint>Form``
    (``report_job_progress`` → ``ReportJobProgressForm``), a JSON one ``<Endpoint>Body`` (an
    operationId holds a ``:``, which a component name may not). Pydantic's name of a generic
    model, ``Page_ReportRead_``, becomes ``ReportReadPage``."""
    schemas = document.get("components", {}).get("schemas", {})
    renamed: dict[str, str] = {}
    for old in schemas:
        generic = GENERIC_NAME.fullmatch(old)
        if generic:
            renamed[old] = generic["argument"] + generic["origin"]
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                old = content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                if not old.startswith(GENERATED_BODY_PREFIX) or old not in schemas:
                    continue
                endpoint = operation["operationId"].rsplit(":", 1)[-1]
                suffix = "Form" if media_type in FORM_TYPES else "Body"
                new = "".join(word.capitalize() for word in endpoint.split("_")) + suffix
                renamed[old] = new
    for old, new in renamed.items():
        if new in schemas or list(renamed.values()).count(new) > 1:
            raise ValueError(f"{old} would be named {new}, which another schema has")
        schemas[new] = {**schemas.pop(old), "title": new}
    refs = {
        COMPONENT_REF.format(model=old): COMPONENT_REF.format(model=new)
        for old, new in renamed.items()
    }
    _rename_refs(document, refs)
    return document


def label_enums(document: dict[str, Any], vocabularies: Vocabularies) -> dict[str, Any]:
    """Each enum schema with its values' labels: ``x-enum-labels`` (value → Chinese) and a
    line of its description naming both languages'."""
    schemas = document.get("components", {}).get("schemas", {})
    for enum, labels in vocabularies.values():
        schema = schemas.get(enum.__name__)
        if schema is None or "enum" not in schema:
            continue
        values = [value for value in schema["enum"] if value in labels]
        schema["x-enum-labels"] = {value: labels[value][0] for value in values}
        line = "Labels: " + "; ".join(
            f"`{value}` {labels[value][0]} ({labels[value][1]})" for value in values
        )
        schema["description"] = "\n\n".join(filter(None, (schema.get("description"), line)))
    return document


def _rename_refs(value: Any, refs: Mapping[str, str]) -> None:
    """Every ``$ref`` in ``value`` that ``refs`` names, changed to the new one."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref in refs:
            value["$ref"] = refs[ref]
        for item in value.values():
            _rename_refs(item, refs)
    elif isinstance(value, list):
        for item in value:
            _rename_refs(item, refs)


def _without_null(field: dict[str, Any]) -> None:
    """``field`` without the null of ``anyOf: [X, null]`` (X itself when it is the only one)."""
    choices = [choice for choice in field.get("anyOf", ()) if choice != {"type": "null"}]
    if "anyOf" not in field or len(choices) == len(field["anyOf"]):
        return
    del field["anyOf"]
    if len(choices) == 1:
        field.update(choices[0])
    else:
        field["anyOf"] = choices


def _add_component(
    document: dict[str, Any],
    model: type[BaseModel],
    mode: Literal["validation", "serialization"] = "serialization",
) -> dict[str, Any]:
    """``model``'s schema (and those of the models it holds) as components; their schemas."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    schema = model.model_json_schema(ref_template=COMPONENT_REF, mode=mode)
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return schemas


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
