"""How ``/m/`` is served: the built page with a policy that lets it load only this server's
files and talk only to this server, its hashed files cached for good, and a clear word when it
has not been built. (What the page does is tested in a real browser: tests/mobile/.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.core.config import Settings
from app.main import create_app
from app.mobile import router as mobile

SCRIPT = "app-3F9A1C2B.js"


@pytest.fixture
async def built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app serving a small build of the page (made before the app is)."""
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text(
        f'<!doctype html><html lang="zh-CN"><script type="module" src="/m/assets/{SCRIPT}">'
        "</script></html>"
    )
    (static / "assets" / SCRIPT).write_text("console.log('随手拍');")
    (static / "assets" / "notes.txt").write_text("not hashed")
    monkeypatch.setattr(mobile, "STATIC_DIR", static)
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            yield client
    finally:
        app.state.photo_pool.shutdown()
        await app.state.engine.dispose()


async def test_the_page_is_served_with_its_own_policy(built: httpx.AsyncClient) -> None:
    page = await built.get("/m/")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert f"/m/assets/{SCRIPT}" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "img-src 'self' data: blob:;" in policy
    assert "connect-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy
    assert "http" not in policy
    # Always asked again, so that a new build reaches every phone at its next visit.
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["referrer-policy"] == "no-referrer"
    # Without the slash, the page is found too.
    bare = await built.get("/m", follow_redirects=True)
    assert bare.status_code == 200
    assert str(bare.url).endswith("/m/")


async def test_hashed_assets_are_cached_for_good(built: httpx.AsyncClient) -> None:
    script = await built.get(f"/m/assets/{SCRIPT}")
    assert script.status_code == 200
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in script.headers["content-type"]
    again = await built.get(
        f"/m/assets/{SCRIPT}", headers={"If-None-Match": script.headers["etag"]}
    )
    assert again.status_code == 304
    other = await built.get("/m/assets/notes.txt")
    assert other.status_code == 200
    assert other.headers["cache-control"] == "no-cache"
    missing = await built.get("/m/assets/app-00000000.js")
    assert missing.status_code == 404


async def test_an_unbuilt_page_says_how_to_build_it(
    client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mobile, "STATIC_DIR", tmp_path / "nothing")
    page = await client.get("/m/")
    assert page.status_code == 503
    assert "make mobile" in page.text
    assert "尚未构建" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    missing = await client.get("/m/assets/no-such-file.js")
    assert missing.status_code == 404
