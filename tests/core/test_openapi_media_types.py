"""The document is OpenAPI 3.1 through and through: a media type holds only the fields 3.1
defines (or extensions), so a 3.1 validator or client generator reads every answer."""

from __future__ import annotations

from typing import Any

import httpx

MEDIA_TYPE_FIELDS = {"schema", "example", "examples", "encoding"}


def _media_types(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for path, path_item in document["paths"].items():
        for method, operation in path_item.items():
            if not isinstance(operation, dict):
                continue
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += list(operation.get("responses", {}).items())
            for where, body in bodies:
                for media_type, media in body.get("content", {}).items():
                    found.append((f"{method.upper()} {path} {where}", media_type, where, media))
    return found


async def test_every_media_type_holds_only_what_openapi_3_1_defines(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    media_types = _media_types(document)
    assert any(media_type == "text/event-stream" for _, media_type, _, _ in media_types)
    foreign = {
        (operation, media_type, key)
        for operation, media_type, _, media in media_types
        for key in media
        if key not in MEDIA_TYPE_FIELDS and not key.startswith("x-")
    }
    assert foreign == set()


async def test_the_event_stream_describes_one_message(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    stream = document["paths"]["/api/v1/events/stream"]["get"]["responses"]["200"]["content"]
    message = stream["text/event-stream"]["schema"]
    assert message["required"] == ["id", "event", "data"]
    assert message["properties"]["data"]["contentSchema"] == {"$ref": "#/components/schemas/Event"}
