"""Open311 documents in both formats, from one nested value: JSON as it is, XML by the rule the
specification's JSON follows (the "Spark" mapping), read the other way round — a mapping is an
element per key, a list under a plural name is that element with one child per item under the
singular name (``services`` → ``<services><service>…``), ``None`` an empty element, booleans
``true``/``false``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final
from xml.etree import ElementTree

from fastapi import Response

JSON_TYPE: Final = "application/json; charset=utf-8"
XML_TYPE: Final = "text/xml; charset=utf-8"
FORMATS: Final = ("json", "xml")
XML_DECLARATION: Final = b'<?xml version="1.0" encoding="utf-8"?>\n'

# The plural elements of the specification and of our extended attributes, and their children.
SINGULAR: Final = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "units": "unit",
    "deadlines": "deadline",
    "media_urls": "media_url",
    "notes": "note",
}
# Characters XML 1.0 cannot carry, even escaped (C0 controls but tab, line feed, return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ElementTree.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), item)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        child = SINGULAR.get(element.tag, "item")
        for item in value:
            _fill(ElementTree.SubElement(element, child), item)
    else:
        element.text = _text(value)


def xml_document(root: str, value: Any) -> bytes:
    element = ElementTree.Element(root)
    _fill(element, value)
    body: bytes = ElementTree.tostring(element, encoding="utf-8", xml_declaration=False)
    return XML_DECLARATION + body


def open311_response(fmt: str, root: str, value: Any, status_code: int = 200) -> Response:
    """``value`` as the document ``root`` in XML, or as itself in JSON (where the root
    element disappears: a list is a bare array, a definition a bare object)."""
    if fmt == "json":
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return Response(body, status_code=status_code, media_type=JSON_TYPE)
    return Response(xml_document(root, value), status_code=status_code, media_type=XML_TYPE)
