"""Fixtures for the big screen (数据大屏) tests: a database with a short demo month, shared by a
module's tests; the app on a real server (``live_server``); and a headless Chromium, driven by
Selenium, that opens ``/dashboard`` on it as a wall screen would (1920×1080, zh-CN).

Selenium's calls block: they run in a thread (``asyncio.to_thread``) while the server answers
the page in the test's event loop."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from app.core.config import Settings
from app.demo.activity import play_month
from app.demo.keys import DEMO_DASHBOARD_KEY
from app.demo.seed import demo_id
from app.main import create_app
from tests.browser import Page, require_chromium_and, start_chromium
from tests.conftest import DEMO_PASSWORD, DatabaseFactory, make_test_settings
from tests.reports.conftest import (
    photo_bytes,
    submit,  # noqa: F401  (the fixture, used by the live tests)
)
from tests.support import ROOT

BUILT_PAGE = ROOT / "app" / "dashboard" / "static" / "index.html"
SCREENSHOTS = ROOT / "screenshots"
SCREEN = {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False}
# Few cases: every panel has something to show, and the month plays in a second or two.
MONTH_CASES = 12
CHINA = ZoneInfo("Asia/Shanghai")
PANELS = ("rates", "funnel", "lights", "categories", "series", "units", "couriers", "map", "ticker")
KPIS = ("total", "open", "overdue_open", "closed", "self_resolved", "closure_rate")

Headers = dict[str, str]

# The demo's big-screen key (杭锦后旗), as the API takes it from a script.
KEY_HEADERS = {"Authorization": f"Bearer {DEMO_DASHBOARD_KEY}"}
BANNER = str(demo_id("region", "杭锦后旗"))
SHANBA = str(demo_id("region", "陕坝镇"))  # supervisor2's township, the banner's seat
TOUDAOQIAO_TOWN = str(demo_id("region", "头道桥镇"))
EAST_STREET = str(demo_id("community", "陕坝镇", "东街社区"))
TOUDAOQIAO = str(demo_id("community", "头道桥镇", "头道桥社区"))

# What the page shows, in one line, for a wait that timed out.
DESCRIBE_PAGE = """
const main = document.querySelector('main#dashboard');
const panels = [...document.querySelectorAll('section[data-panel]')];
const form = document.querySelector('form#sign-in');
return JSON.stringify({
  url: location.href,
  state: main && main.dataset.state,
  notReady: panels.filter(p => p.dataset.ready !== 'true').map(p => p.dataset.panel),
  live: document.querySelector('#live-status')?.dataset.live,
  signIn: form ? form.offsetParent !== null : null,
  message: document.querySelector('#sign-in-message')?.textContent?.trim(),
  kpis: Object.fromEntries([...document.querySelectorAll('[data-kpi]')]
    .map(k => [k.dataset.kpi, k.textContent.trim()])),
});
"""
# The first number an element shows ("1,234 件" → 1234, "70.7%" → 70.7), null if none.
NUMBER_IN = """
const el = document.querySelector(arguments[0]);
if (!el) return null;
const found = el.textContent.replace(/[,\\s]/g, '').match(/-?\\d+(\\.\\d+)?/);
return found ? Number(found[0]) : null;
"""


def this_month() -> str:
    """The start of this month in China time (RFC 3339): the page's default period."""
    now = datetime.now(CHINA)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).isoformat()


