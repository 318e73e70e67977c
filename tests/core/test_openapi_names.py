"""The OpenAPI document is one a client generator can trust: readable operation ids and schema
names, each once; described path parameters; an example for every JSON body, which the body's
own schema accepts; every enum's values with the labels clients show for them."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import httpx
import jsonschema
import pytest

from app.labels.catalogue import VOCABULARIES

OPERATION_ID = re.compile(r"^[a-z_]+:[a-z_]+$")
# What a class name in any generated client can be: no module paths, no "-Input", no brackets.
SCHEMA_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    served: dict[str, Any] = response.json()
    return served


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return resolved


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"]} if isinstance(value.get("$ref"), str) else set()
        return found.union(*(_refs(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(item) for item in value))
    return set()


async def test_operation_ids_name_the_domain_and_the_endpoint(document: dict[str, Any]) -> None:
    ids = [operation.get("operationId", "") for _, _, operation in _operations(document)]
    assert [i for i in ids if not OPERATION_ID.fullmatch(i)] == []
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []
    by_route = {(method, path): op["operationId"] for method, path, op in _operations(document)}
    assert by_route["POST", "/api/v1/reports"] == "reports:submit_report"
    assert by_route["POST", "/api/v1/auth/token"] == "auth:issue_token"
    # A sub-package's router is named after the top-level package.
    assert by_route["GET", "/api/v1/units/{unit_id}"] == "org:read_unit"
    assert by_route["POST", "/api/v1/jobs/{job_id}/complete"] == "jobs:complete_job"
    assert by_route["GET", "/healthz"] == "ops:healthz"


async def test_schema_names_are_plain_and_each_reference_resolves(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    assert [name for name in schemas if not SCHEMA_NAME.fullmatch(name)] == []
    titled_apart = {
        name: schema["title"]
        for name, schema in schemas.items()
        if "title" in schema and schema["title"] != name and "properties" in schema
    }
    assert titled_apart == {}
    prefix = "#/components/schemas/"
    dangling = {ref for ref in _refs(document) if ref.startswith(prefix)} - {
        prefix + name for name in schemas
    }
    assert dangling == set()
    # Models of the same name in two packages are one schema (or renamed): a reference, a
    # point, a person with and without a phone.
    assert {"Ref", "LatLng", "PersonRef", "UserRef", "ReportReadPage"} <= schemas.keys()


async def test_form_bodies_are_named_after_their_endpoint(document: dict[str, Any]) -> None:
    forms = {
        (method, path): operation["requestBody"]["content"]["multipart/form-data"]["schema"]
        for method, path, operation in _operations(document)
        if "multipart/form-data" in operation.get("requestBody", {}).get("content", {})
    }
    assert forms == {
        ("POST", "/api/v1/reports"): {"$ref": "#/components/schemas/SubmitReportForm"},
        ("POST", "/api/v1/reports/{report_id}/resolve"): {
            "$ref": "#/components/schemas/ResolveReportForm"
        },
        ("POST", "/api/v1/reports/{report_id}/verify"): {
            "$ref": "#/components/schemas/VerifyReportForm"
        },
        ("POST", "/api/v1/jobs/{job_id}/progress"): {
            "$ref": "#/components/schemas/ReportJobProgressForm"
        },
        ("POST", "/api/v1/jobs/{job_id}/complete"): {
            "$ref": "#/components/schemas/CompleteJobForm"
        },
        ("POST", "/api/v1/uploads"): {"$ref": "#/components/schemas/UploadPhotoForm"},
    }


async def test_path_parameters_are_typed_and_described_alike_everywhere(
    document: dict[str, Any],
) -> None:
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    undescribed = []
    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", ()):
            if parameter["in"] != "path":
                continue
            if not parameter.get("description"):
                undescribed.append((method, path, parameter["name"]))
            schema = parameter["schema"]
            seen[parameter["name"]].add((parameter.get("description", ""), repr(schema)))
    assert undescribed == []
    assert {name: forms for name, forms in seen.items() if len(forms) > 1} == {}
    assert all(
        '"uuid"' in schema.replace("'", '"')
        for name, forms in seen.items()
        if name.endswith("_id")
        for _, schema in forms
    )


async def test_every_json_body_has_an_example_its_schema_accepts(
    document: dict[str, Any],
) -> None:
    without = []
    for method, path, operation in _operations(document):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        media_type = content["application/json"]
        schema = _resolve(document, media_type["schema"])
        examples = [
            *schema.get("examples", ()),
            *(example["value"] for example in media_type.get("examples", {}).values()),
        ]
        if not examples:
            without.append((method, path))
        for example in examples:
            jsonschema.validate(
                example, {**media_type["schema"], "components": document["components"]}
            )
    assert without == []


async def test_every_enum_carries_its_labels(document: dict[str, Any]) -> None:
    enums = {
        name: schema
        for name, schema in document["components"]["schemas"].items()
        if "enum" in schema
    }
    assert enums
    unlabelled = {
        name: [value for value in schema["enum"] if value not in schema.get("x-enum-labels", {})]
        for name, schema in enums.items()
    }
    assert {name: values for name, values in unlabelled.items() if values} == {}
    for name, schema in enums.items():
        assert all(CHINESE.search(label) for label in schema["x-enum-labels"].values()), name
        assert "Labels: " in schema["description"], name
    catalogue = {enum.__name__: labels for enum, labels in VOCABULARIES.values()}
    for name, schema in enums.items():
        for value, label in schema["x-enum-labels"].items():
            assert label == catalogue[name][value][0]
            assert f"`{value}` {label} ({catalogue[name][value][1]})" in schema["description"]
    assert enums["ReportStatus"]["x-enum-labels"]["submitted"] == "待受理"
