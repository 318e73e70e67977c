"""What a client reads when a request cannot be answered: the status the specification names
(404 for what does not exist, 400 for a bad argument) with the Open311 errors document in the
format the suffix asked for (an unknown suffix: 404 in XML), never the native API's
problem+json."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LoginFn
from tests.open311.conftest import BASE, FORMATS, json_ok, leaf_categories, ok, open311_errors

NOT_FOUND = [
    ("services/no_such_service", {}),
    ("requests/SSP-150826-20260101-999999", {}),
    ("requests/6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c", {}),
    ("requests/no-such-case", {}),
    ("tokens/12345", {}),
    ("tokens/SSP-150826-20260101-000001", {}),
    ("requests", {"jurisdiction_id": "example.org"}),
    ("services", {"jurisdiction_id": "example.org"}),
    ("services/chaotic_parking", {"jurisdiction_id": "example.org"}),
]
BAD_ARGUMENTS = [
    {"status": "pending"},
    {"status": "open,resolved"},
    {"service_code": "no_such_service"},
    {"page": "0"},
    {"page": "-1"},
    {"page": "first"},
    {"page_size": "0"},
    {"page_size": "1001"},
    {"page_size": "ten"},
    {"page": "101"},  # past the first 100,000 requests of the window: narrow the dates
    {"start_date": "2026-01-01T00:00:00"},
    {"end_date": "not a date"},
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("path", "params"), NOT_FOUND, ids=[p for p, _ in NOT_FOUND])
async def test_what_does_not_exist_is_404(
    client: httpx.AsyncClient, fmt: str, path: str, params: dict[str, str]
) -> None:
    response = await client.get(f"{BASE}/{path}.{fmt}", params=params)
    open311_errors(response, 404, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("params", BAD_ARGUMENTS, ids=[str(p) for p in BAD_ARGUMENTS])
async def test_a_bad_argument_is_400(
    client: httpx.AsyncClient, fmt: str, params: dict[str, str]
) -> None:
    response = await client.get(f"{BASE}/requests.{fmt}", params=params)
    errors = open311_errors(response, 400, fmt)
    (name,) = params
    assert any(name in error["description"] for error in errors), errors


async def test_a_top_class_is_no_service(client: httpx.AsyncClient, login: LoginFn) -> None:
    categories = await ok(client, "GET", "/api/v1/categories", headers=await login("courier1"))
    top = [category["code"] for category in categories if not category["is_leaf"]]
    assert top
    leaves = await leaf_categories(client, login)
    for code in top:
        assert code not in leaves
        for fmt in FORMATS:
            open311_errors(await client.get(f"{BASE}/services/{code}.{fmt}"), 404, fmt)


@pytest.mark.parametrize(
    "path", ["services.html", "requests.html", "discovery.yaml", "services/chaotic_parking.csv"]
)
async def test_an_unknown_suffix_is_404_in_xml(client: httpx.AsyncClient, path: str) -> None:
    open311_errors(await client.get(f"{BASE}/{path}"), 404, "xml")


@pytest.mark.parametrize("jurisdiction", ["", "suishoupai.cn"])
async def test_this_jurisdiction_or_none_is_answered(
    client: httpx.AsyncClient, jurisdiction: str
) -> None:
    params = {"jurisdiction_id": jurisdiction}
    for path in ("services", "services/chaotic_parking", "requests", "discovery"):
        json_ok(await client.get(f"{BASE}/{path}.json", params=params))
