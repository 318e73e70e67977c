"""What the Open311 GeoReport v2 conformance tests share: the answers' shapes as a client reads
them (JSON, XML with its declaration, the errors document), the independent ``georeport`` client
run from a thread against the app on a real server, and cases filed, accepted and closed through
the native API.

The test settings read the cases without an ``api_key`` (``open311_public_read``), as the demo
does, since ``georeport`` sends no key; the access tests turn it off."""

from __future__ import annotations

import asyncio
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from georeport import GeoReport  # type: ignore[import-untyped]

from app.core.config import Settings
from app.demo.keys import DEMO_DASHBOARD_KEY
from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.reports.conftest import (  # noqa: F401  (submit is a fixture)
    SubmitFn,
    community_1_point,
    photo_bytes,
    submit,
)
from tests.support import FAR_POINT, make_far_community

BASE = "/open311/v2"
AFTER_PHOTO = ("after.jpg", photo_bytes("DSCN0010.jpg"), "image/jpeg")
FORMATS = ("json", "xml")
# Every key of a request in the specification's order; each is always there (null if empty).
STANDARD_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
SERVICE_FIELDS = (
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
)
# W3C date and time with a zone, whole seconds: what the specification's clients parse.
W3C = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")
CASE_NUMBER = re.compile(r"SSP-\d{6}-\d{8}-\d{6}")
XML_DECLARATION = re.compile(
    r"<\?xml version=([\"'])1\.0\1 encoding=([\"'])utf-8\2\s*\?>", re.IGNORECASE
)
DEMO_KEY = DEMO_DASHBOARD_KEY  # the banner 杭锦后旗's big-screen key
BANNER = demo_id("region", "杭锦后旗")
Report = dict[str, Any]


@pytest.fixture
def settings(database_url: str, settings_for: Callable[..., Settings]) -> Settings:
    """The test settings, reading the cases without a key (the demo's default)."""
    return settings_for(database_url, open311_public_read=True)


# --- What a client reads ------------------------------------------------------------------------


