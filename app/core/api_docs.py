"""The API's own documentation pages, served with no outside network.

FastAPI's default ``/docs`` and ``/redoc`` load Swagger UI and ReDoc from a public CDN: on an
intranet, or a laptop offline, they show a white page. Here the same pages are built (Swagger UI
by FastAPI's own ``get_swagger_ui_html``, ReDoc after its ``get_redoc_html``) with every script,
stylesheet and icon taken from the ``fastapi-offline`` package (installed as a dependency, so
the assets are versioned with the rest of the code) and served under ``/docs/assets/``. ``GET /``
is a small index of what the server offers. Each page carries a strict Content Security Policy
(app/core/security_headers.py)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from app.core.security_headers import secured_html

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/docs/assets"
ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
SWAGGER_JS, SWAGGER_CSS = "swagger-ui-bundle.js", "swagger-ui.css"
REDOC_JS, FAVICON = "redoc.standalone.js", "favicon.png"


def _root(request: Request) -> str:
    """The prefix a proxy serves the app under (``--root-path``), so links work behind it."""
    return str(request.scope.get("root_path") or "").rstrip("/")


def index(app: FastAPI, root: str) -> dict[str, Any]:
    """What ``GET /`` lists: the service, and where its documentation and health checks are."""
    return {
        "name": app.title,
        "version": app.version,
        "api": f"{root}/api/v1",
        "docs": f"{root}{DOCS_URL}",
        "redoc": f"{root}{REDOC_URL}",
        "openapi": f"{root}{app.openapi_url}",
        "healthz": f"{root}/healthz",
        "readyz": f"{root}/readyz",
        "metrics": f"{root}/metrics",
    }


def _index_page(entries: dict[str, Any]) -> str:
    labels = {
        "docs": "API documentation (Swagger UI: try the endpoints; Authorize signs you in)",
        "redoc": "API reference (ReDoc)",
        "openapi": "OpenAPI document",
        "healthz": "Liveness",
        "readyz": "Readiness (database reachable and migrated)",
        "metrics": "Prometheus metrics",
    }
    items = "\n".join(
        f'<li><a href="{html.escape(entries[key])}">{html.escape(entries[key])}</a>'
        f" — {html.escape(label)}</li>"
        for key, label in labels.items()
    )
    title = html.escape(f"{entries['name']} {entries['version']}")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{title}</title></head>\n"
        f"<body>\n<h1>{title}</h1>\n"
        f"<p>The HTTP API is under <code>{html.escape(entries['api'])}</code>.</p>\n"
        f"<ul>\n{items}\n</ul>\n</body>\n</html>\n"
    )


def _redoc_page(title: str, openapi_url: str, redoc_js_url: str, favicon_url: str) -> str:
    """FastAPI's ReDoc page, but started by a script rather than a ``<redoc>`` element: ReDoc
    makes its styles as it renders and needs the page's nonce for them (see
    app/core/security_headers.py), which a browser hides from an element's attributes and shows
    only to the running script."""
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<link rel="shortcut icon" href="{html.escape(favicon_url)}">\n'
        "<style>body { margin: 0; padding: 0; }</style>\n</head>\n<body>\n"
        "<noscript>ReDoc requires JavaScript to show the documentation.</noscript>\n"
        f'<div id="redoc" data-spec-url="{html.escape(openapi_url)}"></div>\n'
        f'<script src="{html.escape(redoc_js_url)}"></script>\n'
        "<script>\n"
        'var container = document.getElementById("redoc");\n'
        # Native scrollbars: the custom ones' stylesheet is added as the script loads, before
        # it knows the nonce, so the policy refuses it.
        "Redoc.init(container.dataset.specUrl,\n"
        "           {nonce: document.currentScript.nonce, nativeScrollbars: true}, container);\n"
        "</script>\n</body>\n</html>\n"
    )


def _prefers_html(request: Request) -> bool:
    """A browser asks for HTML first; curl and API clients get JSON."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept.split(",")[0]


def install_api_docs(app: FastAPI) -> None:
    """``/docs``, ``/docs/oauth2-redirect``, ``/redoc``, their assets and ``/``. The app must
    be made with ``docs_url=None, redoc_url=None`` so that FastAPI's CDN pages are not added."""
    assert app.docs_url is None, "FastAPI would add its CDN page"
    assert app.redoc_url is None, "FastAPI would add its CDN page"
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    # The pages read the app from the request, never from a closure: FastAPI keeps endpoint
    # functions in a process-wide cache, and a closure over the app would keep every app alive.

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        page = get_swagger_ui_html(
            openapi_url=f"{root}{request.app.openapi_url}",
            title=f"{request.app.title} — Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/{SWAGGER_JS}",
            swagger_css_url=f"{root}{ASSETS_URL}/{SWAGGER_CSS}",
            swagger_favicon_url=f"{root}{ASSETS_URL}/{FAVICON}",
            # The password flow of *Authorize* posts to the token URL of the OpenAPI document;
            # the redirect page is only for flows that leave the page, kept for completeness.
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
            init_oauth=request.app.swagger_ui_init_oauth,
            # No badge from the public online validator: the page must not reach outside.
            swagger_ui_parameters={
                "validatorUrl": None,
                **(request.app.swagger_ui_parameters or {}),
            },
        )
        return secured_html(page)

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return secured_html(get_swagger_ui_oauth2_redirect_html())

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        page = _redoc_page(
            title=f"{request.app.title} — ReDoc",
            openapi_url=f"{root}{request.app.openapi_url}",
            redoc_js_url=f"{root}{ASSETS_URL}/{REDOC_JS}",
            favicon_url=f"{root}{ASSETS_URL}/{FAVICON}",
        )
        return secured_html(HTMLResponse(page))

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        entries = index(request.app, _root(request))
        if _prefers_html(request):
            return secured_html(HTMLResponse(_index_page(entries)))
        return JSONResponse(entries)
