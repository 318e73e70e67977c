"""The big screen's key: a wrong or revoked one gets the sign-in form, a session whose key is
revoked ends there too, and the key, once exchanged, is never sent again nor kept."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.demo.keys import DEMO_DASHBOARD_KEY
from tests.conftest import LoginFn
from tests.dashboard.conftest import (
    BANNER,
    Browser,
    choose,
    choose_and_wait,
    new_key,
    revoke_key,
    wait_ready,
    wait_sign_in,
)

EXCHANGE = "/api/v1/auth/key-token"
MESSAGE = "return document.querySelector('#sign-in-message')?.textContent.trim() || '';"
CONNECTED = "return document.querySelector('#live-status')?.dataset.live === 'connected';"
STORED = """
const kept = store => Object.keys(store).map(k => k + '=' + store.getItem(k)).join('\\n');
return [kept(sessionStorage), kept(localStorage), document.cookie].join('\\n');
"""


@pytest.mark.parametrize("which", ["wrong", "revoked"])
async def test_a_wrong_or_revoked_key_gets_the_sign_in_form(
    browser: Browser, client: httpx.AsyncClient, login: LoginFn, which: str
) -> None:
    """A key that is not one, or one the administrator revoked, opens no figures: the page
    asks for an account instead and says why."""
    key = "ssp_abcdefgh_wrong"
    if which == "revoked":
        admin = await login("admin")
        created = await new_key(client, admin, BANNER)
        await revoke_key(client, admin, created["id"])
        key = created["key"]
    await browser.open(f"/dashboard#key={key}")
    await wait_sign_in(browser)

    assert await browser.run(MESSAGE), "the sign-in form says nothing about the key"
    assert key not in await browser.url()
    assert await browser.run("return window.dashboardState?.summary ?? null;") is None
    await browser.screenshot(f"dashboard-{which}-key")


async def test_a_session_whose_key_is_revoked_goes_to_the_sign_in_form(
    browser: Browser, client: httpx.AsyncClient, login: LoginFn
) -> None:
    """The screen is open on a key; the administrator revokes it; at its next request (a filter
    changed) the page drops its session and shows the sign-in form."""
    admin = await login("admin")
    created = await new_key(client, admin, BANNER)
    await browser.open(f"/dashboard#key={created['key']}")
    await wait_ready(browser)

    await revoke_key(client, admin, created["id"])
    await choose(browser, "select#filter-period")
    await wait_sign_in(browser)
    assert await browser.run(MESSAGE), "the sign-in form says nothing about the ended session"
    await browser.screenshot("dashboard-session-ended")


def key_sightings(events: list[dict[str, Any]], key: str) -> tuple[list[str], list[str]]:
    """Where the key appears in the requests the page made: (the exchanges that sent it in
    their body, every other place). The address the user opened is not the page's doing."""
    navigation = next(
        e["params"]["requestId"]
        for e in events
        if e["method"] == "Network.requestWillBeSent" and e["params"].get("type") == "Document"
    )
    exchanges: list[str] = []
    elsewhere: list[str] = []
    for event in events:
        params = event["params"]
        if event["method"] == "Network.requestWillBeSent":
            request = params["request"]
            url = request["url"]
            if request.get("method") == "POST" and url.endswith(EXCHANGE):
                if key in request.get("postData", ""):
                    exchanges.append(url)
            elif key in request.get("postData", ""):
                elsewhere.append(f"the body of {url}")
            if params["requestId"] != navigation and key in url:
                elsewhere.append(f"the URL {url}")
            headers = request.get("headers", {})
        elif event["method"] == "Network.requestWillBeSentExtraInfo":
            if params["requestId"] == navigation:
                continue
            url, headers = f"request {params['requestId']}", params.get("headers", {})
        else:
            continue
        elsewhere += [f"the {name} header of {url}" for name, v in headers.items() if key in v]
    return exchanges, elsewhere


@pytest.mark.parametrize("where", ["#", "?"])
async def test_the_key_is_sent_once_and_never_again(browser: Browser, where: str) -> None:
    """Opened with the key in the address (after # or ?), the page sends it once, in the body
    of the exchange for a token; no other request carries it in its URL or a header (a
    Referer included), and the page keeps it nowhere."""
    await browser.open(f"/dashboard{where}key={DEMO_DASHBOARD_KEY}")
    await wait_ready(browser)
    await browser.wait_until(CONNECTED, what="the live stream is connected")
    await choose_and_wait(browser, "select#filter-period")

    events = await browser.network_log()
    exchanges, elsewhere = key_sightings(events, DEMO_DASHBOARD_KEY)
    assert len(exchanges) == 1, exchanges
    assert elsewhere == []
    bearers = {
        value
        for event in events
        if event["method"] == "Network.requestWillBeSent"
        for name, value in event["params"]["request"].get("headers", {}).items()
        if name.lower() == "authorization"
    }
    assert bearers, "no request carried a token"
    assert all(value.startswith("Bearer ") for value in bearers)
    assert DEMO_DASHBOARD_KEY not in await browser.run(STORED)
    assert DEMO_DASHBOARD_KEY not in await browser.url()
    await browser.screenshot(f"dashboard-key-after-{'hash' if where == '#' else 'query'}")
