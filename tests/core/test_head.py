"""HEAD is answered wherever GET is, with the GET's headers and no body."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/docs", "/openapi.json", "/"])
async def test_head_answers_like_get_without_a_body(client: httpx.AsyncClient, path: str) -> None:
    get = await client.get(path)
    head = await client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


async def test_head_where_there_is_no_get_is_still_405(client: httpx.AsyncClient) -> None:
    response = await client.head("/api/v1/auth/token")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.content == b""
