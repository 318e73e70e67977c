"""The phone page (/m/) as a courier uses it: sign in, photograph a hazard, file the report,
follow it; on a signal that comes and goes; with a draft that outlives the page."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import LoginFn
from tests.mobile.conftest import (
    GPS_PHOTO,
    SIDEWAYS_PHOTO,
    VIEW_IS,
    Phone,
    act,
    close_case,
    filed_number,
    my_reports,
    pick_category,
    sign_in,
    wait_located,
    wait_thumbnails,
)
from tests.mobile.gate import FILINGS, UPLOADS, Gate
from tests.reports.conftest import PHOTOS

DESCRIPTION = "东街路口堆了很多建筑垃圾，占了半条路"
TILE_STATES = (
    "return [...document.querySelectorAll('#photos li.photo')].map(li => li.dataset.state);"
)
# The form shows `arguments[1]` photos, every one in state `arguments[0]`.
TILES_ARE = """
const states = [...document.querySelectorAll('#photos li.photo')].map(li => li.dataset.state);
return states.length === arguments[1] && states.every(state => state === arguments[0]);
"""
WAITS_FOR_NETWORK = (
    "return document.querySelector('#submit-status').textContent.includes('联网后自动提交');"
)
OFFLINE_DESCRIPTION = "网络断开时上报的垃圾堆"
DRAFT_KEY = "return JSON.parse(localStorage.getItem('ssp.m.draft.courier1')).key;"


async def the_report(client: httpx.AsyncClient, login: LoginFn, number: str) -> dict[str, Any]:
    """courier1's report of that case number, as the API answers it."""
    [report] = [
        r for r in await my_reports(client, await login("courier1")) if r["number"] == number
    ]
    return report


async def file_with_two_photos(phone: Phone) -> str:
    """courier1 signs in, photographs a pile of rubbish twice and files it; answers its number."""
    await phone.open()
    await phone.screenshot("sign-in")
    await sign_in(phone, "courier1")
    await wait_located(phone)
    community = await phone.run("return document.querySelector('#community-name').textContent;")
    assert community == "东街社区"
    await phone.choose_photos(GPS_PHOTO, SIDEWAYS_PHOTO)
    await wait_thumbnails(phone, 2)
    await pick_category(phone, "piled_rubbish")
    await phone.type_into("#description", DESCRIPTION)
    await phone.type_into("#address", "东街与车站路交叉口")
    await phone.run("window.scrollTo(0, 0);")
    await phone.screenshot("report-form")
    await phone.tap("#submit")
    number = await filed_number(phone)
    await phone.screenshot("filed")
    return number


def check_filed(report: dict[str, Any]) -> None:
    """Filed as written, where the phone stood, with the photos' EXIF facts, upright."""
    assert report["description"] == DESCRIPTION
    assert report["address"] == "东街与车站路交叉口"
    assert report["category"]["code"] == "piled_rubbish"
    assert report["community"]["name"] == "东街社区"
    assert report["submitted_location"]["coord_system"] == "wgs84"
    first, second = report["photos"]
    # The photo sent was made smaller on the phone and has no EXIF: these came as fields.
    assert max(first["width"], first["height"]) <= 2048
    assert first["exif_location"] is not None
    assert abs(first["exif_location"]["lat"] - 60.1467056) < 1e-5
    assert abs(first["exif_location"]["lng"] - 24.9067722) < 1e-5
    assert first["exif_taken_at"].startswith("2022-08-14T11:12:31")
    # Stored sideways with an EXIF orientation: sent upright.
    assert second["height"] > second["width"]


async def follow_the_case(phone: Phone, number: str) -> None:
    """我的上报 lists the case with its thumbnail; a tap shows its timeline."""
    await phone.tap('#tabs a[data-tab="mine"]')
    case = f'a.case[data-number="{number}"]'
    await phone.wait_until(
        f"const img = document.querySelector('{case} img');"
        "return img !== null && img.complete && img.naturalWidth > 0;",
        what="我的上报 lists the report with its thumbnail",
    )
    status = await phone.run(f"return document.querySelector('{case} .status-chip').textContent;")
    assert status == "已立案"
    await phone.screenshot("my-reports")
    await phone.tap(case)
    await phone.wait_until(
        "return document.querySelectorAll('#timeline li.event').length === 2;",
        what="the case's timeline shows its filing and its acceptance",
    )
    assert number in await phone.run("return document.querySelector('#case-number').textContent;")
    await phone.screenshot("timeline")


async def rate_the_closed_case(phone: Phone) -> None:
    """The case, closed meanwhile, asks for a rating; the courier gives one."""
    await phone.reload()
    await phone.wait_until(
        "return document.querySelector('#rate') !== null;", what="the closed case asks for a rating"
    )
    await phone.tap('#rate [data-satisfaction="satisfied"]')
    await phone.type_into("#rate-comment", "处理得很快")
    await phone.tap("#rate button.primary")
    await phone.wait_until(
        "return document.querySelector('#rate') === null"
        " && document.querySelector('#case-body').textContent.includes('满意：处理得很快');",
        what="the page shows the rating given",
    )
    await phone.screenshot("rated")


