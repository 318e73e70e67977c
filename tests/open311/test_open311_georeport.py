"""An independent Open311 client, the PyPI ``georeport`` package, reads the service: the
services (one per category one may report under), a service's definition, requests filtered by
status, service, dates and ids, and one request; in JSON and in XML (its XML mode gives strings,
and one element as a dict). A case closed through the native workflow reads ``closed``, one
still waiting reads ``open``; the expected time appears once the case is accepted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import requests

from tests.conftest import LoginFn
from tests.open311.conftest import (
    Georeport,
    accept,
    as_list,
    boolean,
    close,
    file_case,
    leaf_categories,
    numbers,
    same_second,
    w3c,
)
from tests.reports.conftest import SubmitFn

CHINA = ZoneInfo("Asia/Shanghai")


async def test_the_service_list_has_one_service_per_leaf_category(
    georeport: Georeport, client: httpx.AsyncClient, login: LoginFn
) -> None:
    leaves = await leaf_categories(client, login)
    services = await georeport.services()
    assert sorted(service["service_code"] for service in services) == sorted(leaves)
    for service in services:
        category = leaves[service["service_code"]]
        assert service["service_name"] == category["name"], service
        assert service["group"] == category["group"], service
        assert service["group"], service  # every leaf has a top class
        assert boolean(service["metadata"]) is True, service
        assert service["type"] == "realtime", service


async def test_a_service_definition_offers_the_optional_time_it_happened(
    georeport: Georeport,
) -> None:
    definition = await georeport.definition("piled_rubbish")
    assert definition["service_code"] == "piled_rubbish"
    # JSON: a list of attributes; georeport's XML: {"attribute": one dict or a list}.
    attributes = definition["attributes"]
    if georeport.format == "xml":
        attributes = as_list(attributes["attribute"])
    assert len(attributes) == 1, attributes
    (attribute,) = attributes
    assert attribute["code"] == "occurred_at"
    assert attribute["datatype"] == "datetime"
    assert boolean(attribute["variable"]) is True
    assert boolean(attribute["required"]) is False
    assert int(attribute["order"]) == 1
    assert attribute["description"], attribute


async def test_an_unknown_service_is_an_http_error_to_the_client(georeport: Georeport) -> None:
    with pytest.raises(requests.HTTPError) as refused:
        await georeport.definition("no_such_service")
    assert refused.value.response is not None
    assert refused.value.response.status_code == 404


async def test_requests_filtered_by_service_dates_and_ids(
    georeport: Georeport, submit: SubmitFn
) -> None:
    parking = await file_case(submit, category_code="chaotic_parking")
    rubbish = await file_case(submit, category_code="piled_rubbish", description="楼道堆满杂物")
    both = {parking["number"], rubbish["number"]}

    # Newest first, and nothing else was filed.
    assert numbers(await georeport.requests()) == [rubbish["number"], parking["number"]]
    only_rubbish = await georeport.requests(service_code="piled_rubbish")
    assert numbers(only_rubbish) == [rubbish["number"]]
    assert only_rubbish[0]["description"] == "楼道堆满杂物"
    listed = await georeport.requests(service_code="piled_rubbish,chaotic_parking")
    assert set(numbers(listed)) == both

    now = datetime.now(UTC).replace(microsecond=0)
    window = {
        "start_date": (now - timedelta(days=1)).isoformat(),
        "end_date": (now + timedelta(hours=1)).astimezone(CHINA).isoformat(),
    }
    assert set(numbers(await georeport.requests(**window))) == both
    by_id = await georeport.requests(service_request_id=parking["number"])
    assert numbers(by_id) == [parking["number"]]
    # The ids override every other filter.
    by_ids = await georeport.requests(
        service_request_id=f"{parking['number']},{rubbish['number']}",
        service_code="street_light_failure",
        start_date="2026-01-01T00:00:00+08:00",
        end_date="2026-01-02T00:00:00+08:00",
        status="closed",
    )
    assert set(numbers(by_ids)) == both


async def test_a_closed_case_reads_closed_and_a_waiting_one_open(
    georeport: Georeport, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    waiting = await file_case(submit)
    done = await file_case(submit, description="楼下堆着旧家具")
    closed = await close(client, login, done["id"])

    assert (await georeport.request(waiting["number"]))["status"] == "open"
    read = await georeport.request(done["number"])
    assert read["service_request_id"] == done["number"]
    assert read["status"] == "closed"
    # Updated when it was closed (the verification's write may end a moment later).
    updated = w3c(read["updated_datetime"]) - datetime.fromisoformat(closed["closed_at"])
    assert abs(updated) < timedelta(seconds=2), (read, closed["closed_at"])

    assert numbers(await georeport.requests(status="open")) == [waiting["number"]]
    assert numbers(await georeport.requests(status="closed")) == [done["number"]]
    assert set(numbers(await georeport.requests(status="open,closed"))) == {
        waiting["number"],
        done["number"],
    }


async def test_the_expected_time_appears_once_the_case_is_accepted(
    georeport: Georeport, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    report = await file_case(submit)
    before = await georeport.request(report["number"])
    assert before["expected_datetime"] is None
    assert before["status"] == "open"

    accepted = await accept(client, login, report["id"])
    (resolve_by,) = (d["due_at"] for d in accepted["deadlines"] if d["kind"] == "resolve")
    after = await georeport.request(report["number"])
    same_second(after["expected_datetime"], resolve_by)
    assert after["status"] == "open"
    same_second(after["requested_datetime"], report["created_at"])
    assert float(after["lat"]) == pytest.approx(report["location"]["lat"], abs=1e-6)
    assert float(after["long"]) == pytest.approx(report["location"]["lng"], abs=1e-6)
