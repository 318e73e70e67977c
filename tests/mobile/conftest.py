"""Fixtures for the phone page (随手拍 H5) tests: the app on a real server (``live_server``) and
a headless Chromium, driven by Selenium, that opens ``/m/`` as a courier's phone would: a
360×640 touch screen with a phone's user agent, in Chinese and China time, its position set
by the test (inside 东街社区 unless the test says otherwise).

Selenium's calls block: they run in a thread (``asyncio.to_thread``) while the server answers
the page in the test's event loop."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from selenium import webdriver
from selenium.webdriver.common.by import By

from app.core.config import Settings
from app.main import create_app
from tests.browser import Page, require_chromium_and, start_chromium
from tests.conftest import DEMO_PASSWORD, LoginFn
from tests.mobile.gate import Gate, GatedAnswers
from tests.reports.conftest import COMMUNITY_1_POINT, PHOTOS, photo_bytes
from tests.support import ROOT

BUILT_PAGE = ROOT / "app" / "mobile" / "static" / "index.html"
SCREENSHOTS = ROOT / "screenshots" / "mobile"
WIDTH, HEIGHT, PIXEL_RATIO = 360, 640, 2
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
)

# A 12-megapixel phone photo with its GPS position and time zone in EXIF (Helsinki, +03:00),
# and a photo stored sideways with an EXIF orientation (the page must send it upright).
GPS_PHOTO = PHOTOS / "HMD_Nokia_8.3_5G.jpg"
SIDEWAYS_PHOTO = PHOTOS / "portrait_6.jpg"

# What the page shows, in one line, for a wait that timed out.
DESCRIBE_PAGE = """
const draft = Object.keys(localStorage).filter(k => k.startsWith('ssp.m.draft.'))
  .map(k => JSON.parse(localStorage.getItem(k)));
return JSON.stringify({
  url: location.href,
  view: document.querySelector('#app')?.dataset.view,
  online: navigator.onLine,
  banner: document.querySelector('#banner')?.textContent,
  photos: [...document.querySelectorAll('#photos li.photo')].map(li => li.dataset.state),
  status: document.querySelector('#submit-status')?.textContent,
  signIn: document.querySelector('#sign-in-message')?.textContent,
  draft: draft.map(d => d && {photos: d.photos.map(p => [p.state, p.error, p.attempts]),
    submitting: d.submitting, error: d.error}),
});
"""


@pytest.fixture(scope="module", autouse=True)
def browser_and_page() -> None:
    """Chromium and its driver are there (else the tests skip), and the page is built (else
    they fail): checked before anything is set up."""
    require_chromium_and(BUILT_PAGE, "mobile")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The test's app behind a gate (open unless the test holds it)."""
    application = create_app(settings)
    application.state.gate = Gate()
    application.add_middleware(GatedAnswers, gate=application.state.gate)
    yield application
    application.state.photo_pool.shutdown()
    await application.state.engine.dispose()


@pytest.fixture
def gate(app: FastAPI, live_server: str) -> Iterator[Gate]:
    """The gate; opened before the server stops (which waits for the requests it holds)."""
    held: Gate = app.state.gate
    yield held
    held.release_all()