async def summary(client: httpx.AsyncClient, headers: Headers, **params: str) -> dict[str, Any]:
    """``GET /api/v1/stats/summary`` for this month (unless ``params`` say otherwise)."""
    answer = await client.get(
        "/api/v1/stats/summary", params={"from": this_month(), **params}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def new_key(client: httpx.AsyncClient, admin: Headers, region_id: str) -> dict[str, Any]:
    """A new dashboard key for a region, as the administrator creates it (with its secret)."""
    answer = await client.post(
        "/api/v1/api-keys", json={"name": "数据大屏 - 测试", "region_id": region_id}, headers=admin
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def revoke_key(client: httpx.AsyncClient, admin: Headers, key_id: str) -> None:
    answer = await client.delete(f"/api/v1/api-keys/{key_id}", headers=admin)
    assert answer.status_code == 200, answer.text


# --- The data: a month of work, once per module --------------------------------------------------


@dataclass(frozen=True)
class Month:
    database_url: str
    folder: Path  # its photos are under folder / "photos"


def month_settings(month: Month) -> Settings:
    """The test settings on the month's database, with a stream that polls every 50 ms."""
    return make_test_settings(
        month.database_url, month.folder, sse_poll_seconds=0.05, sse_keepalive_seconds=0.5
    )


@pytest.fixture(scope="module", autouse=True)
def browser_and_page() -> None:
    """Chromium and its driver are there (else the tests skip), and the page is built (else
    they fail): checked before anything is set up."""
    require_chromium_and(BUILT_PAGE, "dashboard")


@pytest.fixture(scope="module")
async def month(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Month]:
    """A demo database with a short month of work played into it, and two cases filed now (so
    that this month is never empty, whatever its day): one in 东街社区 of 陕坝镇, one in
    头道桥社区 of 头道桥镇. A module's tests share it: each reads what it changes against what
    it saw first."""
    url = await database_factory.clone_template()
    played = Month(url, tmp_path_factory.mktemp("dashboard"))
    settings = month_settings(played)
    await play_month(create_app(settings), settings, MONTH_CASES)
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            await file_today(client, "courier1", EAST_STREET)
            await file_today(client, "courier6", TOUDAOQIAO)
    finally:
        app.state.photo_pool.shutdown()
        await app.state.engine.dispose()
    yield played
    await database_factory.drop(url)


async def file_today(client: httpx.AsyncClient, username: str, community_id: str) -> None:
    """``username`` reports a pile of rubbish at the community's centre."""
    token = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    community = await client.get(f"/api/v1/communities/{community_id}", headers=headers)
    assert community.status_code == 200, community.text
    centre = community.json()["center"]
    filed = await client.post(
        "/api/v1/reports",
        data={
            "category_code": "piled_rubbish",
            "description": "路边堆着建筑垃圾",
            "lat": str(centre["lat"]),
            "lng": str(centre["lng"]),
        },
        files=[("photos", ("rubbish.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"))],
        headers=headers,
    )
    assert filed.status_code == 201, filed.text


@pytest.fixture
def settings(month: Month) -> Settings:
    return month_settings(month)


# --- The browser ---------------------------------------------------------------------------------


def start_dashboard_chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = start_chromium(options, "--window-size=1920,1080")
    # The page's viewport is the wall screen's whole 1920×1080 (a window's frame takes some).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", SCREEN)
    return driver


class Browser(Page):
    """A Chromium window on the test's server, as big as a wall screen."""

    describe_page = DESCRIBE_PAGE
    screenshots = SCREENSHOTS
    screen_pixels = (int(SCREEN["width"]), int(SCREEN["height"]))
    failed_screenshot = "dashboard-{test}-failed"

    async def open(self, path: str) -> None:
        await self._call(self.driver.get, self.base_url + path)

    async def url(self) -> str:
        address: str = await self._call(lambda: self.driver.current_url)
        return address

    async def number(self, selector: str) -> float | None:
        shown: float | None = await self.run(NUMBER_IN, selector)
        return shown

    async def wait_for_number(self, selector: str, expected: float) -> None:
        """Waits until the element shows ``expected`` (figures may count up to it)."""
        script = f"const shown = (() => {{ {NUMBER_IN} }})(); return shown === arguments[1];"
        await self.wait_until(script, selector, expected, what=f"{selector} shows {expected}")

    async def network_log(self) -> list[dict[str, Any]]:
        """The DevTools events of the requests made since the last call (method, params)."""
        entries = await self._call(self.driver.get_log, "performance")
        messages = [json.loads(entry["message"])["message"] for entry in entries]
        return [m for m in messages if str(m.get("method", "")).startswith("Network.")]


@pytest.fixture
async def browser(live_server: str, request: pytest.FixtureRequest) -> AsyncIterator[Browser]:
    """A fresh Chromium on the test's server, closed before the server stops."""
    driver = await asyncio.to_thread(start_dashboard_chromium)
    name = re.sub(r"\W+", "-", request.node.name).strip("-")
    try:
        yield Browser(driver, live_server, name)
    finally:
        await asyncio.to_thread(driver.quit)


# --- What a user does and sees -------------------------------------------------------------------

READY = """
const main = document.querySelector('main#dashboard');
const panels = [...document.querySelectorAll('section[data-panel]')];
const names = panels.map(p => p.dataset.panel);
return main !== null && main.dataset.state === 'ready'
  && arguments[0].every(name => names.includes(name))
  && panels.every(p => p.dataset.ready === 'true');
"""
SIGN_IN_SHOWN = """
const form = document.querySelector('form#sign-in');
const main = document.querySelector('main#dashboard');
return form !== null && form.offsetParent !== null
  && (main === null || main.dataset.state === 'signed-out');
"""


async def wait_ready(browser: Browser) -> None:
    """Waits until the page is ready and every panel has rendered data from the API."""
    await browser.wait_until(READY, list(PANELS), what="every panel is ready")


async def wait_sign_in(browser: Browser) -> None:
    await browser.wait_until(SIGN_IN_SHOWN, what="the sign-in form shows")


async def sign_in(browser: Browser, username: str, password: str) -> None:
    """Types the account into the page's sign-in form and presses its button."""
    await wait_sign_in(browser)

    def type_in() -> None:
        form = browser.driver.find_element(By.CSS_SELECTOR, "form#sign-in")
        form.find_element(By.NAME, "username").send_keys(username)
        form.find_element(By.NAME, "password").send_keys(password)
        form.find_element(By.CSS_SELECTOR, "button[type=submit], button:not([type])").click()

    await asyncio.to_thread(type_in)


async def choose(browser: Browser, select: str, value: str | None = None) -> str:
    """Picks an option of a filter as a user does (another one than the current when
    ``value`` is None) and answers its value."""

    def pick() -> str:
        menu = Select(browser.driver.find_element(By.CSS_SELECTOR, select))
        current = menu.first_selected_option.get_attribute("value")
        if value is None:
            others = [o.get_attribute("value") for o in menu.options]
            chosen = next(v for v in others if v != current)
        else:
            chosen = value
        menu.select_by_value(str(chosen))
        return str(chosen)

    chosen: str = await asyncio.to_thread(pick)
    return chosen


async def choose_and_wait(browser: Browser, select: str, value: str | None = None) -> str:
    """Picks a filter's option (see ``choose``) and waits until the page has shown the
    figures of the new choice."""
    before = await browser.run("return window.dashboardState.lastUpdated;")
    chosen = await choose(browser, select, value)
    await browser.wait_until(
        "return window.dashboardState.lastUpdated !== arguments[0];",
        before,
        what=f"the page shows the figures of {select} = {chosen}",
    )
    await wait_ready(browser)
    return chosen


async def options_of(browser: Browser, select: str) -> list[tuple[str, str]]:
    """A filter's options: (value, text)."""
    options: list[list[str]] = await browser.run(
        "return [...document.querySelectorAll(arguments[0] + ' option')]"
        ".map(o => [o.value, o.textContent.trim()]);",
        select,
    )
    return [(value, text) for value, text in options]
