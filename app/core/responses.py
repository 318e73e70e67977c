"""Answers serialised as they are built.

The hot reads (a page of reports or jobs, a case) build their answers as plain values in the
shape of their response model (UUIDs, datetimes, enums, dicts and lists), and this response
writes them straight to JSON in pydantic's own serialiser: the same text the model would give,
without constructing and validating some 600 model objects for a page of 50. The endpoint
keeps its ``response_model`` for the OpenAPI document; tests hold each presenter's values
against its model (tests/core/test_presented_json.py)."""

from __future__ import annotations

from typing import Any

import pydantic_core
from fastapi.responses import Response


class PresentedJSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        # As the response models write them: a float that is not a number is null, never the
        # NaN or Infinity that JSON has no words for (a client's parser would refuse the answer).
        return pydantic_core.to_json(content, inf_nan_mode="null")


def page_response(items: list[dict[str, Any]], next_cursor: str | None) -> PresentedJSON:
    """A ``Page``: its items and the cursor of the next page."""
    return PresentedJSON({"items": items, "next_cursor": next_cursor})
