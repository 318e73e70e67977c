"""The big screen as its viewers see it: opened with the demo's dashboard key, or signed in
by a supervisor of the banner or of a township, with the figures the API counts for them."""

from __future__ import annotations

import httpx

from app.demo.keys import DEMO_DASHBOARD_KEY
from app.demo.organisation import organisation
from app.demo.seed import demo_id
from tests.conftest import DEMO_PASSWORD, LoginFn
from tests.dashboard.conftest import (
    BANNER,
    KEY_HEADERS,
    PANELS,
    SHANBA,
    TOUDAOQIAO_TOWN,
    Browser,
    options_of,
    sign_in,
    summary,
    wait_ready,
    wait_sign_in,
)

TOTAL = '[data-kpi="total"]'
CITY = str(demo_id("region", "巴彦淖尔市"))


async def test_the_demo_key_opens_the_banners_screen_with_the_apis_figures(
    browser: Browser, client: httpx.AsyncClient
) -> None:
    """Opened with the demo key in the address, every panel fills in, the headline figures are
    this month's of the whole banner, and the key is gone from the address bar."""
    await browser.open(f"/dashboard#key={DEMO_DASHBOARD_KEY}")
    await wait_ready(browser)

    address = await browser.url()
    assert DEMO_DASHBOARD_KEY not in address
    assert "key=" not in address
    expected = await summary(client, KEY_HEADERS)
    assert expected["total"] >= 2  # the month's cases of this month, and the two filed today
    for kpi in ("total", "open", "closed", "overdue_open", "self_resolved"):
        await browser.wait_for_number(f'[data-kpi="{kpi}"]', expected[kpi])
    shown = await browser.run(
        "return [...document.querySelectorAll('section[data-panel]')].map(p => p.dataset.panel);"
    )
    assert sorted(shown) == sorted(PANELS)
    assert await browser.run("return window.dashboardState.summary.total;") == expected["total"]
    await browser.screenshot("dashboard-viewer-key")


async def test_a_banner_supervisor_signs_in_and_sees_the_banner(
    browser: Browser, client: httpx.AsyncClient, login: LoginFn
) -> None:
    """Without a key the page asks for an account; the banner's supervisor signs in there and
    sees the whole banner's figures."""
    await browser.open("/dashboard")
    await wait_sign_in(browser)
    await browser.screenshot("dashboard-sign-in")

    await sign_in(browser, "supervisor", DEMO_PASSWORD)
    await wait_ready(browser)
    expected = await summary(client, await login("supervisor"))
    await browser.wait_for_number('[data-kpi="total"]', expected["total"])
    assert expected["total"] == (await summary(client, KEY_HEADERS))["total"]
    hidden = await browser.run(
        "const form = document.querySelector('form#sign-in');"
        "return form === null || form.offsetParent === null;"
    )
    assert hidden, "the sign-in form still shows once signed in"
    await browser.screenshot("dashboard-supervisor")


def shanba_places() -> set[str]:
    """陕坝镇 and what lies in it (its communities: the township has no smaller regions)."""
    [township] = [t for t in organisation().townships if t.name == "陕坝镇"]
    communities = {str(demo_id("community", "陕坝镇", c.name)) for c in township.communities}
    return {SHANBA, *communities}


async def test_a_township_supervisor_sees_only_its_township(
    browser: Browser, client: httpx.AsyncClient, login: LoginFn
) -> None:
    """陕坝镇's supervisor sees 陕坝镇's figures, not the banner's, and the region filter offers
    only 陕坝镇 and what lies in it."""
    await browser.open("/dashboard")
    await sign_in(browser, "supervisor2", DEMO_PASSWORD)
    await wait_ready(browser)

    township = (await summary(client, await login("supervisor2")))["total"]
    banner = (await summary(client, KEY_HEADERS))["total"]
    assert 0 < township < banner  # a case was filed today in 头道桥镇, outside 陕坝镇
    await browser.wait_for_number(TOTAL, township)

    options = await options_of(browser, "select#filter-region")
    offered = [value for value, _ in options if value]
    assert any(SHANBA in value for value in offered), options
    inside = shanba_places()
    for value in offered:
        assert any(place in value for place in inside), f"{value} is outside 陕坝镇: {options}"
    texts = " ".join(text for _, text in options)
    for elsewhere in ("杭锦后旗", "头道桥镇", "团结镇", "巴彦淖尔市"):
        assert elsewhere not in texts, options
    await browser.screenshot("dashboard-township-supervisor")


async def test_a_region_outside_the_callers_scope_is_not_found(
    browser: Browser, client: httpx.AsyncClient, login: LoginFn
) -> None:
    """Another county, a neighbouring township and the banner above are no business of 陕坝镇's
    supervisor: the statistics answer 404 for them (never an empty screen), and the page does
    not offer them."""
    admin = await login("admin")
    linhe = {"name": "临河区", "code": "150802", "parent_id": CITY}
    county = await client.post("/api/v1/regions", json=linhe, headers=admin)
    assert county.status_code == 201, county.text
    other_county = county.json()["id"]

    township = await login("supervisor2")
    for outside in (other_county, TOUDAOQIAO_TOWN, BANNER):
        answer = await client.get(
            "/api/v1/stats/summary", params={"region_id": outside}, headers=township
        )
        assert answer.status_code == 404, answer.text
    own = await client.get("/api/v1/stats/summary", params={"region_id": SHANBA}, headers=township)
    assert own.status_code == 200, own.text

    await browser.open("/dashboard")
    await sign_in(browser, "supervisor2", DEMO_PASSWORD)
    await wait_ready(browser)
    options = await options_of(browser, "select#filter-region")
    for outside in (other_county, TOUDAOQIAO_TOWN, BANNER):
        assert not any(outside in value for value, _ in options), options
    assert "临河区" not in " ".join(text for _, text in options)
    await browser.screenshot("dashboard-township-scope")
