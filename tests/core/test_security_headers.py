"""Security headers on every answer: nosniff, no referrer, no framing, and a Content Security
Policy that lets a JSON answer or a photo run nothing, and lets the documentation pages run only
this server's files and their own inline blocks (by a nonce, fresh for each answer)."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from app.core.security_headers import API_CONTENT_SECURITY_POLICY
from tests.conftest import LoginFn
from tests.reports.conftest import (
    SubmitFn,
    submit,  # noqa: F401
)

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
INLINE_BLOCK = re.compile(r"<(script|style)\b([^>]*)>(.*?)</\1>", re.DOTALL)


def assert_common_headers(response: httpx.Response) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    # Once, not added again by a second layer.
    assert len(response.headers.get_list("x-content-type-options")) == 1


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


async def test_json_answers_and_errors_carry_the_strict_policy(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    headers = await login("staff1")
    answers = [
        await client.get("/healthz"),
        await client.get("/openapi.json"),
        await client.get("/api/v1/me", headers=headers),
        await client.get("/api/v1/me"),  # 401
        await client.get("/api/v1/no-such-thing"),  # 404
        await client.delete("/healthz"),  # 405
        await client.post("/api/v1/auth/token", data={"username": "staff1"}),  # 422
        await client.get("/", headers={"Accept": "application/json"}),
        await client.get("/docs/assets/swagger-ui-bundle.js"),
    ]
    for response in answers:
        assert_common_headers(response)
        assert response.headers["content-security-policy"] == API_CONTENT_SECURITY_POLICY
    assert directives(API_CONTENT_SECURITY_POLICY) == {
        "default-src": ["'none'"],
        "frame-ancestors": ["'none'"],
    }


async def test_photos_are_never_sniffed_as_something_else(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,  # noqa: F811
) -> None:
    report = await submit("courier1")
    assert report.status_code == 201
    photo = await client.get(report.json()["photos"][0]["url"], headers=await login("courier1"))
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert_common_headers(photo)
    assert photo.headers["content-security-policy"] == API_CONTENT_SECURITY_POLICY


async def test_an_unexpected_error_carries_them_too(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/explode", explode)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/explode")
    assert response.status_code == 500
    assert_common_headers(response)
    assert response.headers["content-security-policy"] == API_CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect", "/"])
async def test_pages_allow_only_this_server_and_their_own_inline_blocks(
    client: httpx.AsyncClient, path: str
) -> None:
    first = await client.get(path, headers={"Accept": "text/html"})
    second = await client.get(path, headers={"Accept": "text/html"})
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/html")
    assert_common_headers(first)
    policy = first.headers["content-security-policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    parsed = directives(policy)
    nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{20,})'", parsed["script-src"][1])
    assert nonce is not None
    assert parsed["default-src"] == ["'self'"]
    assert parsed["script-src"] == ["'self'", f"'nonce-{nonce.group(1)}'"]
    assert parsed["style-src"] == ["'self'", f"'nonce-{nonce.group(1)}'"]
    assert parsed["img-src"] == ["'self'", "data:"]
    assert parsed["connect-src"] == ["'self'"]
    assert parsed["object-src"] == ["'none'"]
    assert parsed["base-uri"] == ["'none'"]
    assert parsed["frame-ancestors"] == ["'none'"]
    # Every inline block carries this answer's nonce; anything else would not run.
    for tag, attributes, content in INLINE_BLOCK.findall(first.text):
        if "src=" in attributes:
            continue
        assert f'nonce="{nonce.group(1)}"' in attributes, (path, tag, content[:80])
    # A nonce is good for one answer only.
    assert second.headers["content-security-policy"] != policy
    assert nonce.group(1) not in second.text


async def test_redoc_is_started_with_the_nonce_for_the_styles_it_makes(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/redoc")).text
    # A browser hides a nonce attribute from scripts reading it; the running script sees it.
    assert "nonce: document.currentScript.nonce" in page
    assert 'data-spec-url="/openapi.json"' in page
