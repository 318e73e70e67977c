"""Filing a case through Open311 (``POST /open311/v2/requests.json`` and ``.xml``), as an
integration such as a 12345 hotline does it: with a filing key the administrator created for a
region, a form (or multipart with a photo as ``media``) naming a service, a place and who called.

What an integration relies on: the answer carries the case's number and a notice; the case then
reads back through Open311 with the same key and goes through the native workflow like any
resident's case (routed to its community, closed by its staff, read ``closed`` again through
Open311); the caller's contact details reach the case's staff masked, and the administrators in
full only when they ask (and on the audit log). Whatever a form gets wrong is refused in the
Open311 errors format (403 for a key that may not file, 400 for a bad field, 404 for another
jurisdiction) and stores nothing. A retry with the same ``Idempotency-Key`` files once, and a
plain HTTP client that knows nothing of this code files a case too.

Reading is not public here, as outside the demo: every read names the key."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
import requests
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.open311.conftest import (
    BANNER,
    BASE,
    CASE_NUMBER,
    DEMO_KEY,
    FORMATS,
    close,
    file_case,
    json_ok,
    ok,
    open311_errors,
    request_json,
    xml_ok,
)
from tests.reports.conftest import COMMUNITY_1_POINT, SubmitFn, community_centre, photo_bytes
from tests.support import FAR_POINT, make_far_community

HOTLINE = "12345 市民热线"
SHANBA = demo_id("region", "陕坝镇")  # the township of 东街社区
TOUDAOQIAO = demo_id("region", "头道桥镇")  # another township of the banner
CHINA = ZoneInfo("Asia/Shanghai")
EMAIL = "zhang.wei@example.com"
PHONE = "13804781234"
MASKED_PHONE = "1********34"  # as every phone is masked (app.core.phones)
LINK = "https://hotline.example.org/calls/42/photo.jpg"
CONTACT_FIELDS = {
    "integration",
    "first_name",
    "last_name",
    "email",
    "phone",
    "device_id",
    "account_id",
    "media_url",
}
Report = dict[str, Any]
Files = dict[str, tuple[str, bytes, str]]


@pytest.fixture
def settings(database_url: str, settings_for: Callable[..., Settings]) -> Settings:
    """The test settings as they are outside the demo: no reading without a key."""
    return settings_for(database_url, open311_public_read=False)


# --- Helpers ------------------------------------------------------------------------------------


async def filing_key(
    client: httpx.AsyncClient,
    login: LoginFn,
    region_id: uuid.UUID | str = BANNER,
    name: str = HOTLINE,
) -> Report:
    """A filing key for a region, as the administrator creates it (``key``: its secret)."""
    response = await client.post(
        "/api/v1/api-keys",
        json={"name": name, "region_id": str(region_id), "may_file": True},
        headers=await login("admin"),
    )
    assert response.status_code == 201, response.text
    key: Report = response.json()
    return key


def form(key: str | None, **fields: str | None) -> dict[str, str]:
    """A filing at a point of 东街社区 under chaotic_parking; a field given as None is left
    out, and so is ``api_key`` when ``key`` is None."""
    lat, lng = COMMUNITY_1_POINT
    data: dict[str, str | None] = {
        "api_key": key,
        "service_code": "chaotic_parking",
        "lat": str(lat),
        "long": str(lng),
        "description": "小区门口有车堵住消防通道",
        **fields,
    }
    return {name: value for name, value in data.items() if value is not None}


async def post(
    client: httpx.AsyncClient,
    data: dict[str, str],
    fmt: str = "json",
    *,
    files: Files | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"{BASE}/requests.{fmt}", data=data, files=files, headers=headers, params=params
    )


async def filed(
    client: httpx.AsyncClient,
    data: dict[str, str],
    *,
    files: Files | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> Report:
    """The one request of a JSON filing's answer: its number and a notice."""
    answer = json_ok(await post(client, data, files=files, headers=headers, params=params))
    assert isinstance(answer, list), answer
    assert len(answer) == 1, answer
    item: Report = answer[0]
    assert CASE_NUMBER.fullmatch(item["service_request_id"]), item
    assert isinstance(item["service_notice"], str), item
    assert item["service_notice"].strip(), item
    assert "account_id" in item, item
    return item


