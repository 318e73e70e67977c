"""The API's documentation pages work with no outside network, and ``/`` says where things are.

A browser on an intranet can only reach this server: every script, stylesheet and icon the
pages name must come from it, and nothing in them may point at another host."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.conftest import DEMO_PASSWORD

BASE_URL = "http://test"  # the test client's own origin
ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")


class _Resources(HTMLParser):
    """The URLs a page makes the browser load: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (kind, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(("script", values["src"] or ""))
        elif tag == "link" and values.get("href"):
            kind = "stylesheet" if "stylesheet" in (values.get("rel") or "").lower() else "icon"
            self.urls.append((kind, values["href"] or ""))
        elif tag == "img" and values.get("src"):
            self.urls.append(("icon", values["src"] or ""))


def resources(page: str) -> list[tuple[str, str]]:
    parser = _Resources()
    parser.feed(page)
    return parser.urls


EXPECTED_TYPES = {
    "script": ("text/javascript", "application/javascript"),
    "stylesheet": ("text/css",),
    "icon": ("image/png", "image/x-icon", "image/svg+xml"),
}


async def _check_page(client: httpx.AsyncClient, path: str) -> tuple[str, dict[str, bytes]]:
    """The page's HTML and the bodies of what it loads, after checking that nothing leaves
    the server and that everything it names is served with the right type."""
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    outside = [url for url in ABSOLUTE_URL.findall(page) if not url.startswith(BASE_URL)]
    assert outside == [], f"{path} names other hosts: {outside}"
    loaded = resources(page)
    kinds = {kind for kind, _ in loaded}
    assert {"script", "icon"} <= kinds
    bodies = {}
    for kind, url in loaded:
        absolute = urljoin(f"{BASE_URL}{path}", url)
        assert urlsplit(absolute).netloc == urlsplit(BASE_URL).netloc, url
        asset = await client.get(absolute)
        assert asset.status_code == 200, url
        content_type = asset.headers["content-type"].split(";")[0].strip()
        assert content_type in EXPECTED_TYPES[kind], (url, content_type)
        assert len(asset.content) > 1000, url
        bodies[url] = asset.content
    return page, bodies


async def test_swagger_ui_loads_everything_from_this_server(client: httpx.AsyncClient) -> None:
    page, bodies = await _check_page(client, "/docs")
    scripts = [body for url, body in bodies.items() if url.endswith(".js")]
    stylesheets = [body for url, body in bodies.items() if url.endswith(".css")]
    assert len(scripts) == 1
    assert b"SwaggerUIBundle" in scripts[0]
    assert len(stylesheets) == 1
    assert b".swagger-ui" in stylesheets[0]
    # The page reads our OpenAPI document and shows no badge of the public online validator.
    assert "url: '/openapi.json'" in page
    assert '"validatorUrl": null' in page


async def test_redoc_loads_everything_from_this_server(client: httpx.AsyncClient) -> None:
    page, bodies = await _check_page(client, "/redoc")
    scripts = [body for url, body in bodies.items() if url.endswith(".js")]
    assert len(scripts) == 1
    assert b"Redoc" in scripts[0]
    assert 'data-spec-url="/openapi.json"' in page
    assert "fonts.googleapis" not in page


async def test_authorize_in_swagger_ui_signs_in_with_the_token_url_of_the_document(
    client: httpx.AsyncClient,
) -> None:
    """*Authorize* posts the OAuth2 password form to the token URL the OpenAPI document names,
    from the page's own origin: that URL must be ours and must sign a demo account in."""
    page = (await client.get("/docs")).text
    redirect = re.search(r"oauth2RedirectUrl: window\.location\.origin \+ '([^']+)'", page)
    assert redirect is not None
    redirect_page = await client.get(redirect.group(1))
    assert redirect_page.status_code == 200
    assert "oauth2" in redirect_page.text.lower()

    document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"].values()
    token_urls = [s["flows"]["password"]["tokenUrl"] for s in schemes if s["type"] == "oauth2"]
    assert token_urls == ["/api/v1/auth/token"]
    signed_in = await client.post(
        token_urls[0], data={"username": "courier1", "password": DEMO_PASSWORD}
    )
    assert signed_in.status_code == 200
    token = signed_in.json()["access_token"]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "courier1"


async def test_the_docs_pages_are_not_in_the_api_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith(("/docs", "/redoc"))]


async def test_a_missing_asset_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/assets/no-such-file.js")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_root_lists_where_everything_is(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    index = response.json()
    assert index["name"] == "Suishoupai 随手拍 API"
    assert index["version"] == (await client.get("/openapi.json")).json()["info"]["version"]
    assert index["api"] == "/api/v1"
    expected = {
        "docs": "text/html",
        "redoc": "text/html",
        "openapi": "application/json",
        "healthz": "application/json",
        "readyz": "application/json",
        "metrics": "text/plain",
    }
    for key, content_type in expected.items():
        linked = await client.get(index[key])
        assert linked.status_code == 200, key
        assert linked.headers["content-type"].startswith(content_type), key


@pytest.mark.parametrize(
    "accept", ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"]
)
async def test_a_browser_at_the_root_gets_a_page_of_links(
    client: httpx.AsyncClient, accept: str
) -> None:
    response = await client.get("/", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', response.text)
    assert links == ["/docs", "/redoc", "/openapi.json", "/healthz", "/readyz", "/metrics"]
    assert ABSOLUTE_URL.findall(response.text) == []
