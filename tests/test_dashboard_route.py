"""How ``/dashboard`` is served: the built page with a policy that lets it load only this
server's files and talk only to this server, and a clear word when it has not been built.
(What the page shows is tested in a real browser: tests/dashboard/.)"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.dashboard import router as dashboard


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="zh-CN"><script src="/dashboard/assets/app.js"></script></html>'
    )
    monkeypatch.setattr(dashboard, "STATIC_DIR", tmp_path)
    return tmp_path


async def test_the_page_is_served_with_its_own_policy(
    client: httpx.AsyncClient, built: Path
) -> None:
    page = await client.get("/dashboard", params={"key": "ssp_demowall_anything"})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "/dashboard/assets/app.js" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "connect-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy
    assert "http" not in policy
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["referrer-policy"] == "no-referrer"
    # A slash at the end finds the page too.
    slash = await client.get("/dashboard/", follow_redirects=True)
    assert slash.status_code == 200
    assert str(slash.url).endswith("/dashboard")


async def test_an_unbuilt_page_says_how_to_build_it(
    client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "STATIC_DIR", tmp_path / "nothing")
    page = await client.get("/dashboard")
    assert page.status_code == 503
    assert "make dashboard" in page.text
    missing = await client.get("/dashboard/assets/no-such-file.js")
    assert missing.status_code == 404
