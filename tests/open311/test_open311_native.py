"""A case filed through the native API, as an Open311 client sees it: the same number,
description, place and category, under its number or its id; the community (then the lead unit)
responsible; and, asked with ``extensions=true`` only, the detail the standard fields leave out
(``extended_attributes``: status, community, region, units, deadlines, photos)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import LoginFn
from tests.jobs.conftest import LEAD, unit_id
from tests.open311.conftest import (
    BASE,
    STANDARD_FIELDS,
    W3C,
    accept,
    file_case,
    ok,
    request_json,
    requests_json,
    same_second,
    xml_ok,
)
from tests.reports.conftest import SubmitFn, photo_bytes

EXTENDED = {"detailed_status", "community", "region", "units", "deadlines", "media_urls"}


async def test_a_native_case_reads_the_same_through_open311(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    report = await file_case(
        submit, category_code="piled_rubbish", description="小区门口堆着装修垃圾 & <旧家具>"
    )
    category = await ok(
        client, "GET", "/api/v1/categories/piled_rubbish", headers=await login("courier1")
    )
    for path in (report["number"], report["id"]):
        request = await request_json(client, path)
        assert set(request) == set(STANDARD_FIELDS), sorted(request)
        assert request["service_request_id"] == report["number"]
        assert request["status"] == "open"
        assert request["description"] == report["description"]
        assert request["service_code"] == "piled_rubbish"
        assert request["service_name"] == category["name"]
        assert request["lat"] == pytest.approx(report["location"]["lat"], abs=1e-6)
        assert request["long"] == pytest.approx(report["location"]["lng"], abs=1e-6)
        assert isinstance(request["lat"], float)
        assert isinstance(request["long"], float)
        same_second(request["requested_datetime"], report["created_at"])
        assert request["expected_datetime"] is None
        assert "东街社区" in request["agency_responsible"]
    # The XML escapes what the description holds.
    root = xml_ok(await client.get(f"{BASE}/requests/{report['number']}.xml"))
    assert root.findtext("request/description") == report["description"]


async def test_a_whistled_case_names_the_lead_unit_responsible(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    report = await file_case(submit)
    await accept(client, login, report["id"])
    await ok(
        client,
        "POST",
        f"/api/v1/reports/{report['id']}/whistle",
        json={"unit_ids": [unit_id(LEAD)]},
        headers=await login("staff1"),
    )
    request = await request_json(client, report["number"], extensions="true")
    assert request["status"] == "open"
    assert "东街社区" in request["agency_responsible"]
    assert LEAD in request["agency_responsible"]
    extended = request["extended_attributes"]
    assert extended["detailed_status"] == "dispatched"
    assert [(unit["name"], unit["lead"]) for unit in extended["units"]] == [(LEAD, True)]
    assert extended["units"][0]["status"], extended


def _check_extended(extended: dict[str, Any], report: dict[str, Any]) -> None:
    assert set(extended) >= EXTENDED, sorted(extended)
    assert extended["detailed_status"] == "submitted"
    assert extended["community"] == "东街社区"
    assert extended["region"] == report["region"]["name"]
    assert extended["units"] == []
    # Each running deadline at its time (one not started yet may be listed without a time).
    due = {deadline["kind"]: deadline for deadline in extended["deadlines"]}
    for deadline in report["deadlines"]:
        same_second(due[deadline["kind"]]["due_at"], deadline["due_at"])
        assert due[deadline["kind"]]["light"] == deadline["light"]
    for deadline in extended["deadlines"]:
        assert deadline["due_at"] is None or W3C.fullmatch(deadline["due_at"]), deadline
    assert len(extended["media_urls"]) == len(report["photos"]) == 2
    assert all(url.startswith("http://test/") for url in extended["media_urls"])


async def test_extensions_add_the_extended_attributes_and_only_then(
    client: httpx.AsyncClient, submit: SubmitFn
) -> None:
    photos = [("a.jpg", photo_bytes("Canon_40D.jpg")), ("b.jpg", photo_bytes("DSCN0010.jpg"))]
    report = await file_case(submit, photos=photos)
    (plain,) = await requests_json(client)
    assert "extended_attributes" not in plain
    assert "extended_attributes" not in await request_json(client, report["number"])
    assert "extended_attributes" not in await request_json(
        client, report["number"], extensions="false"
    )

    (listed,) = await requests_json(client, extensions="true")
    one = await request_json(client, report["number"], extensions="true")
    for request in (listed, one):
        assert {key: request[key] for key in STANDARD_FIELDS} == plain
        _check_extended(request["extended_attributes"], report)
    # The first of them is the media_url (signed links of one photo differ only in the query).
    first = one["extended_attributes"]["media_urls"][0]
    assert first.split("?")[0] == plain["media_url"].split("?")[0]

    root = xml_ok(await client.get(f"{BASE}/requests.xml", params={"extensions": "true"}))
    extended = root.find("request/extended_attributes")
    assert extended is not None
    assert extended.findtext("detailed_status") == "submitted"
    assert extended.findtext("community") == "东街社区"
    assert len(extended.findall("media_urls/media_url")) == 2
    deadlines = {d.findtext("kind"): d for d in extended.findall("deadlines/deadline")}
    accept_by = deadlines["accept"].findtext("due_at")
    same_second(accept_by, next(d["due_at"] for d in report["deadlines"] if d["kind"] == "accept"))
    plain_xml = xml_ok(await client.get(f"{BASE}/requests.xml"))
    assert plain_xml.find("request/extended_attributes") is None


async def test_a_rejected_or_duplicate_case_reads_closed(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    first = await file_case(submit)
    repeated = await file_case(submit)
    rejected = await file_case(submit, category_code="piled_rubbish")
    staff = await login("staff1")
    await ok(
        client,
        "POST",
        f"/api/v1/reports/{repeated['id']}/mark-duplicate",
        json={"duplicate_of": first["id"]},
        headers=staff,
    )
    await ok(
        client,
        "POST",
        f"/api/v1/reports/{rejected['id']}/reject",
        json={"reason": "照片与描述不符"},
        headers=staff,
    )
    statuses = {
        request["service_request_id"]: request["status"]
        for request in await requests_json(client, extensions="true")
    }
    assert statuses == {
        first["number"]: "open",
        repeated["number"]: "closed",
        rejected["number"]: "closed",
    }
    closed = await requests_json(client, status="closed", extensions="true")
    details = {r["service_request_id"]: r["extended_attributes"]["detailed_status"] for r in closed}
    assert details == {repeated["number"]: "duplicate", rejected["number"]: "rejected"}
