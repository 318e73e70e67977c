"""Request bodies that come as a form or as JSON, read by hand: FastAPI reads one kind of body
per route, and a route of ours takes a phone's multipart form as well as a mini-program's JSON.
Either way the body is validated by a pydantic model and refused as FastAPI refuses one (422,
each error at ``body.<field>``)."""

from __future__ import annotations

import typing
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from app.core.errors import UnsupportedMediaType

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
ModelT = TypeVar("ModelT", bound=BaseModel)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def is_json(request: Request) -> bool:
    kind = media_type(request)
    return kind == "application/json" or kind.endswith("+json")


def is_form(request: Request) -> bool:
    kind = media_type(request)
    return kind in FORM_TYPES or not kind


async def json_object(request: Request) -> dict[str, Any]:
    try:
        raw = await request.json()
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "the body is not valid JSON"}]
        ) from None
    if not isinstance(raw, dict):
        raise RequestValidationError(
            [{"type": "dict_type", "loc": ("body",), "msg": "send a JSON object"}]
        )
    return raw


def _is_list(model: type[BaseModel], name: str) -> bool:
    field = model.model_fields.get(name)
    return field is not None and typing.get_origin(field.annotation) is list


def form_fields(form: FormData, model: type[BaseModel]) -> dict[str, Any]:
    """The form's fields as the model reads them, as FastAPI reads a form: a list field takes
    every value of its name, any other the first; an empty value is a field left out."""
    raw: dict[str, Any] = {}
    for name in form:
        values = [value for value in form.getlist(name) if value != ""]
        if not values:
            continue
        raw[name] = values if _is_list(model, name) else values[0]
    return raw


def validated(model: type[ModelT], raw: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from None


async def form_or_json(
    request: Request, form_model: type[BaseModel], json_model: type[BaseModel]
) -> BaseModel:
    """The body as ``form_model`` (multipart, with files) or as ``json_model`` (JSON)."""
    if is_json(request):
        return validated(json_model, await json_object(request))
    if is_form(request):
        return validated(form_model, form_fields(await request.form(), form_model))
    raise UnsupportedMediaType(
        "Send multipart/form-data with the photos, or application/json with photo_ids, "
        f"not {media_type(request)}"
    )


def form_or_json_body(form_model: type[BaseModel], json_model: type[BaseModel]) -> dict[str, Any]:
    """The request body of a route that reads ``form_or_json``, for ``openapi_extra`` (the
    models are added to the document's components by ``install_openapi(bodies=…)``)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"$ref": f"#/components/schemas/{form_model.__name__}"}
                },
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{json_model.__name__}"}
                },
            },
        }
    }