async def native(
    client: httpx.AsyncClient, login: LoginFn, number: str, username: str = "staff1"
) -> Report:
    """The case of that number as the community's staff read it natively."""
    headers = await login(username)
    page = await ok(client, "GET", "/api/v1/reports", params={"q": number}, headers=headers)
    assert [item["number"] for item in page["items"]] == [number], page
    report: Report = await ok(
        client, "GET", f"/api/v1/reports/{page['items'][0]['id']}", headers=headers
    )
    return report


async def case_count(client: httpx.AsyncClient, login: LoginFn) -> int:
    """How many cases there are, as the administrator lists them."""
    page = await ok(
        client, "GET", "/api/v1/reports", params={"limit": 200}, headers=await login("admin")
    )
    return len(page["items"])


async def contact(
    client: httpx.AsyncClient, login: LoginFn, report_id: str, username: str, **params: str
) -> httpx.Response:
    return await client.get(
        f"/api/v1/reports/{report_id}/contact", params=params, headers=await login(username)
    )


async def service_name(client: httpx.AsyncClient, code: str) -> str:
    services = json_ok(await client.get(f"{BASE}/services.json"))
    names = {service["service_code"]: service["service_name"] for service in services}
    name: str = names[code]
    return name


def w3c(moment: datetime) -> str:
    return moment.astimezone(CHINA).replace(microsecond=0).isoformat()


# --- Filing keys --------------------------------------------------------------------------------