async def test_a_courier_files_a_report_with_two_photos_and_follows_it(
    phone: Phone, client: httpx.AsyncClient, login: LoginFn
) -> None:
    """Two photos taken, uploaded (their thumbnails shown), a category and a description: the
    report is filed; 我的上报 shows it and its timeline, the closed case is rated, and 我的积分
    shows the points it earned and the company's leaderboard."""
    number = await file_with_two_photos(phone)
    report = await the_report(client, login, number)
    check_filed(report)
    await act(client, login, report["id"], "accept", json={})
    await follow_the_case(phone, number)
    await close_case(client, login, report["id"])
    await rate_the_closed_case(phone)
    rated = await the_report(client, login, number)
    assert rated["rating"]["satisfaction"] == "satisfied"
    assert rated["rating"]["comment"] == "处理得很快"

    await phone.tap('#tabs a[data-tab="points"]')
    await phone.wait_until(
        "return document.querySelector('#leaderboard li.rank[data-me=\"true\"]') !== null;",
        what="the points show, and the courier in the company's leaderboard",
    )
    points = await client.get("/api/v1/points/me", headers=await login("courier1"))
    balance = points.json()["balance"]
    assert balance > 0
    shown = await phone.run("return document.querySelector('#points-balance').textContent;")
    assert shown == str(balance)
    await phone.screenshot("points")

    await phone.tap("#sign-out")
    await phone.wait_until(VIEW_IS, "signin", what="the sign-in form shows after signing out")
    assert await phone.run("return localStorage.getItem('ssp.m.session');") is None
    assert await phone.console_errors() == []


async def photos_and_filing_wait_offline(phone: Phone, gate: Gate) -> None:
    """The signal goes while both photos are on their way (uploaded, their answers held); the
    courier files anyway."""
    await phone.open()
    await sign_in(phone, "courier1")
    await wait_located(phone)
    await phone.network(online=True)
    gate.hold(UPLOADS)
    await phone.choose_photos(GPS_PHOTO, SIDEWAYS_PHOTO)
    await phone.wait_until(TILES_ARE, "uploading", 2, what="both photos are on their way")
    await phone.network(online=False)
    await phone.wait_until(TILES_ARE, "waiting", 2, what="the photos wait for the network")
    await pick_category(phone, "piled_rubbish")
    await phone.type_into("#description", OFFLINE_DESCRIPTION)
    await phone.tap("#submit")
    await phone.wait_until(
        WAITS_FOR_NETWORK, what="the page says it files once the network is back"
    )
    banner = await phone.run("return document.querySelector('#banner').textContent;")
    assert "2 张照片待上传" in banner
    assert "1 份上报待提交" in banner
    await phone.run("window.scrollTo(0, 0);")
    await phone.screenshot("offline-pending")


async def filed_reports(client: httpx.AsyncClient, login: LoginFn) -> list[dict[str, Any]]:
    mine = await my_reports(client, await login("courier1"))
    return [r for r in mine if r["description"] == OFFLINE_DESCRIPTION]


async def test_uploads_and_the_report_wait_for_the_network_and_are_sent_once(
    phone: Phone, client: httpx.AsyncClient, login: LoginFn, gate: Gate
) -> None:
    """The photos reach the server but their answers do not: offline, they and the report
    wait on the phone. Back online, the photos are sent again (answered with the same uploads)
    and the report is sent; the signal goes again before its answer comes, although the server
    filed it. Sent again with its key, it is answered with the same case: the report is filed
    exactly once, with its two photos."""
    await photos_and_filing_wait_offline(phone, gate)

    gate.hold(FILINGS)
    gate.release(UPLOADS)
    await phone.network(online=True)
    await wait_thumbnails(phone, 2)
    for _ in range(100):  # filed by the server, the answer held back
        if await filed_reports(client, login):
            break
        await asyncio.sleep(0.1)
    [filed] = await filed_reports(client, login)
    await phone.network(online=False)
    await phone.wait_until(WAITS_FOR_NETWORK, what="the page waits to file again")
    gate.release(FILINGS)

    await phone.network(online=True)
    assert await filed_number(phone) == filed["number"]
    await asyncio.sleep(1)  # time for a second filing, were there one
    assert [r["number"] for r in await filed_reports(client, login)] == [filed["number"]]
    assert len(filed["photos"]) == 2


async def test_a_draft_outlives_the_page_until_its_photos_expire(phone: Phone) -> None:
    """What was written and uploaded is there again after the page was closed; photos whose
    uploads have expired are marked, and the report is not filed with them."""
    await phone.open()
    await sign_in(phone, "courier1")
    await wait_located(phone)
    # A HEIC photo, which Chromium cannot decode: sent as it is, the server converts it.
    await phone.choose_photos(PHOTOS / "iphone_13_pro_max.HEIC")
    await wait_thumbnails(phone, 1)
    await pick_category(phone, "chaotic_parking")
    await phone.type_into("#description", "小区门口乱停车")
    await phone.type_into("#address", "东街 12 号")
    key = await phone.run(DRAFT_KEY)

    await phone.reload()
    await phone.wait_until(VIEW_IS, "report", what="the report form shows again")
    await wait_thumbnails(phone, 1)
    await wait_located(phone)
    shown = await phone.run(
        "return [document.querySelector('#category-button').dataset.code,"
        " document.querySelector('#description').value,"
        " document.querySelector('#address').value];"
    )
    assert shown == ["chaotic_parking", "小区门口乱停车", "东街 12 号"]
    # The same report: sent after the reload, it is not filed twice.
    assert await phone.run(DRAFT_KEY) == key

    # A day later: the server has let the upload go.
    await phone.run(
        "const name = 'ssp.m.draft.courier1';"
        "const draft = JSON.parse(localStorage.getItem(name));"
        "draft.photos[0].upload.expires_at = new Date(Date.now() - 3600e3).toISOString();"
        "localStorage.setItem(name, JSON.stringify(draft));"
    )
    await phone.reload()
    await phone.wait_until(VIEW_IS, "report", what="the report form shows again")
    assert await phone.run(TILE_STATES) == ["expired"]
    await phone.tap("#submit")
    await phone.wait_until(
        "return document.querySelector('#submit-status').textContent.includes('重新拍摄');",
        what="the page asks for the photos again",
    )
    assert await phone.run("return document.querySelector('#app').dataset.view;") == "report"
