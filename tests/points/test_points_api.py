"""GET /points/me and GET /leaderboard: who sees what, sums by month and by place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.workcalendar import CHINA_TZ
from app.demo.seed import demo_id
from app.models import Report, User
from tests.conftest import LoginFn
from tests.points.conftest import (
    EAST,
    SF_BRANCH,
    SF_COMPANY,
    SOUTH,
    ZTO_BRANCH,
    ZTO_COMPANY,
    AwardFn,
    FileReportFn,
)

NOV = datetime(2026, 11, 10, 10, 0, tzinfo=CHINA_TZ)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CHINA_TZ)
PEOPLE = ("admin", "courier1", "courier2", "resident1", "viewer", "staff1")


@dataclass(frozen=True)
class November:
    east_by_courier1: Report
    south_by_courier1: Report
    east_by_courier2: Report
    south_by_resident: Report
    october_by_courier2: Report


@pytest.fixture
async def november(
    app: FastAPI, login: LoginFn, file_report: FileReportFn, pay: AwardFn
) -> November:
    """November (China time): courier1 earns 15 in 东街社区 and 10 in 南街社区, courier2 10
    in 东街社区, resident1 10 in 南街社区; in October courier2 earns 10 in 东街社区. The
    clock then stands at 2026-11-20 12:00 China time (everyone signed in before)."""
    for username in PEOPLE:
        await login(username)
    made = November(
        east_by_courier1=await file_report("courier1"),
        south_by_courier1=await file_report("courier1", community=SOUTH),
        east_by_courier2=await file_report("courier2"),
        south_by_resident=await file_report("resident1", community=SOUTH),
        october_by_courier2=await file_report("courier2"),
    )
    await pay(made.east_by_courier1, "accepted", NOV)
    await pay(made.east_by_courier1, "closed_bonus", NOV + timedelta(days=2))
    await pay(made.south_by_courier1, "accepted", NOW - timedelta(hours=1))
    await pay(made.east_by_courier2, "accepted", NOV + timedelta(days=1))
    # Half past midnight on 1 November in China is still 31 October in UTC: the China month
    # decides.
    await pay(made.south_by_resident, "accepted", datetime(2026, 11, 1, 0, 30, tzinfo=CHINA_TZ))
    await pay(made.october_by_courier2, "accepted", datetime(2026, 10, 31, 23, 30, tzinfo=CHINA_TZ))
    app.state.clock = FrozenClock(NOW)
    return made


async def _get(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_my_points_show_balance_caps_and_entries_newest_first(
    client: httpx.AsyncClient, login: LoginFn, november: November
) -> None:
    mine = await _get(client, "/api/v1/points/me", await login("courier1"))
    assert mine["balance"] == 25
    assert mine["earned_today"] == 10
    assert mine["earned_this_month"] == 25
    assert (mine["daily_cap"], mine["monthly_cap"]) == (50, 300)
    assert [(e["rule"], e["points"], e["report"]["id"]) for e in mine["items"]] == [
        ("accepted", 10, str(november.south_by_courier1.id)),
        ("closed_bonus", 5, str(november.east_by_courier1.id)),
        ("accepted", 10, str(november.east_by_courier1.id)),
    ]
    first = mine["items"][0]
    assert first["report"]["number"] == november.south_by_courier1.number
    assert first["points_before_cap"] == 10
    assert first["capped"] is False
    assert mine["next_cursor"] is None


async def test_my_points_page_with_cursors(
    client: httpx.AsyncClient, login: LoginFn, november: November
) -> None:
    headers = await login("courier1")
    seen, cursor = [], None
    while True:
        url = "/api/v1/points/me?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = await _get(client, url, headers)
        assert page["balance"] == 25
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 3


async def test_a_reporter_sees_only_their_own_ledger(
    client: httpx.AsyncClient, login: LoginFn, november: November
) -> None:
    theirs = await _get(
        client,
        f"/api/v1/points/me?user_id={demo_id('user', 'courier1')}",
        await login("courier2"),
    )
    assert theirs["balance"] == 20
    assert {e["report"]["id"] for e in theirs["items"]} == {
        str(november.east_by_courier2.id),
        str(november.october_by_courier2.id),
    }
    assert theirs["earned_this_month"] == 10
    nothing = await _get(client, "/api/v1/points/me", await login("staff1"))
    assert (nothing["balance"], nothing["items"]) == (0, [])


async def test_my_points_need_a_person(
    client: httpx.AsyncClient, login: LoginFn, api_key: dict[str, str]
) -> None:
    anonymous = await client.get("/api/v1/points/me")
    assert anonymous.status_code == 401
    refused = await client.get("/api/v1/points/me", headers=api_key)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "forbidden"


@pytest.fixture
async def api_key(client: httpx.AsyncClient, login: LoginFn) -> dict[str, str]:
    created = await client.post(
        "/api/v1/api-keys",
        json={"name": "大屏", "region_id": str(demo_id("region", "杭锦后旗"))},
        headers=await login("admin"),
    )
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['key']}"}


def _lines(board: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (e["rank"], e["name"], e["points"], e["reports"], e["reporters"]) for e in board["items"]
    ]


async def test_leaderboard_ranks_communities_for_the_current_china_month(
    client: httpx.AsyncClient, login: LoginFn, november: November
) -> None:
    board = await _get(client, "/api/v1/leaderboard?scope=community", await login("courier1"))
    assert (board["scope"], board["period"], board["id"]) == ("community", "2026-11", None)
    assert board["starts_at"] == "2026-10-31T16:00:00Z"
    assert _lines(board) == [(1, "东街社区", 25, 2, 2), (2, "南街社区", 20, 2, 2)]
    assert [e["id"] for e in board["items"]] == [str(EAST), str(SOUTH)]
    october = await _get(
        client, "/api/v1/leaderboard?scope=community&period=2026-10", await login("courier1")
    )
    assert _lines(october) == [(1, "东街社区", 10, 1, 1)]


async def test_leaderboard_ranks_branches_and_companies(
    client: httpx.AsyncClient, login: LoginFn, november: November
) -> None:
    headers = await login("resident1")
    branches = await _get(client, "/api/v1/leaderboard?scope=branch&period=2026-11", headers)
    assert [(e["id"], e["points"]) for e in branches["items"]] == [
        (str(SF_BRANCH), 25),
        (str(ZTO_BRANCH), 10),
    ]
    companies = await _get(client, "/api/v1/leaderboard?scope=company&period=2026-11", headers)
    assert _lines(companies) == [(1, "顺丰速运", 25, 2, 1), (2, "中通快递", 10, 1, 1)]
    assert [e["id"] for e in companies["items"]] == [str(SF_COMPANY), str(ZTO_COMPANY)]


async def test_leaderboard_ranks_the_reporters_of_one_place(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, november: November
) -> None:
    headers = await login("courier2")
    east = await _get(client, f"/api/v1/leaderboard?scope=community&id={EAST}", headers)
    assert (east["id"], east["name"]) == (str(EAST), "东街社区")
    assert [(e["rank"], e["name"], e["points"], e["is_me"], e["id"]) for e in east["items"]] == [
        (1, "孙浩", 15, False, None),
        (2, "马俊", 10, True, None),
    ]
    company = await _get(client, f"/api/v1/leaderboard?scope=company&id={SF_COMPANY}", headers)
    assert _lines(company) == [(1, "孙浩", 25, 2, 1)]
    # Equal points share a rank.
    south = await _get(client, f"/api/v1/leaderboard?scope=community&id={SOUTH}", headers)
    assert sorted(_lines(south)) == [(1, "吴桂兰", 10, 1, 1), (1, "孙浩", 10, 1, 1)]
    courier1 = await session.get_one(User, demo_id("user", "courier1"))
    assert courier1.phone
    assert courier1.phone not in str(east)
    assert "phone" not in str(east)


async def test_leaderboard_pages_keep_the_ranks(
    client: httpx.AsyncClient, login: LoginFn, november: November
) -> None:
    headers = await login("staff1")
    first = await _get(client, "/api/v1/leaderboard?scope=community&limit=1", headers)
    assert _lines(first) == [(1, "东街社区", 25, 2, 2)]
    second = await _get(
        client,
        f"/api/v1/leaderboard?scope=community&limit=1&cursor={first['next_cursor']}",
        headers,
    )
    assert _lines(second) == [(2, "南街社区", 20, 2, 2)]
    assert second["next_cursor"] is None


async def test_dashboards_read_the_leaderboard(
    client: httpx.AsyncClient, login: LoginFn, api_key: dict[str, str], november: November
) -> None:
    for headers in (api_key, await login("viewer")):
        board = await _get(client, "/api/v1/leaderboard?scope=company", headers)
        assert [e["points"] for e in board["items"]] == [25, 10]
        people = await _get(client, f"/api/v1/leaderboard?scope=branch&id={SF_BRANCH}", headers)
        assert [(e["name"], e["is_me"]) for e in people["items"]] == [("孙浩", False)]


async def test_leaderboard_refuses_bad_queries(
    client: httpx.AsyncClient, login: LoginFn, november: November
) -> None:
    headers = await login("courier1")
    unknown = await client.get(f"/api/v1/leaderboard?scope=branch&id={EAST}", headers=headers)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"
    for query in ("period=2026-13", "period=26-11", "scope=street", "cursor=bogus"):
        bad = await client.get(f"/api/v1/leaderboard?{query}", headers=headers)
        assert bad.status_code == 422, query
        assert bad.json()["code"] == ("invalid_cursor" if "cursor" in query else "validation_error")
    assert (await client.get("/api/v1/leaderboard")).status_code == 401
