"""``/m/``: the couriers' phone page and its assets, built from ``mobile/`` (plain JavaScript
modules bundled by ``make mobile``) into ``static/`` here.

Like the big screen, the page is a client of the public API and nothing more: it signs in with
a password and uses the documented endpoints (uploads, reports, points, …). The server adds
no data to it.

Phones on a weak signal should fetch the page's files once: their names carry a hash of their
content, so they are cached for a year and never asked again; the page itself is always asked
again (``no-cache``, cheap with its ETag), so a new build reaches every phone at its next
visit."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse

from app.core.pages import BuiltAssets, built_page

STATIC_DIR: Final = Path(__file__).parent / "static"
PAGE_URL: Final = "/m/"
ASSETS_URL: Final = "/m/assets"

# Only this server's files, fetches to this server, and the page's images: its own files, the
# API's photos, the previews it draws from the camera's photos (blob:) and its inline icons
# (data:). No inline script and no inline style: the page sets styles through the CSSOM only.
PAGE_CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; "
    "script-src 'self'; "
    "style-src 'self'; "
    "img-src 'self' data: blob:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)

NOT_BUILT: Final = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>随手拍 — not built</title>
<style>body{font:16px/1.6 sans-serif;margin:1.5em;max-width:40em}</style></head>
<body><h1>页面尚未构建 · The phone page has not been built</h1>
<p>随手拍手机页面需要先用 node 20 和 npm 从 <code>mobile/</code> 构建：
运行 <code>make mobile</code>（或会自动构建的 <code>make run</code>），然后刷新。</p>
<p>Its page is bundled from <code>mobile/</code> with node 20 and npm:
run <code>make mobile</code> (or <code>make run</code>, which builds it), then reload.</p>
</body></html>
"""

router = APIRouter(include_in_schema=False)


@router.get(PAGE_URL, response_model=None)
async def mobile_page() -> FileResponse | HTMLResponse:
    """The page; everything it shows comes from the API, read by its script."""
    return await built_page(STATIC_DIR, PAGE_CONTENT_SECURITY_POLICY, NOT_BUILT)


def install_mobile(app: FastAPI) -> None:
    """The page's route and its assets."""
    app.include_router(router)
    app.mount(
        ASSETS_URL,
        BuiltAssets(directory=STATIC_DIR / "assets", check_dir=False),
        name="mobile-assets",
    )
