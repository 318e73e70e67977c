"""The OpenAPI document describes form bodies as a form can send them: a field is text or left
out, never null, and a required one is not empty (the server takes an empty field for a missing
one). A client that sends what the document allows gets past the form's own rules."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT, photo_bytes

FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def _form_fields(
    document: dict[str, Any],
) -> dict[tuple[str, str, str], tuple[dict[str, Any], bool]]:
    """(method, path, field) → (its schema, whether it is required), for every form body."""
    fields = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                if media_type not in FORMS:
                    continue
                schema = content["schema"]
                if "$ref" in schema:
                    schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
                for name, field in schema["properties"].items():
                    required = name in schema.get("required", ())
                    fields[(method.upper(), path, name)] = (field, required)
    return fields


async def test_form_fields_are_never_null_and_required_ones_never_empty(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    fields = _form_fields(document)
    assert ("POST", "/api/v1/reports", "source") in fields
    nullable = [
        key for key, (field, _) in fields.items() if {"type": "null"} in field.get("anyOf", ())
    ]
    assert nullable == []
    empty = [
        key
        for key, (field, required) in fields.items()
        if required
        and (
            (field.get("type") == "string" and field.get("minLength", 0) < 1)
            or (field.get("type") == "array" and field.get("minItems", 0) < 1)
        )
    ]
    assert empty == []


async def test_what_the_old_document_allowed_is_refused(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    """An empty category (which it allowed) is a missing one; a null source (which it also
    allowed) is the text "null", which is no source."""
    fields = {
        "category_code": "chaotic_parking",
        "description": "巷口乱停车",
        "lat": str(COMMUNITY_1_POINT[0]),
        "lng": str(COMMUNITY_1_POINT[1]),
    }
    photos = [("photos", ("a.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"))]
    headers = await login("courier1")
    for changed, loc in (({"category_code": ""}, "category_code"), ({"source": "null"}, "source")):
        refused = await client.post(
            "/api/v1/reports", data={**fields, **changed}, files=photos, headers=headers
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["loc"] == ["body", loc]
    filed = await client.post("/api/v1/reports", data=fields, files=photos, headers=headers)
    assert filed.status_code == 201, filed.text
