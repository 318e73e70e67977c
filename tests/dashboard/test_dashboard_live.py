"""The big screen stays live: a case filed or closed elsewhere shows on it without a reload, and
when the API cannot be reached it keeps its figures, says since when, and comes back."""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.demo.keys import DEMO_DASHBOARD_KEY
from tests.conftest import LoginFn
from tests.dashboard.conftest import KEY_HEADERS, KPIS, Browser, choose, summary, wait_ready
from tests.reports.conftest import SubmitFn, photo_bytes

TOTAL = '[data-kpi="total"]'
CLOSED = '[data-kpi="closed"]'
AFTER_PHOTO = ("after.jpg", photo_bytes("DSCN0010.jpg"), "image/jpeg")
CONNECTED = "return document.querySelector('#live-status')?.dataset.live === 'connected';"
IN_TICKER = """
return [...document.querySelectorAll('ol#ticker > li[data-event-id]')]
  .some(li => li.textContent.includes(arguments[0]));
"""
ON_MAP = """
return (window.dashboardState?.mapPoints || [])
  .some(p => p.id === arguments[0] && p.number === arguments[1]);
"""
SAME_DOCUMENT = """
return window.__openedOnce === true
  && performance.getEntriesByType('navigation').length === 1;
"""
STALE = """
const stale = document.querySelector('#stale');
return document.querySelector('main#dashboard').dataset.state === 'stale'
  && stale !== null && stale.offsetParent !== null && stale.textContent.trim();
"""
OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
ONLINE = {**OFFLINE, "offline": False}


async def close_case(client: httpx.AsyncClient, login: LoginFn, report_id: str) -> None:
    """东街社区 handles the case itself: staff1 accepts it and hands it to grid1, who resolves
    it with a photo; staff1 checks the work and closes the case."""
    staff, grid = await login("staff1"), await login("grid1")
    grid_id = (await client.get("/api/v1/me", headers=grid)).json()["id"]
    steps: list[tuple[dict[str, str], str, dict[str, Any]]] = [
        (staff, "accept", {"json": {}}),
        (staff, "start", {"json": {"assignee_id": grid_id}}),
        (grid, "resolve", {"data": {"note": "已清理"}, "files": [("photos", AFTER_PHOTO)]}),
        (staff, "verify", {"data": {"passed": "true"}}),
    ]
    for headers, action, body in steps:
        answer = await client.post(f"/api/v1/reports/{report_id}/{action}", headers=headers, **body)
        assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "closed"


async def test_a_filed_case_and_a_closed_one_show_without_a_reload(
    browser: Browser, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    """With the screen open, a courier's new report raises the total, enters the ticker with
    its number and appears on the map; when the community closes a case, the closed count
    rises: all on the same page, never reloaded."""
    await browser.open(f"/dashboard#key={DEMO_DASHBOARD_KEY}")
    await wait_ready(browser)
    await browser.wait_until(CONNECTED, what="the live stream is connected")
    before = await summary(client, KEY_HEADERS)
    await browser.wait_for_number(TOTAL, before["total"])
    await browser.wait_for_number(CLOSED, before["closed"])
    await browser.run("window.__openedOnce = true;")

    filed = await submit("courier1", category_code="piled_rubbish", description="巷口堆满垃圾")
    assert filed.status_code == 201, filed.text
    report = filed.json()
    await browser.wait_for_number(TOTAL, before["total"] + 1)
    await browser.wait_until(IN_TICKER, report["number"], what="the ticker shows the new case")
    await browser.wait_until(
        ON_MAP, report["id"], report["number"], what="the map shows the new case"
    )

    await close_case(client, login, report["id"])
    await browser.wait_for_number(CLOSED, before["closed"] + 1)
    assert await browser.run(SAME_DOCUMENT), "the page was reloaded"
    await browser.screenshot("dashboard-live")


async def test_the_figures_stay_while_the_api_is_unreachable_and_it_recovers(
    browser: Browser,
) -> None:
    """When the network goes and a filter is changed, the screen keeps its figures and says
    they are stale, since when; when the network is back, it is live again."""
    await browser.open(f"/dashboard#key={DEMO_DASHBOARD_KEY}")
    await wait_ready(browser)
    figures = "return [...document.querySelectorAll('[data-kpi]')].map(k => k.textContent);"
    shown = await browser.run(figures)
    assert len(shown) == len(KPIS), shown
    assert all(text.strip() for text in shown), shown

    await browser.cdp("Network.enable", {})
    await browser.cdp("Network.emulateNetworkConditions", OFFLINE)
    await choose(browser, "select#filter-period")
    since = await browser.wait_until(STALE, what="the page says its figures are stale")
    assert re.search(r"\d{1,2}:\d{2}", since), f"#stale does not say since when: {since!r}"
    assert await browser.run(figures) == shown
    await browser.screenshot("dashboard-stale")

    await browser.cdp("Network.emulateNetworkConditions", ONLINE)
    await wait_ready(browser)
    gone = "const s = document.querySelector('#stale'); return s === null || !s.offsetParent;"
    assert await browser.run(gone), "#stale still shows once the API answers again"
    await browser.screenshot("dashboard-recovered")
