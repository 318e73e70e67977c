"""The OpenAPI document describes errors as the server sends them: ``application/problem+json``
with the ``Problem`` schema, on every operation; a client generated from it, or a tester checking
answers against it, finds the media type and the fields it gets."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from tests.conftest import LoginFn

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _matches_documented(document: dict[str, Any], response: httpx.Response, path: str) -> None:
    """``response`` is what the document says ``path`` answers with its status."""
    method = response.request.method.lower()
    documented = document["paths"][path][method]["responses"][str(response.status_code)]
    assert documented["content"] == PROBLEM
    assert response.headers["content-type"] == "application/problem+json"
    jsonschema.validate(
        response.json(),
        {"$ref": "#/components/schemas/Problem", "components": document["components"]},
    )


async def test_every_error_response_is_a_problem(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    errors = {
        (method.upper(), path, status): response.get("content")
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if int(status) >= 400 and (path, status) != ("/readyz", "503")  # plain JSON, see ops
    }
    assert errors
    assert {key: content for key, content in errors.items() if content != PROBLEM} == {}
    # FastAPI's own validation error ({"detail": [...]}) is nowhere: the server never sends it.
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.mark.parametrize(
    ("path", "url"),
    [
        # An operation that names its own errors…
        ("/api/v1/reports/{report_id}/accept", "/api/v1/reports/not-a-uuid/accept"),
        # …and ones that left their validation error to FastAPI.
        ("/api/v1/reports/{report_id}", "/api/v1/reports/not-a-uuid"),
        ("/api/v1/jobs/{job_id}", "/api/v1/jobs/not-a-uuid"),
    ],
)
async def test_an_invalid_id_is_answered_as_documented(
    client: httpx.AsyncClient, login: LoginFn, path: str, url: str
) -> None:
    document = await _document(client)
    method = "post" if path.endswith("/accept") else "get"
    response = await client.request(method, url, json={}, headers=await login("staff1"))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["loc"][:1] == ["path"]
    _matches_documented(document, response, path)


async def test_a_missing_resource_is_answered_as_documented(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    document = await _document(client)
    path = "/api/v1/reports/{report_id}"
    response = await client.get(
        "/api/v1/reports/00000000-0000-4000-8000-000000000000", headers=await login("staff1")
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    _matches_documented(document, response, path)


async def test_a_body_that_cannot_be_read_is_answered_as_documented(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    """Not UTF-8: the body is not even text, let alone JSON (malformed JSON is a 422)."""
    document = await _document(client)
    response = await client.post(
        "/api/v1/categories",
        content=b'{"code": "\xff\xfe"}',
        headers={**(await login("admin")), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    _matches_documented(document, response, "/api/v1/categories")


async def test_a_broken_form_is_answered_as_documented(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    document = await _document(client)
    response = await client.post(
        "/api/v1/reports",
        content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xyz--\r\n",
        headers={**(await login("courier1")), "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 400
    _matches_documented(document, response, "/api/v1/reports")


async def test_control_characters_are_refused_as_documented_on_every_operation(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    """The rule reads every query parameter, also on an operation that takes none."""
    document = await _document(client)
    missing = [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "422" not in operation["responses"]
    ]
    assert missing == []
    response = await client.get("/api/v1/me?note=%1B[2J", headers=await login("staff1"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "note"]
    _matches_documented(document, response, "/api/v1/me")


async def test_operations_taking_a_body_document_its_limits(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    without = [
        (method.upper(), path, status)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
        for status in ("400", "413")
        if status not in operation["responses"]
    ]
    assert without == []
