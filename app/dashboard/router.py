"""``/dashboard``: the big screen's page and its assets, built from ``dashboard/`` (JavaScript,
bundled with its libraries from the npm registry by ``make dashboard``) into ``static/`` here.

The page is a client of the public API like any other: it signs in with a password or
exchanges a dashboard key for a token (``POST /api/v1/auth/key-token``), then reads the
statistics and follows the event stream. The server adds no data to it, so the page cannot
show anything its caller could not read through the API."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse

from app.core.pages import BuiltAssets, built_page

STATIC_DIR: Final = Path(__file__).parent / "static"
PAGE_URL: Final = "/dashboard"
ASSETS_URL: Final = f"{PAGE_URL}/assets"

# Only this server's files, fetches to this server (the API and its event stream) and the
# page's images. Styles may be inline: the charts' tooltips are HTML with style attributes.
PAGE_CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; "
    "script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)

NOT_BUILT: Final = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>数据大屏 — not built</title>
<style>body{font:16px/1.6 sans-serif;margin:3em;max-width:40em}</style></head>
<body><h1>The big screen has not been built</h1>
<p>Its page is bundled from <code>dashboard/</code> with node 20 and npm:
run <code>make dashboard</code> (or <code>make run</code>, which builds it), then reload.</p>
</body></html>
"""

router = APIRouter(include_in_schema=False)


@router.get(PAGE_URL, response_model=None)
async def dashboard_page() -> FileResponse | HTMLResponse:
    """The page. A key in its address (``#key=`` or ``?key=``) is read, removed and exchanged
    by the page's script at once; the server never uses it."""
    return await built_page(STATIC_DIR, PAGE_CONTENT_SECURITY_POLICY, NOT_BUILT)


def install_dashboard(app: FastAPI) -> None:
    """The page's route and its assets."""
    app.include_router(router)
    app.mount(
        ASSETS_URL,
        BuiltAssets(directory=STATIC_DIR / "assets", check_dir=False),
        name="dashboard-assets",
    )
