"""What the page tests share (the big screen's, the courier page's): Debian's chromium driven by
Selenium, a page whose every call runs in a thread (the server answers in the test's event
loop meanwhile), waits that say what the page shows when they time out, and screenshots taken
once the page's transitions have ended."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NEED_CHROMIUM = (
    "Debian's chromium and chromium-driver are needed: apt-get install chromium chromium-driver"
)
WAIT_SECONDS = 20
# No transition or finite animation is running (looping ones, a pulse or a spinner, are left
# alone).
SETTLED = """
return document.getAnimations().every(a => a.playState !== 'running'
  || a.effect === null || a.effect.getComputedTiming().endTime === Infinity);
"""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def require_chromium_and(built_page: Path, make_target: str) -> None:
    """Chromium and its driver are there (else the tests skip), and the page is built (else
    they fail)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(NEED_CHROMIUM)
    if not built_page.exists():
        pytest.fail(f"the page is not built: make {make_target}")


def start_chromium(options: webdriver.ChromeOptions, *arguments: str) -> webdriver.Chrome:
    """Headless Debian chromium in Chinese, with the page's ``arguments``."""
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--lang=zh-CN"):
        options.add_argument(argument)
    for argument in arguments:
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


class Page:
    """A Chromium page on the test's server. Subclasses say what a failed wait describes, where
    screenshots go and their size."""

    describe_page: ClassVar[str] = "return location.href;"
    screenshots: ClassVar[Path]
    screen_pixels: ClassVar[tuple[int, int]]
    failed_screenshot: ClassVar[str] = "{test}-failed"

    def __init__(self, driver: webdriver.Chrome, base_url: str, test_name: str) -> None:
        self.driver, self.base_url, self.test_name = driver, base_url, test_name

    async def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(function, *args)

    async def run(self, script: str, *args: Any) -> Any:
        """Runs ``script`` (a function body: ``return …``) in the page."""
        return await self._call(self.driver.execute_script, script, *args)

    async def cdp(self, command: str, params: dict[str, Any]) -> Any:
        return await self._call(self.driver.execute_cdp_cmd, command, params)

    async def wait_until(self, script: str, *args: Any, what: str) -> Any:
        """Polls ``script`` until it answers something truthy (at most WAIT_SECONDS); on
        timeout, fails with ``what`` and what the page shows, and keeps a screenshot."""

        def wait() -> Any:
            return WebDriverWait(self.driver, WAIT_SECONDS, poll_frequency=0.1).until(
                lambda driver: driver.execute_script(script, *args)
            )

        try:
            return await self._call(wait)
        except TimeoutException:
            shown = await self.run(self.describe_page)
            errors = await self.console_errors()
            await self.screenshot(self.failed_screenshot.format(test=self.test_name))
            pytest.fail(f"{what} within {WAIT_SECONDS} s; the page shows {shown}; {errors}")

    async def console_errors(self) -> list[str]:
        """The errors the page's scripts logged since the last call."""
        try:
            entries: list[dict[str, Any]] = await self._call(self.driver.get_log, "browser")
        except WebDriverException:
            return []
        return [entry["message"] for entry in entries if entry.get("level") == "SEVERE"]

    async def screenshot(self, name: str) -> Path:
        """The page as it shows, in ``<screenshots>/<name>.png``, once its transitions have
        ended (for at most a few seconds: looping ones never do)."""
        self.screenshots.mkdir(parents=True, exist_ok=True)

        def settle() -> None:
            with contextlib.suppress(TimeoutException):
                WebDriverWait(self.driver, 3, poll_frequency=0.1).until(
                    lambda driver: driver.execute_script(SETTLED)
                )

        await self._call(settle)
        png: bytes = await self._call(self.driver.get_screenshot_as_png)
        assert png[:8] == PNG_SIGNATURE
        size = (int.from_bytes(png[16:20]), int.from_bytes(png[20:24]))
        assert size == self.screen_pixels, f"a screenshot of {size}"
        path = self.screenshots / f"{name}.png"
        path.write_bytes(png)
        return path
