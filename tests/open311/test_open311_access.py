"""Who reads the cases through Open311: with ``api_key`` set to a dashboard key, the cases of
the key's region and no others; a wrong, revoked or missing key is refused (403, in the Open311
errors format of the suffix), unless the service lets anyone read (``open311_public_read``, off
outside the demo). The services, their definitions and the discovery document need no key."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from app.core.config import Settings
from tests.conftest import LoginFn
from tests.open311.conftest import (
    BANNER,
    BASE,
    DEMO_KEY,
    FORMATS,
    far_case,
    file_case,
    json_ok,
    new_key,
    numbers,
    ok,
    open311_errors,
    request_json,
    requests_json,
    xml_ok,
)
from tests.reports.conftest import SubmitFn
from tests.support import client_from


@pytest.fixture
def settings(database_url: str, settings_for: Callable[..., Settings]) -> Settings:
    """The test settings as they are outside the demo: no reading without a key."""
    return settings_for(database_url)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_without_a_key_the_requests_are_refused(
    client: httpx.AsyncClient, submit: SubmitFn, fmt: str
) -> None:
    report = await file_case(submit)
    for path in ("requests", f"requests/{report['number']}"):
        for params in ({}, {"api_key": ""}):
            response = await client.get(f"{BASE}/{path}.{fmt}", params=params)
            errors = open311_errors(response, 403, fmt)
            assert any("api_key" in error["description"] for error in errors), errors


@pytest.mark.parametrize("fmt", FORMATS)
async def test_services_and_discovery_need_no_key(client: httpx.AsyncClient, fmt: str) -> None:
    for path in ("services", "services/chaotic_parking", "discovery"):
        response = await client.get(f"{BASE}/{path}.{fmt}")
        if fmt == "json":
            assert json_ok(response), path
        else:
            assert len(xml_ok(response)), path


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_wrong_or_revoked_key_is_refused(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn, fmt: str
) -> None:
    report = await file_case(submit)
    revoked = await new_key(client, login, BANNER)
    await ok(client, "DELETE", f"/api/v1/api-keys/{revoked['id']}", headers=await login("admin"))
    wrong = DEMO_KEY[:-4] + "XXXX"
    for key in (wrong, revoked["key"], "not-a-key"):
        for path in ("requests", f"requests/{report['number']}"):
            response = await client.get(f"{BASE}/{path}.{fmt}", params={"api_key": key})
            open311_errors(response, 403, fmt)


async def test_a_key_reads_the_cases_of_its_region_only(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    east = (await file_case(submit))["number"]
    far_report, far_county = await far_case(client, login)
    far = far_report["number"]
    banner_key = (await new_key(client, login, BANNER))["key"]
    county_key = (await new_key(client, login, far_county))["key"]

    for key in (DEMO_KEY, banner_key):
        assert numbers(await requests_json(client, api_key=key)) == [east]
        by_id = await requests_json(client, api_key=key, service_request_id=f"{east},{far}")
        assert numbers(by_id) == [east]
        assert (await request_json(client, east, api_key=key))["service_request_id"] == east
        outside = await client.get(f"{BASE}/requests/{far}.json", params={"api_key": key})
        assert outside.status_code in (403, 404), outside.text
        open311_errors(outside, outside.status_code, "json")
    assert numbers(await requests_json(client, api_key=county_key)) == [far]
    assert (await request_json(client, far, api_key=county_key))["service_request_id"] == far
    xml = xml_ok(await client.get(f"{BASE}/requests.xml", params={"api_key": county_key}))
    assert [request.findtext("service_request_id") for request in xml] == [far]


async def test_with_public_reading_anyone_reads_every_case(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    database_url: str,
    settings_for: Callable[..., Settings],
) -> None:
    east = (await file_case(submit))["number"]
    far = (await far_case(client, login))[0]["number"]
    public = settings_for(database_url, open311_public_read=True)
    async with client_from(public, "203.0.113.7") as anyone:
        assert numbers(await requests_json(anyone)) == [far, east]
        assert (await request_json(anyone, east))["service_request_id"] == east
        xml = xml_ok(await anyone.get(f"{BASE}/requests.xml"))
        assert [request.findtext("service_request_id") for request in xml] == [far, east]
        # A key still narrows it to its region.
        assert numbers(await requests_json(anyone, api_key=DEMO_KEY)) == [east]
        wrong = await anyone.get(f"{BASE}/requests.json", params={"api_key": "not-a-key"})
        open311_errors(wrong, 403, "json")