def json_ok(response: httpx.Response) -> Any:
    """The body of a 200 JSON answer."""
    assert response.status_code == 200, (str(response.url), response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    return response.json()


def xml_ok(response: httpx.Response) -> ET.Element:
    """The root of a 200 XML answer, sent as text/xml in UTF-8 with its declaration first."""
    assert response.status_code == 200, (str(response.url), response.text)
    return xml_document(response)


def xml_document(response: httpx.Response) -> ET.Element:
    content_type = response.headers["content-type"].replace(" ", "").lower()
    assert content_type == "text/xml;charset=utf-8", response.headers
    assert XML_DECLARATION.match(response.text), response.text[:80]
    return ET.fromstring(response.content)


def open311_errors(response: httpx.Response, status: int, fmt: str) -> list[dict[str, Any]]:
    """The errors document of a refused request, in the format its suffix asked for: JSON
    ``[{"code": 400, "description": "…"}]``, XML ``<errors><error><code>…``; never
    problem+json. Each error's code is the HTTP status; its description says what was wrong."""
    assert response.status_code == status, (str(response.url), response.text)
    assert "problem" not in response.headers.get("content-type", ""), response.headers
    if fmt == "json":
        assert response.headers["content-type"].startswith("application/json")
        errors: list[dict[str, Any]] = response.json()
        assert isinstance(errors, list), errors
    else:
        root = xml_document(response)
        assert root.tag == "errors", response.text
        assert [child.tag for child in root] == ["error"] * len(root)
        errors = []
        for element in root:
            assert sorted(child.tag for child in element) == ["code", "description"]
            code = element.findtext("code") or ""
            errors.append({"code": int(code), "description": element.findtext("description")})
    assert errors, response.text
    for error in errors:
        assert error["code"] == status, errors
        assert isinstance(error["description"], str), errors
        assert error["description"].strip(), errors
    return errors


def as_list(value: Any) -> list[Any]:
    """georeport's XML mode gives one element as a dict and several as a list."""
    if isinstance(value, list):
        return value
    assert isinstance(value, dict), value
    return [value]


def boolean(value: Any) -> bool:
    """A boolean as JSON (true/false) or as georeport reads XML ('true'/'false')."""
    if isinstance(value, bool):
        return value
    assert value in ("true", "false"), value
    return bool(value == "true")


def w3c(value: Any) -> datetime:
    """A W3C date and time with a zone, whole seconds."""
    assert isinstance(value, str), value
    assert W3C.fullmatch(value), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def same_second(shown: Any, moment: str) -> None:
    """An Open311 time (W3C, whole seconds) is a native API time (RFC 3339, perhaps with
    fractions of a second), to the second."""
    assert abs(w3c(shown) - datetime.fromisoformat(moment)) < timedelta(seconds=1), (shown, moment)


def numbers(requests: list[dict[str, Any]]) -> list[str]:
    return [str(request["service_request_id"]) for request in requests]


async def requests_json(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """``GET /open311/v2/requests.json`` with ``params``: the requests listed."""
    listed = json_ok(await client.get(f"{BASE}/requests.json", params=params))
    assert isinstance(listed, list), listed
    return listed


async def request_json(client: httpx.AsyncClient, number: str, **params: Any) -> dict[str, Any]:
    """``GET /open311/v2/requests/{number}.json``: its one request."""
    answer = json_ok(await client.get(f"{BASE}/requests/{number}.json", params=params))
    assert isinstance(answer, list), answer
    assert len(answer) == 1, answer
    request: dict[str, Any] = answer[0]
    return request


class Georeport:
    """The PyPI ``georeport`` client in one format; its calls block (``requests``), so each
    runs in a thread while the server answers in the test's event loop. Lists are lists in
    both formats (its XML mode gives a single element as a dict)."""

    def __init__(self, server: str, fmt: str) -> None:
        self.format = fmt
        self.client = GeoReport(f"{server}{BASE}", output_format=fmt)

    async def services(self) -> list[dict[str, Any]]:
        return as_list(await asyncio.to_thread(self.client.get_service_list))

    async def definition(self, code: str) -> dict[str, Any]:
        definition: dict[str, Any] = await asyncio.to_thread(
            self.client.get_service_definition, code
        )
        return definition

    async def requests(self, **params: str) -> list[dict[str, Any]]:
        return as_list(await asyncio.to_thread(self.client.get_service_requests, **params))

    async def request(self, number: str) -> dict[str, Any]:
        request: dict[str, Any] = await asyncio.to_thread(self.client.get_service_request, number)
        assert isinstance(request, dict), request
        return request


@pytest.fixture(params=FORMATS)
def georeport(live_server: str, request: pytest.FixtureRequest) -> Georeport:
    """georeport against the test's app on a real server, in each format in turn."""
    return Georeport(live_server, request.param)


# --- Cases through the native API ---------------------------------------------------------------


async def ok(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Any:
    response = await client.request(method, url, **kwargs)
    assert 200 <= response.status_code < 300, (method, url, response.text)
    return response.json()


async def file_case(submit: SubmitFn, username: str = "courier1", **fields: Any) -> Report:  # noqa: F811
    """A case filed by ``username`` (in 东街社区 unless ``lat``/``lng`` say otherwise)."""
    response = await submit(username, **fields)
    assert response.status_code == 201, response.text
    report: Report = response.json()
    assert CASE_NUMBER.fullmatch(report["number"]), report
    return report


async def accept(client: httpx.AsyncClient, login: LoginFn, report_id: str) -> Report:
    """staff1 accepts (立案) a case of 东街社区: its resolve-by deadline starts."""
    accepted: Report = await ok(
        client,
        "POST",
        f"/api/v1/reports/{report_id}/accept",
        json={},
        headers=await login("staff1"),
    )
    return accepted


async def close(client: httpx.AsyncClient, login: LoginFn, report_id: str) -> Report:
    """staff1 takes a case of 东街社区 through to closed: accept, start (handling it
    in-house), resolve with a photo of the result, verify passed."""
    staff = await login("staff1")
    url = f"/api/v1/reports/{report_id}"
    await accept(client, login, report_id)
    await ok(client, "POST", f"{url}/start", json={}, headers=staff)
    await ok(
        client,
        "POST",
        f"{url}/resolve",
        data={"note": "已处理"},
        files=[("photos", AFTER_PHOTO)],
        headers=staff,
    )
    closed: Report = await ok(
        client, "POST", f"{url}/verify", data={"passed": "true"}, headers=staff
    )
    assert closed["status"] == "closed", closed
    return closed


async def leaf_categories(client: httpx.AsyncClient, login: LoginFn) -> dict[str, Report]:
    """The active categories one may report under, by code, with their parent's name as
    ``group``: what the service list must offer."""
    categories = await ok(client, "GET", "/api/v1/categories", headers=await login("courier1"))
    names = {category["code"]: category["name"] for category in categories}
    return {
        category["code"]: {**category, "group": names.get(category["parent_code"])}
        for category in categories
        if category["is_leaf"]
    }


async def far_case(client: httpx.AsyncClient, login: LoginFn) -> tuple[Report, str]:
    """A case in 东风社区 of 磴口县, a county outside the banner that the administrator
    makes (county, township, community): the case and the county's id."""
    community, county = await make_far_community(client, await login("admin"))
    lat, lng = FAR_POINT
    report: Report = await ok(
        client,
        "POST",
        "/api/v1/reports",
        data={
            "category_code": "piled_rubbish",
            "description": "路边堆着砖",
            "lat": str(lat),
            "lng": str(lng),
        },
        files=[("photos", ("far.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"))],
        headers=await login("resident1"),
    )
    assert report["community"]["id"] == community, report
    return report, county


async def new_key(client: httpx.AsyncClient, login: LoginFn, region_id: uuid.UUID | str) -> Report:
    """A dashboard key for a region, as the administrator creates it (``key``: its secret)."""
    key: Report = await ok(
        client,
        "POST",
        "/api/v1/api-keys",
        json={"name": "Open311 - 测试", "region_id": str(region_id)},
        headers=await login("admin"),
    )
    return key
