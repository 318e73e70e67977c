"""The phone page (/m/) beyond reporting, on a served copy of the demo: 积分商城 (courier1 buys
with points, shows the code at the shop, on a weak signal too) and 微心愿 (courier1 claims a
resident's wish, calls, fulfils it with a photo and a note, gives one up, reads the thanks)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from selenium.webdriver.common.by import By
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import demo_id
from app.models import PointsEntry
from app.points.schemas import PointsRule
from tests.conftest import LoginFn
from tests.mobile.conftest import GPS_PHOTO, VIEW_IS, Phone, sign_in
from tests.mobile.gate import Gate
from tests.points.conftest import EAST
from tests.reports.conftest import photo_bytes

API = "/api/v1"
REDEMPTIONS = ("POST", "/api/v1/redemptions")
SHELF = {"环保购物袋", "洗衣液 2kg", "理发券", "电动车充电卡 50 元"}
CODE = re.compile(r"[2-9A-HJ-NP-Z]{8}")
GIVEN_POINTS = 100
FULFIL_NOTE = "已陪同老人到旗医院复查，平安送到家"
COUNT_IS = "return document.querySelectorAll(arguments[0]).length === arguments[1];"
EXISTS = "return document.querySelector(arguments[0]) !== null;"
TEXT_OF = "return document.querySelector(arguments[0])?.textContent ?? null;"
TEXT_IS = "return document.querySelector(arguments[0])?.textContent === arguments[1];"
NAMES = "return [...document.querySelectorAll('#store-body .reward')].map(r => r.dataset.name);"
DISABLED = "return document.querySelector(arguments[0]).disabled;"
# What sticks out of the 360 px screen, or has text cut off inside its box.
OVERFLOWING = """return [...document.querySelectorAll('#app *')].filter(el => {
  const box = el.getBoundingClientRect(), cut = el.scrollWidth > el.clientWidth + 1;
  return box.width > 0 && (box.left < -1 || box.right > innerWidth + 1
    || (cut && getComputedStyle(el).overflowX !== 'visible'));
}).map(el => el.outerHTML.slice(0, 120));"""
KEPT_PURCHASES = "return localStorage.getItem('ssp.m.purchases.courier1');"


def reward(name: str) -> str:
    return f'.reward[data-name="{name}"]'


def wish_card(wish_id: str) -> str:
    return f'.wish[data-id="{wish_id}"]'


async def appears(phone: Phone, selector: str, what: str) -> None:
    await phone.wait_until(EXISTS, selector, what=what)


async def snap(phone: Phone, name: str) -> None:
    """The screen, in screenshots/mobile/<name>.png; nothing on it overflows."""
    assert await phone.run(OVERFLOWING) == []
    await phone.screenshot(name)


def shows(text: str, *parts: str) -> None:
    missing = [part for part in parts if part not in text]
    assert not missing, f"{missing} not in {text!r}"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def grant(session: AsyncSession, username: str, points: int) -> None:
    """Points earned in 东街社区 (an accepted report's award), as a ledger row."""
    entry = PointsEntry(user_id=demo_id("user", username), points=points, points_before_cap=points)
    entry.rule, entry.community_id, entry.created_at = PointsRule.accepted, EAST, datetime.now(UTC)
    session.add(entry)
    await session.commit()


async def balance(client: httpx.AsyncClient, login: LoginFn) -> int:
    points = ok(await client.get(f"{API}/points/me", headers=await login("courier1")))
    return int(points["balance"])


async def upload(client: httpx.AsyncClient, headers: dict[str, str], name: str) -> str:
    files = {"file": (name, photo_bytes(name), "image/jpeg")}
    made = ok(await client.post(f"{API}/uploads", headers=headers, files=files), 201)
    return str(made["id"])


async def reward_id(client: httpx.AsyncClient, login: LoginFn, name: str) -> str:
    items = ok(await client.get(f"{API}/rewards", headers=await login("staff1")))["items"]
    [found] = [item["id"] for item in items if item["name"] == name]
    return str(found)


async def picture_for(client: httpx.AsyncClient, login: LoginFn, name: str) -> None:
    """staff1 gives an item of 东街社区's shelf a picture."""
    staff = await login("staff1")
    photo = await upload(client, staff, "Canon_40D.jpg")
    item = await reward_id(client, login, name)
    ok(await client.patch(f"{API}/rewards/{item}", json={"photo_id": photo}, headers=staff))


async def my_redemptions(client: httpx.AsyncClient, login: LoginFn) -> list[dict[str, Any]]:
    answer = await client.get(f"{API}/redemptions?mine=true", headers=await login("courier1"))
    items: list[dict[str, Any]] = ok(answer)["items"]
    return items


async def open_store(phone: Phone) -> None:
    """courier1 signs in and goes from 我的积分 to 积分商城: the four items of the shelves show."""
    await phone.open()
    await sign_in(phone, "courier1")
    await phone.tap('#tabs a[data-tab="points"]')
    await appears(phone, "#store-link", "我的积分 leads to 积分商城")
    await phone.tap("#store-link")
    await phone.wait_until(COUNT_IS, "#store-body .reward", 4, what="the shelves' four items")


async def confirm_purchase(phone: Phone, name: str) -> None:
    await phone.tap(f"{reward(name)} button.redeem")
    await appears(phone, "#redeem-confirm", "the purchase is asked")


async def shown_code(phone: Phone) -> str:
    """Waits for the purchase's code; answers it."""
    await appears(phone, "#redemption-code", "the code shows")
    code: str = await phone.run(TEXT_OF, "#redemption-code")
    assert CODE.fullmatch(code), code
    assert "到店出示兑换码" in await phone.run(TEXT_OF, "#sheet")
    return code


async def check_the_shelves(phone: Phone, expected_balance: int) -> None:
    """The balance on top; what it cannot buy has its button disabled."""
    assert await phone.run(TEXT_OF, "#store-balance") == str(expected_balance)
    assert set(await phone.run(NAMES)) == SHELF
    shut = {name for name in SHELF if await phone.run(DISABLED, f"{reward(name)} button.redeem")}
    assert shut == {"洗衣液 2kg", "电动车充电卡 50 元"}  # 120 and 200 points: beyond the balance
    assert "积分不足" in await phone.run(TEXT_OF, reward("洗衣液 2kg"))
    bag = await phone.run(TEXT_OF, reward("环保购物袋"))
    shows(bag, "20 积分", "库存 50", "每月限兑 2 件 · 本月已兑 0")
    await phone.wait_until(
        f"const img = document.querySelector('{reward('理发券')} img');"
        "return img !== null && img.complete && img.naturalWidth > 0;",
        what="the picture of 理发券 shows",
    )


async def follow_the_purchase(
    phone: Phone, client: httpx.AsyncClient, login: LoginFn, code: str
) -> None:
    """我的兑换 lists it, waiting, with its code; handed over at the shop, it says so."""
    await phone.tap('#store-body [data-part="redemptions"]')
    pending = f'.redemption[data-code="{code}"][data-status="pending"]'
    await appears(phone, pending, "我的兑换 lists it")
    shows(await phone.run(TEXT_OF, pending), "待领取", code, "取消兑换")
    await snap(phone, "store-redemptions")
    staff = await login("staff1")
    handed = await client.post(f"{API}/redemptions/hand-over", json={"code": code}, headers=staff)
    assert ok(handed)["status"] == "handed_over"
    await phone.reload()
    done = f'.redemption[data-code="{code}"][data-status="handed_over"]'
    await appears(phone, done, "我的兑换 says it was collected")
    assert "已领取" in await phone.run(TEXT_OF, f"{done} .status-chip")
    await snap(phone, "store-redemptions-handed-over")


async def test_a_courier_buys_in_the_points_store_and_collects_it(
    phone: Phone, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    """The balance and the four items; 环保购物袋 bought after a confirmation, its code shown
    big, the balance down by 20; 我的兑换 lists it with the same code, and 已领取 once the shop
    handed it over. What the balance cannot buy cannot be tapped."""
    await grant(session, "courier1", GIVEN_POINTS)
    await picture_for(client, login, "理发券")
    before = await balance(client, login)
    await open_store(phone)
    await check_the_shelves(phone, before)
    await snap(phone, "store")
    await phone.run("document.querySelector(arguments[0]).scrollIntoView();", reward("洗衣液 2kg"))
    await snap(phone, "store-beyond-balance")

    await confirm_purchase(phone, "环保购物袋")
    await snap(phone, "store-confirm")
    await phone.tap("#redeem-confirm")
    code = await shown_code(phone)
    assert await phone.run(TEXT_OF, "#redeem-balance") == str(before - 20)
    await snap(phone, "store-code")
    assert await balance(client, login) == before - 20
    [bought] = await my_redemptions(client, login)
    assert (bought["code"], bought["status"], bought["points"]) == (code, "pending", 20)
    assert await phone.run(KEPT_PURCHASES) is None

    await phone.tap("#redeem-more")
    await phone.wait_until(TEXT_IS, "#store-balance", str(before - 20), what="the new balance")
    await follow_the_purchase(phone, client, login, code)
    assert await phone.console_errors() == []


async def buy_with_the_answer_lost(
    phone: Phone, client: httpx.AsyncClient, login: LoginFn, gate: Gate
) -> dict[str, Any]:
    """环保购物袋 bought by the server, its answer held back, and the signal goes: the page waits
    with the purchase's key kept; back online, it is answered with the purchase made."""
    await phone.network(online=True)
    gate.hold(REDEMPTIONS)
    await confirm_purchase(phone, "环保购物袋")
    await phone.tap("#redeem-confirm")
    for _ in range(100):
        if await my_redemptions(client, login):
            break
        await asyncio.sleep(0.1)
    [made] = await my_redemptions(client, login)
    key = await phone.run(KEPT_PURCHASES)
    await phone.network(online=False)
    await phone.wait_until(
        "return document.querySelector('#redeem-status').textContent.includes('正在重试');",
        what="the page says it tries the purchase again",
    )
    await snap(phone, "store-retrying")
    assert key is not None
    assert await phone.run(KEPT_PURCHASES) == key  # the same key for the next attempt
    gate.release(REDEMPTIONS)
    await phone.network(online=True)
    assert await shown_code(phone) == made["code"]
    return dict(made)


async def test_a_purchase_whose_answer_is_lost_is_made_once_and_a_refusal_is_told(
    phone: Phone, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, gate: Gate
) -> None:
    """A purchase whose answer was lost is sent again with its Idempotency-Key and made once; an
    item sold out meanwhile is refused in the server's Chinese words; 取消兑换 gives the points
    back."""
    await grant(session, "courier1", GIVEN_POINTS)
    before = await balance(client, login)
    await open_store(phone)
    made = await buy_with_the_answer_lost(phone, client, login, gate)
    assert [r["id"] for r in await my_redemptions(client, login)] == [made["id"]]
    assert await balance(client, login) == before - 20

    await phone.tap("#redeem-more")
    item = await reward_id(client, login, "理发券")
    sold_out = {"stock_change": -10}
    ok(await client.patch(f"{API}/rewards/{item}", json=sold_out, headers=await login("staff1")))
    await confirm_purchase(phone, "理发券")  # the page still shows it in stock
    await phone.tap("#redeem-confirm")
    await phone.wait_until(TEXT_IS, "#sheet .sheet-message", "理发券 已兑完", what="the refusal")
    await snap(phone, "store-sold-out")
    await phone.wait_until(DISABLED, f"{reward('理发券')} button.redeem", what="理发券 sold out")
    await cancel_on_the_page(phone, made["code"])
    assert await balance(client, login) == before


async def cancel_on_the_page(phone: Phone, code: str) -> None:
    """取消兑换 in 我的兑换, confirmed: the purchase shows cancelled, its points given back."""
    await phone.tap("#sheet .secondary")  # 知道了: the refusal read
    await phone.tap('#store-body [data-part="redemptions"]')
    cancel = f'.redemption[data-code="{code}"] button.cancel'
    await appears(phone, cancel, "我的兑换 lists the purchase")
    await phone.tap(cancel)
    await appears(phone, "#sheet .sheet-yes", "取消兑换 is asked")
    await phone.tap("#sheet .sheet-yes")
    cancelled = f'.redemption[data-code="{code}"][data-status="cancelled"]'
    await appears(phone, cancelled, "我的兑换 shows the purchase cancelled")
    shows(await phone.run(TEXT_OF, cancelled), "已取消", "积分已退回")


async def published_wish(client: httpx.AsyncClient, login: LoginFn, title: str) -> str:
    answer = await client.get(f"{API}/wishes?status=published", headers=await login("courier1"))
    [found] = [w["id"] for w in ok(answer)["items"] if w["title"] == title]
    return str(found)


async def take_photo(phone: Phone, selector: str, path: Path) -> None:
    """A photo taken with the camera, sent to the page's file input ``selector``."""
    field = await asyncio.to_thread(phone.driver.find_element, By.CSS_SELECTOR, selector)
    await asyncio.to_thread(field.send_keys, str(path))


async def open_wishes(phone: Phone, count: int) -> None:
    """courier1 signs in and opens 微心愿: 可认领 shows ``count`` wishes."""
    await phone.open()
    await sign_in(phone, "courier1")
    await phone.tap('#tabs a[data-tab="wishes"]')
    await phone.wait_until(COUNT_IS, "#wishes-body .wish", count, what=f"{count} wishes")


async def claim_on_the_page(phone: Phone, wish_id: str) -> None:
    await phone.tap(f"{wish_card(wish_id)} button.claim")
    await phone.wait_until(VIEW_IS, "my-wishes", what="我认领的 shows after the claim")
    contact = f"#my-wishes-body {wish_card(wish_id)} .contact"
    await appears(phone, contact, "the claimed wish shows the resident's contact")


async def fulfil_on_the_page(phone: Phone, wish_id: str) -> None:
    """完成: a photo taken with the camera, a note, sent."""
    await phone.tap(f"{wish_card(wish_id)} button.fulfil")
    await appears(phone, "#fulfil-camera-input", "完成心愿 opens")
    await take_photo(phone, "#fulfil-camera-input", GPS_PHOTO)
    await phone.wait_until(
        "const tile = document.querySelector('#fulfil-photos li.photo');"
        "const img = tile?.querySelector('img');"
        "return tile?.dataset.state === 'done' && img.complete && img.naturalWidth > 0;",
        what="the photo is uploaded",
    )
    await phone.type_into("#fulfil-note", FULFIL_NOTE)
    await snap(phone, "wish-fulfil")
    await phone.tap("#fulfil-submit")
    fulfilled = f'#my-wishes-body {wish_card(wish_id)}[data-status="fulfilled"]'
    await phone.wait_until(
        f"return document.querySelector('{fulfilled}') !== null"
        " && document.querySelector('#sheet').hidden;",
        what="the wish shows fulfilled",
    )
    assert "待居民确认" in await phone.run(TEXT_OF, fulfilled)


async def test_a_courier_claims_a_micro_wish_and_fulfils_it_with_a_photo(
    phone: Phone, client: httpx.AsyncClient, login: LoginFn
) -> None:
    """可认领 shows 东街社区's two published wishes; courier1 claims one, sees the resident's
    contact (a tap calls), and completes it with a photo and a note: the wish waits for the
    resident's confirmation, fulfilled with its picture."""
    wish_id = await published_wish(client, login, "陪同去医院复查")
    await open_wishes(phone, 2)
    shows(await phone.run(TEXT_OF, wish_card(wish_id)), "独居老人，周四上午旗医院复查", "需在")
    await snap(phone, "wishes")

    await claim_on_the_page(phone, wish_id)
    contact = f"#my-wishes-body {wish_card(wish_id)} .contact"
    call = await phone.run(f"return document.querySelector('{contact} a').getAttribute('href');")
    assert call == "tel:04784611234"
    shows(await phone.run(TEXT_OF, contact), "王秀英", "东街社区4号楼2单元")
    await snap(phone, "wishes-claimed")

    await fulfil_on_the_page(phone, wish_id)
    await snap(phone, "wishes-fulfilled")
    wish = ok(await client.get(f"{API}/wishes/{wish_id}", headers=await login("staff1")))
    assert wish["status"] == "fulfilled"
    assert wish["fulfilment_picture"] is not None
    assert wish["fulfilment_note"] == FULFIL_NOTE
    assert wish["claimant"]["id"] == str(demo_id("user", "courier1"))
    assert await phone.console_errors() == []


async def thanked_wish(client: httpx.AsyncClient, login: LoginFn) -> str:
    """resident1's wish, published by staff1, claimed and fulfilled by courier1 through the API,
    confirmed and thanked by resident1."""
    staff, courier, resident = [await login(name) for name in ("staff1", "courier1", "resident1")]
    mine = ok(await client.get(f"{API}/wishes", params={"mine": "true"}, headers=resident))
    [wish_id] = [w["id"] for w in mine["items"] if w["title"] == "帮忙更换楼道灯泡"]
    ok(await client.post(f"{API}/wishes/{wish_id}/publish", headers=staff))
    ok(await client.post(f"{API}/wishes/{wish_id}/claim", headers=courier))
    photo = await upload(client, courier, "DSCN0010.jpg")
    done = {"photo_id": photo, "note": "已换好灯泡"}
    ok(await client.post(f"{API}/wishes/{wish_id}/fulfil", json=done, headers=courier))
    ok(await client.post(f"{API}/wishes/{wish_id}/confirm", headers=resident))
    thanks = {"note": "谢谢小伙子！"}
    ok(await client.post(f"{API}/wishes/{wish_id}/thank", json=thanks, headers=resident))
    return str(wish_id)


async def test_a_courier_gives_a_wish_up_and_reads_a_residents_thanks(
    phone: Phone, client: httpx.AsyncClient, login: LoginFn
) -> None:
    """放弃, confirmed: the wish is published again for another volunteer. A wish the resident
    confirmed shows as fulfilled, with the resident's thanks."""
    radio = await published_wish(client, login, "想要一台收音机")
    thanked = await thanked_wish(client, login)
    await open_wishes(phone, 2)
    await claim_on_the_page(phone, radio)
    card = f"#my-wishes-body {wish_card(thanked)}"
    assert "谢谢小伙子！" in await phone.run(TEXT_OF, f'{card}[data-status="confirmed"]')

    await phone.tap(f"{wish_card(radio)} button.release")
    await appears(phone, "#sheet .sheet-yes", "放弃 is asked")
    await snap(phone, "wishes-release")
    await phone.tap("#sheet .sheet-yes")
    await phone.wait_until(
        f"return document.querySelector('#my-wishes-body {wish_card(radio)}') === null"
        " && document.querySelector('#sheet').hidden;",
        what="the wish given up leaves 我认领的",
    )
    await snap(phone, "wishes-thanked")
    wish = ok(await client.get(f"{API}/wishes/{radio}", headers=await login("staff1")))
    assert (wish["status"], wish["claimant"]) == ("published", None)
    await phone.tap('#my-wishes-body [data-part="wishes"]')
    again = f"#wishes-body {wish_card(radio)} button.claim"
    await appears(phone, again, "the wish given up can be claimed again")