def start_phone_chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.add_experimental_option(
        "mobileEmulation",
        {
            "deviceMetrics": {"width": WIDTH, "height": HEIGHT, "pixelRatio": PIXEL_RATIO},
            "userAgent": PHONE_AGENT,
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = start_chromium(options)
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Shanghai"})
    driver.execute_cdp_cmd("Network.enable", {})
    return driver


class Phone(Page):
    """A Chromium phone on the test's server."""

    describe_page = DESCRIBE_PAGE
    screenshots = SCREENSHOTS
    screen_pixels = (WIDTH * PIXEL_RATIO, HEIGHT * PIXEL_RATIO)

    async def open(self, path: str = "/m/") -> None:
        await self._call(self.driver.get, self.base_url + path)

    async def reload(self) -> None:
        await self._call(self.driver.refresh)

    async def place_at(self, lat: float, lng: float, accuracy: float = 15) -> None:
        """The phone's position (and the page's permission to read it)."""
        await self.cdp(
            "Browser.grantPermissions",
            {"permissions": ["geolocation"], "origin": self.base_url},
        )
        await self.cdp(
            "Emulation.setGeolocationOverride",
            {"latitude": lat, "longitude": lng, "accuracy": accuracy},
        )

    async def network(self, *, online: bool) -> None:
        """The phone loses its signal (``online=False``) or gets it back: a weak one (a little
        latency), under which Chromium follows every request, so that those in flight fail
        when the signal goes, as on a phone."""
        await self.cdp(
            "Network.emulateNetworkConditions",
            {
                "offline": not online,
                "latency": 20,
                "downloadThroughput": 2_000_000,
                "uploadThroughput": 1_000_000,
            },
        )

    async def choose_photos(self, *paths: Path) -> None:
        """The photos taken with the camera (sent to the page's camera input)."""

        def send() -> None:
            field = self.driver.find_element(By.CSS_SELECTOR, "#camera-input")
            field.send_keys("\n".join(str(path) for path in paths))

        await self._call(send)

    async def type_into(self, selector: str, text: str) -> None:
        def type_in() -> None:
            field = self.driver.find_element(By.CSS_SELECTOR, selector)
            field.clear()
            field.send_keys(text)

        await self._call(type_in)

    async def tap(self, selector: str) -> None:
        """Taps an element, as a finger does: it must be shown and not covered."""

        def click() -> None:
            element = self.driver.find_element(By.CSS_SELECTOR, selector)
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            element.click()

        await self._call(click)


@pytest.fixture
async def phone(live_server: str, request: pytest.FixtureRequest) -> AsyncIterator[Phone]:
    """A fresh Chromium phone on the test's server, standing in 东街社区; closed before the
    server stops."""
    driver = await asyncio.to_thread(start_phone_chromium)
    name = re.sub(r"\W+", "-", request.node.name).strip("-")
    try:
        browser = Phone(driver, live_server, name)
        await browser.place_at(*COMMUNITY_1_POINT)
        yield browser
    finally:
        await asyncio.to_thread(driver.quit)


# --- What a courier does and sees ----------------------------------------------------------------

VIEW_IS = "return document.querySelector('#app')?.dataset.view === arguments[0];"
# Every photo of the form is uploaded and shows the server's thumbnail, loaded.
THUMBNAILS_SHOWN = """
const tiles = [...document.querySelectorAll('#photos li.photo')];
return tiles.length === arguments[0] && tiles.every(li => {
  const img = li.querySelector('img');
  return li.dataset.state === 'done' && img.complete && img.naturalWidth > 0
    && img.getAttribute('src').startsWith('/api/v1/photos/');
});
"""


async def sign_in(phone: Phone, username: str) -> None:
    """Types the demo account into the sign-in form and waits for the report form."""
    await phone.wait_until(VIEW_IS, "signin", what="the sign-in form shows")
    await phone.type_into("#sign-in [name=username]", username)
    await phone.type_into("#sign-in [name=password]", DEMO_PASSWORD)
    await phone.tap("#sign-in button[type=submit]")
    await phone.wait_until(VIEW_IS, "report", what="the report form shows after signing in")


async def wait_thumbnails(phone: Phone, count: int) -> None:
    await phone.wait_until(THUMBNAILS_SHOWN, count, what=f"{count} uploaded thumbnails show")


async def pick_category(phone: Phone, code: str) -> None:
    await phone.tap("#category-button")
    await phone.wait_until(
        "return !document.querySelector('#sheet').hidden;", what="the category sheet opens"
    )
    await phone.tap(f'#sheet .pick-group[data-class] [data-code="{code}"]')
    await phone.wait_until(
        "return document.querySelector('#category-button').dataset.code === arguments[0];",
        code,
        what=f"the form shows the category {code}",
    )


async def wait_located(phone: Phone) -> None:
    """The page has the phone's position and names its community."""
    await phone.wait_until(
        "return document.querySelector('#community-name').textContent !== '';",
        what="the page locates the phone in a community",
    )


async def filed_number(phone: Phone) -> str:
    """Waits for the page saying the report was filed; answers its case number."""
    await phone.wait_until(VIEW_IS, "filed", what="the page says the report was filed")
    number: str = await phone.run("return document.querySelector('#filed-number').textContent;")
    assert re.fullmatch(r"SSP-\d{6}-\d{8}-\d{6}", number), number
    return number


async def my_reports(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    """The caller's reports, through the API."""
    answer = await client.get("/api/v1/reports", params={"mine": "true"}, headers=headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def act(
    client: httpx.AsyncClient, login: LoginFn, report_id: str, action: str, **body: Any
) -> dict[str, Any]:
    """staff1 of 东街社区 takes a workflow action on the case."""
    answer = await client.post(
        f"/api/v1/reports/{report_id}/{action}", headers=await login("staff1"), **body
    )
    assert answer.status_code == 200, answer.text
    case: dict[str, Any] = answer.json()
    return case


async def close_case(client: httpx.AsyncClient, login: LoginFn, report_id: str) -> None:
    """staff1 handles an accepted case in-house: starts, resolves it with a photo of the
    result, checks the work and closes it."""
    await act(client, login, report_id, "start", json={})
    after = [("photos", ("after.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"))]
    await act(client, login, report_id, "resolve", data={"note": "已清理"}, files=after)
    closed = await act(client, login, report_id, "verify", data={"passed": "true"})
    assert closed["status"] == "closed", closed