async def test_a_filing_key_has_an_account_of_its_own_and_a_dashboard_key_none(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    filing = await filing_key(client, login)
    assert filing["may_file"] is True
    assert filing["name"] == HOTLINE
    assert isinstance(filing["key"], str), filing
    assert filing["key"]
    assert uuid.UUID(filing["reporter_id"])

    response = await client.post(
        "/api/v1/api-keys",
        json={"name": "大屏", "region_id": str(BANNER)},
        headers=await login("admin"),
    )
    assert response.status_code == 201, response.text
    dashboard = response.json()
    assert dashboard["may_file"] is False
    assert dashboard["reporter_id"] is None

    listed = await ok(client, "GET", "/api/v1/api-keys", headers=await login("admin"))
    by_id = {key["id"]: key for key in listed}
    assert by_id[filing["id"]]["may_file"] is True
    assert by_id[filing["id"]]["reporter_id"] == filing["reporter_id"]
    assert by_id[dashboard["id"]]["may_file"] is False
    assert by_id[dashboard["id"]]["reporter_id"] is None
    assert all("key" not in key for key in listed), listed  # the secret was shown once


# --- Filing -------------------------------------------------------------------------------------


async def test_a_filed_request_answers_its_number_and_reads_back_open(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = (await filing_key(client, login))["key"]
    description = "幸福路口 两辆车长期占用消防通道 & <夜间尤甚>"
    item = await filed(
        client, form(key, description=description, media_url=LINK, account_id="caller-0042")
    )
    assert item["account_id"] == "caller-0042"

    request = await request_json(client, item["service_request_id"], api_key=key)
    assert request["service_request_id"] == item["service_request_id"]
    assert request["status"] == "open"
    assert request["service_code"] == "chaotic_parking"
    assert request["description"] == description
    assert request["lat"] == pytest.approx(COMMUNITY_1_POINT[0], abs=1e-6)
    assert request["long"] == pytest.approx(COMMUNITY_1_POINT[1], abs=1e-6)
    assert request["media_url"] == LINK
    # The banner's dashboard key reads it too: it is a case of the banner like any other.
    assert (await request_json(client, item["service_request_id"], api_key=DEMO_KEY))[
        "status"
    ] == "open"


async def test_without_an_account_id_the_answer_has_a_null_one(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = (await filing_key(client, login))["key"]
    item = await filed(client, form(key))
    assert item["account_id"] is None


async def test_a_request_filed_in_xml_answers_in_xml(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = (await filing_key(client, login))["key"]
    data = form(key, account_id="caller-7", jurisdiction_id="suishoupai.cn")
    root = xml_ok(await post(client, data, "xml"))
    assert root.tag == "service_requests", ET.tostring(root)
    assert [child.tag for child in root] == ["request"], ET.tostring(root)
    request = root[0]
    assert {"service_request_id", "service_notice", "account_id"} <= {
        child.tag for child in request
    }
    number = request.findtext("service_request_id") or ""
    assert CASE_NUMBER.fullmatch(number), ET.tostring(root)
    assert (request.findtext("service_notice") or "").strip(), ET.tostring(root)
    assert request.findtext("account_id") == "caller-7"
    read = xml_ok(await client.get(f"{BASE}/requests/{number}.xml", params={"api_key": key}))
    assert read.findtext("request/status") == "open"
    assert read.findtext("request/service_code") == "chaotic_parking"


async def test_the_key_may_come_in_the_query_string(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = (await filing_key(client, login))["key"]
    item = await filed(client, form(None), params={"api_key": key})
    request = await request_json(client, item["service_request_id"], api_key=key)
    assert request["status"] == "open"


async def test_an_empty_description_becomes_the_services_name(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = (await filing_key(client, login))["key"]
    name = await service_name(client, "chaotic_parking")
    for description in ("", None):
        item = await filed(client, form(key, description=description))
        request = await request_json(client, item["service_request_id"], api_key=key)
        assert request["description"] == name


async def test_the_longest_description_is_kept_whole(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = (await filing_key(client, login))["key"]
    description = "车" * 4000
    item = await filed(client, form(key, description=description))
    request = await request_json(client, item["service_request_id"], api_key=key)
    assert request["description"] == description


async def test_the_case_is_a_residents_case_of_its_community_under_the_keys_name(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = await filing_key(client, login)
    occurred = datetime.now(CHINA) - timedelta(hours=2)
    item = await filed(client, form(key["key"], **{"attribute[occurred_at]": w3c(occurred)}))
    report = await native(client, login, item["service_request_id"])
    assert report["source"] == "resident"
    assert report["status"] == "submitted"
    assert report["category"]["code"] == "chaotic_parking"
    assert report["community"]["name"] == "东街社区"
    assert report["reporter"]["display_name"] == HOTLINE
    assert report["reporter"]["id"] == key["reporter_id"]
    assert report["photos"] == []
    assert report["location"]["lat"] == pytest.approx(COMMUNITY_1_POINT[0], abs=1e-6)
    assert report["location"]["lng"] == pytest.approx(COMMUNITY_1_POINT[1], abs=1e-6)
    shown = datetime.fromisoformat(report["occurred_at"])
    assert abs(shown - occurred) < timedelta(seconds=1), (report["occurred_at"], occurred)


async def test_a_photo_sent_as_media_is_the_cases_media_url(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = (await filing_key(client, login))["key"]
    media: Files = {"media": ("call.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")}
    item = await filed(client, form(key), files=media)
    request = await request_json(client, item["service_request_id"], api_key=key)
    url = request["media_url"]
    assert isinstance(url, str), request
    assert url.startswith("http"), url
    assert urlsplit(url).path.startswith("/api/v1/photos/"), url

    image = await client.get(url)  # no Authorization
    assert image.status_code == 200, image.text
    assert image.headers["content-type"] == "image/jpeg"
    assert image.content[:3] == b"\xff\xd8\xff"

    report = await native(client, login, item["service_request_id"])
    assert len(report["photos"]) == 1, report["photos"]
    assert report["photos"][0]["id"] in url


async def test_closed_natively_the_request_reads_closed(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = (await filing_key(client, login))["key"]
    number = (await filed(client, form(key)))["service_request_id"]
    report = await native(client, login, number)
    await close(client, login, report["id"])
    assert (await request_json(client, number, api_key=key))["status"] == "closed"
    again = await ok(
        client, "GET", f"/api/v1/reports/{report['id']}", headers=await login("staff1")
    )
    assert again["status"] == "closed"


async def test_a_key_files_inside_its_region_only(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    township = (await filing_key(client, login, SHANBA))["key"]
    item = await filed(client, form(township))
    assert (await native(client, login, item["service_request_id"]))["community"][
        "name"
    ] == "东街社区"

    other_township = (await filing_key(client, login, TOUDAOQIAO))["key"]
    open311_errors(await post(client, form(other_township)), 400, "json")

    await make_far_community(client, await login("admin"))
    banner = (await filing_key(client, login))["key"]
    lat, lng = FAR_POINT
    open311_errors(await post(client, form(banner, lat=str(lat), long=str(lng))), 400, "json")
    assert await case_count(client, login) == 1


# --- address_string -----------------------------------------------------------------------------


async def test_an_address_naming_a_community_files_at_its_centre(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    key = (await filing_key(client, login))["key"]
    address = "杭锦后旗东街社区 幸福路12号"
    item = await filed(client, form(key, lat=None, long=None, address_string=address))
    lat, lng = await community_centre(session, "东街社区")
    request = await request_json(client, item["service_request_id"], api_key=key)
    assert request["lat"] == pytest.approx(lat, abs=1e-6)
    assert request["long"] == pytest.approx(lng, abs=1e-6)
    report = await native(client, login, item["service_request_id"])
    assert report["community"]["name"] == "东街社区"


@pytest.mark.parametrize("fmt", FORMATS)
async def test_an_address_naming_no_community_of_the_region_is_refused(
    client: httpx.AsyncClient, login: LoginFn, fmt: str
) -> None:
    banner = (await filing_key(client, login))["key"]
    other_township = (await filing_key(client, login, TOUDAOQIAO))["key"]
    for key, address in (
        (banner, "北京市朝阳区建国路88号"),
        (banner, "东风社区 人民路1号"),
        (other_township, "杭锦后旗东街社区 幸福路12号"),  # a community of another township
    ):
        data = form(key, lat=None, long=None, address_string=address)
        errors = open311_errors(await post(client, data, fmt), 400, fmt)
        assert any("address_string" in error["description"] for error in errors), errors
    assert await case_count(client, login) == 0


# --- The caller's contact -----------------------------------------------------------------------


async def _filed_with_contact(client: httpx.AsyncClient, login: LoginFn) -> Report:
    key = (await filing_key(client, login))["key"]
    contact_fields = {
        "first_name": "伟",
        "last_name": "张",
        "email": EMAIL,
        "phone": PHONE,
        "device_id": "hotline-seat-07",
        "account_id": "caller-0042",
        "media_url": LINK,
    }
    item = await filed(client, form(key, **contact_fields))
    return await native(client, login, item["service_request_id"])


async def test_the_communitys_staff_read_the_callers_contact_masked(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    report = await _filed_with_contact(client, login)
    for params in ({}, {"unmasked": "true"}):  # staff cannot unmask
        response = await contact(client, login, report["id"], "staff1", **params)
        assert PHONE not in response.text, response.text
        assert EMAIL not in response.text, response.text
    refused = await contact(client, login, report["id"], "staff1", unmasked="true")
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    response = await contact(client, login, report["id"], "staff1")
    assert response.status_code == 200, response.text
    shown = response.json()
    assert set(shown) >= CONTACT_FIELDS, sorted(shown)
    assert shown["integration"] == HOTLINE
    assert shown["first_name"] == "伟"
    assert shown["last_name"] == "张"
    assert shown["phone"] == MASKED_PHONE
    assert isinstance(shown["email"], str), shown
    assert "*" in shown["email"], shown
    assert shown["device_id"] == "hotline-seat-07"
    assert shown["account_id"] == "caller-0042"
    assert shown["media_url"] == LINK


async def test_an_administrator_reads_the_contact_in_full_on_asking_and_on_record(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    report = await _filed_with_contact(client, login)
    admin = await login("admin")
    masked = await contact(client, login, report["id"], "admin")
    assert masked.status_code == 200, masked.text
    assert PHONE not in masked.text, masked.text
    assert EMAIL not in masked.text, masked.text

    log = {"actor_id": str(demo_id("user", "admin")), "limit": "200"}
    before = await ok(client, "GET", "/api/v1/admin/audit-log", params=log, headers=admin)
    full = await contact(client, login, report["id"], "admin", unmasked="true")
    assert full.status_code == 200, full.text
    assert full.json()["phone"] == PHONE
    assert full.json()["email"] == EMAIL
    after = await ok(client, "GET", "/api/v1/admin/audit-log", params=log, headers=admin)
    assert len(after["items"]) == len(before["items"]) + 1, after
    newest = after["items"][0]
    assert newest["actor"]["username"] == "admin", newest
    assert PHONE not in str(newest["detail"]), newest  # the log says what, never the data


async def test_others_cannot_read_the_contact_and_a_native_case_has_none(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    report = await _filed_with_contact(client, login)
    own = await contact(client, login, report["id"], "staff1")
    assert own.status_code == 200, own.text  # so each 404 below is a refusal
    for username in ("courier1", "staff2"):
        response = await contact(client, login, report["id"], username)
        assert response.status_code == 404, (username, response.text)
        assert PHONE not in response.text
    native_case = await file_case(submit)
    response = await contact(client, login, native_case["id"], "staff1")
    assert response.status_code == 404, response.text


# --- Refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_key_that_may_not_file_is_refused(
    client: httpx.AsyncClient, login: LoginFn, fmt: str
) -> None:
    revoked = await filing_key(client, login)
    await ok(client, "DELETE", f"/api/v1/api-keys/{revoked['id']}", headers=await login("admin"))
    for key in (None, "", "  ", "not-a-key", DEMO_KEY[:-4] + "XXXX", revoked["key"], DEMO_KEY):
        errors = open311_errors(await post(client, form(key), fmt), 403, fmt)
        assert any(
            "api_key" in error["description"] or "fil" in error["description"].lower()
            for error in errors
        ), (key, errors)
    assert await case_count(client, login) == 0


def _big(size: int) -> str:
    return "https://example.org/" + "a" * (size - len("https://example.org/"))


# Each refused form, by what it changes, and the words one of the errors must name (any of).
BAD_FORMS: list[tuple[str, dict[str, str | None], tuple[str, ...]]] = [
    ("no service_code", {"service_code": None}, ("service_code",)),
    ("empty service_code", {"service_code": ""}, ("service_code",)),
    ("unknown service_code", {"service_code": "no_such_service"}, ("service_code",)),
    ("class service_code", {"service_code": "event_street_order"}, ("service_code",)),
    ("no place", {"lat": None, "long": None}, ("lat", "long", "address_string")),
    ("lat without long", {"long": None}, ("lat", "long")),
    ("long without lat", {"lat": None}, ("lat", "long")),
    ("lat not a number", {"lat": "abc"}, ("lat",)),
    ("lat out of range", {"lat": "91"}, ("lat",)),
    ("outside China", {"lat": "48.8566", "long": "2.3522"}, ()),
    ("description too long", {"description": "车" * 4001}, ("description",)),
    ("bad email", {"email": "not-an-email"}, ("email",)),
    ("ftp media_url", {"media_url": "ftp://x"}, ("media_url",)),
    ("javascript media_url", {"media_url": "javascript:alert(1)"}, ("media_url",)),
    ("media_url too long", {"media_url": _big(2001)}, ("media_url",)),
    ("unknown attribute", {"attribute[unknown]": "1"}, ("attribute", "unknown")),
    ("occurred_at not a time", {"attribute[occurred_at]": "yesterday"}, ("occurred_at",)),
    (
        "occurred_at without a zone",
        {"attribute[occurred_at]": "2026-01-01T08:00:00"},
        ("occurred_at",),
    ),
    (
        "occurred_at in the future",
        {"attribute[occurred_at]": w3c(datetime.now(CHINA) + timedelta(days=1))},
        ("occurred_at",),
    ),
]


@pytest.mark.parametrize(
    ("changes", "named"), [(c, n) for _, c, n in BAD_FORMS], ids=[i for i, _, _ in BAD_FORMS]
)
async def test_a_bad_field_is_400_and_files_nothing(
    client: httpx.AsyncClient,
    login: LoginFn,
    changes: dict[str, str | None],
    named: tuple[str, ...],
) -> None:
    key = (await filing_key(client, login))["key"]
    errors = open311_errors(await post(client, form(key, **changes)), 400, "json")
    if named:
        assert any(word in error["description"] for error in errors for word in named), errors
    assert await case_count(client, login) == 0


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_media_file_that_is_no_image_is_400(
    client: httpx.AsyncClient, login: LoginFn, fmt: str
) -> None:
    key = (await filing_key(client, login))["key"]
    media: Files = {"media": ("call.jpg", b"not an image", "image/jpeg")}
    errors = open311_errors(await post(client, form(key), fmt, files=media), 400, fmt)
    assert any("media" in error["description"] for error in errors), errors
    assert await case_count(client, login) == 0


async def test_a_file_input_left_empty_is_no_photo(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    """A browser's form with its file input left empty sends an empty part: filed, no photo."""
    key = (await filing_key(client, login))["key"]
    empty: Files = {"media": ("", b"", "application/octet-stream")}
    item = await filed(client, form(key, media_url=LINK), files=empty)
    report = await native(client, login, item["service_request_id"])
    assert report["photos"] == []
    read = await request_json(client, item["service_request_id"], api_key=key)
    assert read["media_url"] == LINK


async def test_a_json_body_is_400_not_read_as_an_empty_form(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = (await filing_key(client, login))["key"]
    response = await client.post(f"{BASE}/requests.json", json=form(key))
    errors = open311_errors(response, 400, "json")
    assert any("form" in error["description"] for error in errors), errors
    assert await case_count(client, login) == 0


async def test_a_bad_field_is_400_in_xml_too(client: httpx.AsyncClient, login: LoginFn) -> None:
    key = (await filing_key(client, login))["key"]
    errors = open311_errors(await post(client, form(key, service_code=None), "xml"), 400, "xml")
    assert any("service_code" in error["description"] for error in errors), errors


async def test_another_jurisdiction_is_404(client: httpx.AsyncClient, login: LoginFn) -> None:
    key = (await filing_key(client, login))["key"]
    for fmt in FORMATS:
        response = await post(client, form(key, jurisdiction_id="example.org"), fmt)
        open311_errors(response, 404, fmt)
    assert await case_count(client, login) == 0


async def test_an_unknown_suffix_is_404(client: httpx.AsyncClient, login: LoginFn) -> None:
    key = (await filing_key(client, login))["key"]
    open311_errors(await post(client, form(key), "csv"), 404, "xml")
    assert await case_count(client, login) == 0


# --- Retries and other clients ------------------------------------------------------------------


async def test_a_retry_with_the_same_idempotency_key_files_once(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = (await filing_key(client, login))["key"]
    data = form(key, account_id="caller-9")
    retry = {"Idempotency-Key": "hotline-call-20261205-0042"}
    first = await filed(client, data, headers=retry)
    again = await filed(client, data, headers=retry)
    assert again["service_request_id"] == first["service_request_id"]
    assert await case_count(client, login) == 1
    # The same key with another body is refused, not filed.
    changed = form(key, account_id="caller-10")
    open311_errors(await post(client, changed, headers=retry), 400, "json")
    assert await case_count(client, login) == 1
    # Without the header a second filing is a second case.
    other = await filed(client, data)
    assert other["service_request_id"] != first["service_request_id"]
    assert await case_count(client, login) == 2


async def test_each_integration_has_its_own_idempotency_keys(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    retry = {"Idempotency-Key": "call-1"}
    hotline = (await filing_key(client, login))["key"]
    app = (await filing_key(client, login, name="随手拍小程序"))["key"]
    first = await filed(client, form(hotline), headers=retry)
    second = await filed(client, form(app), headers=retry)
    assert second["service_request_id"] != first["service_request_id"]
    assert await case_count(client, login) == 2


async def test_a_plain_http_client_files_a_request(
    live_server: str, client: httpx.AsyncClient, login: LoginFn
) -> None:
    key = (await filing_key(client, login))["key"]
    url = f"{live_server}{BASE}/requests.json"

    def file_it() -> requests.Response:
        return requests.post(url, data=form(key, description="路灯不亮"), timeout=10)

    response = await asyncio.to_thread(file_it)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    (item,) = response.json()
    number = item["service_request_id"]
    assert CASE_NUMBER.fullmatch(number), item

    def read_it() -> requests.Response:
        return requests.get(
            f"{live_server}{BASE}/requests/{number}.json", params={"api_key": key}, timeout=10
        )

    read = await asyncio.to_thread(read_it)
    assert read.status_code == 200, read.text
    (request,) = read.json()
    assert request["status"] == "open"
    assert request["description"] == "路灯不亮"
