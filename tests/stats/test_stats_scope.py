"""Who counts which cases: each role's statistics cover the cases it may see, and a filter never
widens that.

Five cases, filed through the API: two in 东街社区 by courier1, the first whistled by staff1 to
unit1 (旗农牧和科技局) and unit2 (旗红十字会), the second left waiting; one in 北街社区 (陕坝镇,
not staff1's) by resident1; one in 头道桥社区 (头道桥镇, not 陕坝镇) by its courier, whistled by
its staff to unit3; one in 东风社区 of 磴口县, a county outside the banner made for the test."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import demo_id
from app.models import Community
from tests.conftest import LoginFn
from tests.support import FAR_POINT, make_far_community

STATS = "/api/v1/stats"
PHOTO = (Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "Canon_40D.jpg").read_bytes()
EAST_STREET = demo_id("community", "陕坝镇", "东街社区")
NORTH_STREET = demo_id("community", "陕坝镇", "北街社区")
TOUDAOQIAO = demo_id("community", "头道桥镇", "头道桥社区")
BANNER = demo_id("region", "杭锦后旗")
SHANBA = demo_id("region", "陕坝镇")
UNIT_1 = demo_id("unit", "旗农牧和科技局")
UNIT_2 = demo_id("unit", "旗红十字会")
UNIT_3 = demo_id("unit", "旗交通运输局")
CITY = demo_id("region", "巴彦淖尔市")
# Who counts which cases (by the names of the fixture's cases).
BANNER_CASES = {"east_whistled", "east_waiting", "north", "toudaoqiao"}
SEES = {
    "admin": BANNER_CASES | {"far"},
    "supervisor": BANNER_CASES,
    "viewer": BANNER_CASES,
    "key": BANNER_CASES,
    "supervisor2": {"east_whistled", "east_waiting", "north"},
    "staff1": {"east_whistled", "east_waiting"},
    "grid1": {"east_whistled", "east_waiting"},
    "unit1": {"east_whistled"},
    "unit3": {"toudaoqiao"},
}


@dataclass
class Cases:
    """The fixture's cases by name, the far community and everyone's headers."""

    ids: dict[str, str]
    far_community: str
    far_county: str
    headers: dict[str, dict[str, str]]

    async def get(self, client: httpx.AsyncClient, role: str, path: str, **query: Any) -> Any:
        response = await client.get(f"{STATS}/{path}", params=query, headers=self.headers[role])
        assert response.status_code == 200, (role, path, query, response.text)
        return response.json()


async def _centre(session: AsyncSession, community_id: uuid.UUID) -> tuple[float, float]:
    community = await session.scalar(select(Community).where(Community.id == community_id))
    assert community is not None
    assert community.center_lat is not None
    assert community.center_lng is not None
    return community.center_lat, community.center_lng


async def _ok(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Any:
    response = await client.request(method, url, **kwargs)
    assert 200 <= response.status_code < 300, (method, url, response.text)
    return response.json()


async def _file(
    client: httpx.AsyncClient, headers: dict[str, str], point: tuple[float, float]
) -> dict[str, Any]:
    lat, lng = point
    report: dict[str, Any] = await _ok(
        client,
        "POST",
        "/api/v1/reports",
        data={
            "category_code": "chaotic_parking",
            "description": "巷口乱停车，消防车进不去",
            "lat": str(lat),
            "lng": str(lng),
        },
        files=[("photos", ("photo.jpg", PHOTO, "image/jpeg"))],
        headers=headers,
    )
    return report


async def _whistle(
    client: httpx.AsyncClient, headers: dict[str, str], report_id: str, *units: uuid.UUID
) -> None:
    await _ok(client, "POST", f"/api/v1/reports/{report_id}/accept", json={}, headers=headers)
    await _ok(
        client,
        "POST",
        f"/api/v1/reports/{report_id}/whistle",
        json={"unit_ids": [str(unit) for unit in units]},
        headers=headers,
    )


@pytest.fixture
async def cases(client: httpx.AsyncClient, login: LoginFn, session: AsyncSession) -> Cases:
    headers = {role: await login(role) for role in SEES if role != "key"}
    for role in ("courier1", "resident1", "courier6", "staff5"):
        headers[role] = await login(role)
    key = await _ok(
        client,
        "POST",
        "/api/v1/api-keys",
        json={"name": "大屏-杭锦后旗", "region_id": str(BANNER)},
        headers=headers["admin"],
    )
    headers["key"] = {"Authorization": f"Bearer {key['key']}"}
    far_community, far_county = await make_far_community(client, headers["admin"])

    east = await _centre(session, EAST_STREET)
    ids = {
        "east_whistled": (await _file(client, headers["courier1"], east))["id"],
        "east_waiting": (await _file(client, headers["courier1"], east))["id"],
        "north": (await _file(client, headers["resident1"], await _centre(session, NORTH_STREET)))[
            "id"
        ],
        "toudaoqiao": (
            await _file(client, headers["courier6"], await _centre(session, TOUDAOQIAO))
        )["id"],
        "far": (await _file(client, headers["resident1"], FAR_POINT))["id"],
    }
    await _whistle(client, headers["staff1"], ids["east_whistled"], UNIT_1, UNIT_2)
    await _whistle(client, headers["staff5"], ids["toudaoqiao"], UNIT_3)
    far = await _ok(client, "GET", f"/api/v1/reports/{ids['far']}", headers=headers["admin"])
    assert far["community"]["id"] == far_community
    return Cases(ids, far_community, far_county, headers)


async def _listed_cases(client: httpx.AsyncClient, cases: Cases, role: str) -> set[str]:
    """The fixture's cases in the role's case list: what its statistics must count."""
    response = await client.get(
        "/api/v1/reports", params={"limit": 200}, headers=cases.headers[role]
    )
    assert response.status_code == 200, response.text
    listed = {item["id"] for item in response.json()["items"]}
    return {name for name, report_id in cases.ids.items() if report_id in listed}


async def test_the_summary_counts_the_cases_each_role_sees(
    client: httpx.AsyncClient, cases: Cases
) -> None:
    for role, seen in SEES.items():
        summary = await cases.get(client, role, "summary")
        assert summary["total"] == len(seen), role
        # The same cases as the role's case list, no more and no fewer.
        assert await _listed_cases(client, cases, role) == seen, role
        waiting = {"east_waiting", "north", "far"} & seen
        assert summary["counts_by_status"].get("submitted", 0) == len(waiting), role
        assert summary["counts_by_status"].get("dispatched", 0) == len(seen - waiting), role
        assert summary["whistled"] == len(seen - waiting), role


async def test_the_sheet_by_community_has_the_communities_of_the_cases_the_role_sees(
    client: httpx.AsyncClient, cases: Cases
) -> None:
    async def rows(role: str) -> dict[str, int]:
        sheet = await cases.get(client, role, "communities")
        return {row["name"]: row["total"] for row in sheet["items"]}

    banner = {"东街社区": 2, "北街社区": 1, "头道桥社区": 1}
    assert await rows("admin") == {**banner, "东风社区": 1}
    for role in ("supervisor", "viewer", "key"):
        assert await rows(role) == banner, role
    assert await rows("supervisor2") == {"东街社区": 2, "北街社区": 1}
    assert await rows("staff1") == {"东街社区": 2}
    assert await rows("grid1") == {"东街社区": 2}
    assert await rows("unit1") == {"东街社区": 1}
    assert await rows("unit3") == {"头道桥社区": 1}


async def _received(
    client: httpx.AsyncClient, cases: Cases, role: str, **query: Any
) -> dict[str, int]:
    sheet = await cases.get(client, role, "units", **query)
    return {row["name"]: row["received"] for row in sheet["items"]}


async def test_the_unit_sheet_shows_the_jobs_on_the_cases_the_role_sees(
    client: httpx.AsyncClient, cases: Cases
) -> None:
    # The banner's roles see every unit of the banner, those sent nothing with zeros.
    banner = await _received(client, cases, "supervisor")
    assert len(banner) == 10
    assert {name: n for name, n in banner.items() if n} == {
        "旗农牧和科技局": 1,
        "旗红十字会": 1,
        "旗交通运输局": 1,
    }
    assert await _received(client, cases, "viewer") == banner
    assert await _received(client, cases, "key") == banner
    # 陕坝镇's supervisor and 东街's staff: the units with jobs on their cases.
    shanba = {"旗农牧和科技局": 1, "旗红十字会": 1}
    assert await _received(client, cases, "supervisor2") == shanba
    assert await _received(client, cases, "staff1") == shanba
    # A unit: its own row only, not the other unit's job on the same case.
    assert await _received(client, cases, "unit1") == {"旗农牧和科技局": 1}
    assert await _received(client, cases, "unit3") == {"旗交通运输局": 1}
    # Its file has that row alone too.
    response = await client.get(f"{STATS}/units/export", headers=cases.headers["unit1"])
    assert response.status_code == 200, response.text
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [line[0] for line in lines[1:]] == ["旗农牧和科技局"]


async def test_a_filter_narrows_and_never_widens_what_the_role_counts(
    client: httpx.AsyncClient, cases: Cases
) -> None:
    async def total(role: str, **query: Any) -> int:
        return int((await cases.get(client, role, "summary", **query))["total"])

    # The banner, asked by those below it: still only their own cases.
    assert await total("staff1", region_id=str(BANNER)) == 2
    assert await total("unit1", region_id=str(BANNER)) == 1
    assert await total("unit1", community_id=str(EAST_STREET)) == 1
    assert await total("supervisor2", unit_id=str(UNIT_1)) == 1
    # The banner's supervisor, narrowed to a township, a community, a unit.
    assert await total("supervisor", region_id=str(SHANBA)) == 3
    assert await total("supervisor", community_id=str(TOUDAOQIAO)) == 1
    assert await total("supervisor", unit_id=str(UNIT_3)) == 1
    # The other county: the administrator's alone.
    assert await total("admin", region_id=cases.far_county) == 1
    assert await total("admin", community_id=cases.far_community) == 1


async def test_a_unit_naming_a_region_still_gets_its_own_row_only(
    client: httpx.AsyncClient, cases: Cases
) -> None:
    # Not "旗红十字会: 0": unit2 had a job on unit1's case, which unit1 is not told of.
    received = await _received(client, cases, "unit1", region_id=str(BANNER))
    assert received == {"旗农牧和科技局": 1}


STATS_PATHS = (
    "summary",
    "units",
    "units/export",
    "communities",
    "categories",
    "couriers",
    "timeseries",
)
HEAT_MAP = ("heatmap?bbox=107.0,40.8,107.2,41.0",)


async def test_couriers_and_residents_are_refused_and_strangers_asked_to_sign_in(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    for path in STATS_PATHS + HEAT_MAP:
        for role in ("courier1", "resident1"):
            response = await client.get(f"{STATS}/{path}", headers=await login(role))
            assert response.status_code == 403, (path, role, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
        response = await client.get(f"{STATS}/{path}")
        assert response.status_code == 401, (path, response.text)


async def test_a_place_outside_the_role_s_reach_is_not_found(
    client: httpx.AsyncClient, cases: Cases
) -> None:
    outside = [
        ("supervisor", "region_id", cases.far_county),
        ("supervisor", "community_id", cases.far_community),
        ("key", "community_id", cases.far_community),
        ("supervisor2", "community_id", str(TOUDAOQIAO)),
        ("staff1", "community_id", str(NORTH_STREET)),
        ("unit1", "unit_id", str(UNIT_3)),
        ("unit3", "community_id", str(EAST_STREET)),
    ]
    for role, name, place in outside:
        for path in STATS_PATHS + HEAT_MAP:
            response = await client.get(
                f"{STATS}/{path}", params={name: place}, headers=cases.headers[role]
            )
            assert response.status_code == 404, (role, name, path, response.text)
            assert response.json()["code"] == "not_found"
