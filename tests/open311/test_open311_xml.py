"""The XML a GeoReport v2 client parses: an XML declaration in UTF-8, sent as text/xml, then
the specification's element names and nesting (``services/service``,
``service_definition/attributes/attribute``, ``service_requests/request``,
``discovery/endpoints/endpoint/formats/format``), every standard field of a request present (an
empty element when it has no value), booleans as ``true``/``false``, times with a zone. And the
discovery document, in both formats."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from tests.conftest import LoginFn
from tests.open311.conftest import (
    BASE,
    CASE_NUMBER,
    SERVICE_FIELDS,
    STANDARD_FIELDS,
    W3C,
    accept,
    file_case,
    json_ok,
    leaf_categories,
    xml_ok,
)
from tests.reports.conftest import SubmitFn

DATETIMES = ("requested_datetime", "updated_datetime", "expected_datetime")
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


def children(element: ET.Element) -> dict[str, ET.Element]:
    """The element's children by name; each name once."""
    tags = [child.tag for child in element]
    assert len(tags) == len(set(tags)), tags
    return {child.tag: child for child in element}


def is_empty(element: ET.Element) -> bool:
    return len(element) == 0 and not (element.text or "").strip()


def check_request(request: ET.Element) -> dict[str, ET.Element]:
    """A ``<request>`` with every standard field, in the specification's forms."""
    assert request.tag == "request"
    fields = children(request)
    assert set(fields) == set(STANDARD_FIELDS), sorted(fields)
    assert CASE_NUMBER.fullmatch(fields["service_request_id"].text or "")
    assert fields["status"].text in ("open", "closed")
    for name in DATETIMES:
        assert is_empty(fields[name]) or W3C.fullmatch(fields[name].text or ""), name
    assert W3C.fullmatch(fields["requested_datetime"].text or "")
    float(fields["lat"].text or "")
    float(fields["long"].text or "")
    return fields


async def test_the_service_list_is_services_of_service(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    root = xml_ok(await client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    assert {child.tag for child in root} == {"service"}
    assert len(root) == len(await leaf_categories(client, login))
    for service in root:
        fields = children(service)
        assert set(SERVICE_FIELDS) <= set(fields), sorted(fields)
        assert fields["metadata"].text == "true"
        assert fields["type"].text == "realtime"
        assert (fields["service_name"].text or "").strip()


async def test_a_service_definition_is_attributes_of_attribute(client: httpx.AsyncClient) -> None:
    root = xml_ok(await client.get(f"{BASE}/services/chaotic_parking.xml"))
    assert root.tag == "service_definition"
    fields = children(root)
    assert set(fields) == {"service_code", "attributes"}
    assert fields["service_code"].text == "chaotic_parking"
    attributes = list(fields["attributes"])
    assert [attribute.tag for attribute in attributes] == ["attribute"]
    attribute = children(attributes[0])
    expected = {"variable", "code", "datatype", "required", "datatype_description", "order"}
    assert expected | {"description"} <= set(attribute), sorted(attribute)
    assert attribute["variable"].text == "true"
    assert attribute["required"].text == "false"
    assert attribute["code"].text == "occurred_at"
    assert attribute["datatype"].text == "datetime"
    assert attribute["order"].text == "1"


async def test_requests_are_service_requests_of_request_with_every_field(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    waiting = await file_case(submit)
    accepted = await file_case(submit, category_code="piled_rubbish")
    await accept(client, login, accepted["id"])

    root = xml_ok(await client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests"
    requests = [check_request(request) for request in root]
    by_number = {fields["service_request_id"].text: fields for fields in requests}
    assert list(by_number) == [accepted["number"], waiting["number"]]  # newest first
    # No deadline to resolve by before acceptance: an empty element, not a missing one.
    assert is_empty(by_number[waiting["number"]]["expected_datetime"])
    assert W3C.fullmatch(by_number[accepted["number"]]["expected_datetime"].text or "")
    assert by_number[waiting["number"]]["service_code"].text == "chaotic_parking"
    assert by_number[waiting["number"]]["description"].text == waiting["description"]


async def test_one_request_is_a_list_of_one(client: httpx.AsyncClient, submit: SubmitFn) -> None:
    report = await file_case(submit)
    for path in (report["number"], report["id"]):
        root = xml_ok(await client.get(f"{BASE}/requests/{path}.xml"))
        assert root.tag == "service_requests"
        (request,) = list(root)
        assert check_request(request)["service_request_id"].text == report["number"]


async def test_no_requests_is_an_empty_service_requests(client: httpx.AsyncClient) -> None:
    root = xml_ok(await client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests"
    assert is_empty(root)


async def test_the_discovery_document_in_xml(client: httpx.AsyncClient) -> None:
    root = xml_ok(await client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    fields = children(root)
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(fields)
    assert W3C.fullmatch(fields["changeset"].text or "")
    assert (fields["contact"].text or "").strip()
    assert (fields["key_service"].text or "").strip()
    endpoints = list(fields["endpoints"])
    assert [endpoint.tag for endpoint in endpoints] == ["endpoint"]
    endpoint = children(endpoints[0])
    assert endpoint["specification"].text == SPECIFICATION
    assert (endpoint["url"].text or "") == "http://test/open311/v2"
    assert endpoint["type"].text == "production"
    assert W3C.fullmatch(endpoint["changeset"].text or "")
    formats = list(endpoint["formats"])
    assert {f.tag for f in formats} == {"format"}
    assert sorted(f.text or "" for f in formats) == ["application/json", "text/xml"]


async def test_the_discovery_document_in_json(client: httpx.AsyncClient) -> None:
    discovery = json_ok(await client.get(f"{BASE}/discovery.json"))
    assert isinstance(discovery, dict), discovery
    assert W3C.fullmatch(discovery["changeset"])
    assert discovery["contact"].strip()
    assert discovery["key_service"].strip()
    (endpoint,) = discovery["endpoints"]
    assert endpoint["specification"] == SPECIFICATION
    assert endpoint["url"] == "http://test/open311/v2"
    assert endpoint["type"] == "production"
    assert W3C.fullmatch(endpoint["changeset"])
    assert sorted(endpoint["formats"]) == ["application/json", "text/xml"]
