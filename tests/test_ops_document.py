"""The OpenAPI document says what the operations endpoints answer: /readyz a JSON object saying
whether (and why not) the service is ready, /metrics Prometheus' text format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import jsonschema

from app.core.config import Settings
from app.main import create_app


def _documented(document: dict[str, Any], path: str, status: int, media_type: str) -> Any:
    content = document["paths"][path]["get"]["responses"][str(status)]["content"]
    return {**content[media_type]["schema"], "components": document["components"]}


async def test_readiness_is_answered_as_documented(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.headers["content-type"] == "application/json"
    jsonschema.validate(ready.json(), _documented(document, "/readyz", 200, "application/json"))


async def test_unreadiness_is_answered_as_documented(
    empty_database: str, settings_for: Callable[..., Settings]
) -> None:
    app = create_app(settings_for(empty_database))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        document = (await http.get("/openapi.json")).json()
        response = await http.get("/readyz")
    await app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "not migrated"
    schema = _documented(document, "/readyz", 503, "application/json")
    jsonschema.validate(response.json(), schema)


async def test_metrics_are_answered_as_documented(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert _documented(document, "/metrics", 200, "text/plain") == {
        "type": "string",
        "components": document["components"],
    }
