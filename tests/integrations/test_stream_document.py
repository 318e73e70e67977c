"""The OpenAPI document describes the messages of ``GET /api/v1/events/stream`` as a client
receives them: an object of `id`, `event` and `data` per message, `data` a JSON event."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import jsonschema
from fastapi import FastAPI

from tests.conftest import LoginFn
from tests.integrations.conftest import dispatch_directly
from tests.reports.conftest import SubmitFn


async def test_stream_messages_are_as_documented(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    open_stream: Callable[..., Any],
) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/events/stream"]["get"]
    message_schema: dict[str, Any] = {
        **operation["responses"]["200"]["content"]["text/event-stream"]["schema"],
        "components": document["components"],
    }
    report = (await submit("courier1")).json()
    await dispatch_directly(app, report["id"])  # a job event too

    stream = await open_stream(await login("admin"), last_event_id=0)
    received = [await stream.next(), await stream.next()]
    assert [event.event for event in received] == ["report.submitted", "job.dispatched"]
    for event in received:
        message = {"id": str(event.id), "event": event.event, "data": json.dumps(event.data)}
        jsonschema.validate(message, message_schema)
        # `data` is JSON, and what its content schema says.
        data_schema = message_schema["properties"]["data"]
        assert data_schema["contentMediaType"] == "application/json"
        jsonschema.validate(
            event.data, {**data_schema["contentSchema"], "components": document["components"]}
        )
    assert received[1].data["job"]["status"] == "pending"
