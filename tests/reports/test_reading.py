"""Who sees which reports, every list filter, nearby, duplicates, timeline and comments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.workcalendar import CHINA_TZ
from app.models import Community
from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT, SubmitFn

COMMUNITY_2 = "北街社区"


async def _center(session: AsyncSession, name: str) -> tuple[float, float]:
    community = (await session.scalars(select(Community).where(Community.name == name))).one()
    assert community.center_lat is not None
    assert community.center_lng is not None
    return community.center_lat, community.center_lng


@pytest.fixture
async def reports(submit: SubmitFn, session: AsyncSession) -> dict[str, dict[str, Any]]:
    """Four reports: three in community 1 (two by courier1, one by courier2), one in
    community 2 by a resident."""
    made = {}
    lat, lng = COMMUNITY_1_POINT
    made["parking"] = (await submit("courier1")).json()
    made["road"] = (
        await submit(
            "courier1",
            lat=lat + 0.0004,
            lng=lng,
            category_code="road_damage",
            description="路面塌陷一米见方",
        )
    ).json()
    made["parking2"] = (
        await submit("courier2", lat=lat + 0.0002, lng=lng, description="又有车堵住巷口")
    ).json()
    lat2, lng2 = await _center(session, COMMUNITY_2)
    made["north"] = (
        await submit(
            "resident1", lat=lat2, lng=lng2, category_code="piled_rubbish", description="垃圾堆"
        )
    ).json()
    assert all("id" in r for r in made.values()), made
    return made


async def _ids(client: httpx.AsyncClient, headers: dict[str, str], query: str = "") -> set[str]:
    response = await client.get(f"/api/v1/reports?limit=200{query}", headers=headers)
    assert response.status_code == 200, response.text
    return {r["id"] for r in response.json()["items"]}


async def test_couriers_see_only_their_own_reports(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    mine = await _ids(client, await login("courier1"))
    assert mine == {reports["parking"]["id"], reports["road"]["id"]}
    other = await client.get(
        f"/api/v1/reports/{reports['parking2']['id']}", headers=await login("courier1")
    )
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"


async def test_staff_see_their_community_only(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    staff1 = await _ids(client, await login("staff1"))
    assert staff1 == {reports[k]["id"] for k in ("parking", "road", "parking2")}
    staff2 = await _ids(client, await login("staff2"))
    assert staff2 == {reports["north"]["id"]}
    hidden = await client.get(
        f"/api/v1/reports/{reports['parking']['id']}", headers=await login("staff2")
    )
    assert hidden.status_code == 404
    # With the bearer token (the answers' links are signed: whoever holds one opens it).
    bearer_url = f"/api/v1/photos/{reports['parking']['photos'][0]['id']}"
    for suffix in ("", "?size=thumbnail"):
        photo = await client.get(bearer_url + suffix, headers=await login("staff2"))
        assert photo.status_code == 404
    timeline = await client.get(
        f"/api/v1/reports/{reports['parking']['id']}/timeline", headers=await login("staff2")
    )
    assert timeline.status_code == 404


async def test_supervisor_and_viewer_see_the_region_viewer_without_people(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    everything = {r["id"] for r in reports.values()}
    assert await _ids(client, await login("supervisor")) == everything
    viewer = await client.get("/api/v1/reports?limit=200", headers=await login("viewer"))
    items = viewer.json()["items"]
    assert {r["id"] for r in items} == everything
    assert all(r["reporter"] is None for r in items)


async def test_unit_staff_see_no_reports_without_jobs(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    assert await _ids(client, await login("unit1")) == set()
    response = await client.get(
        f"/api/v1/reports/{reports['parking']['id']}", headers=await login("unit1")
    )
    assert response.status_code == 404


async def test_phone_numbers_are_masked_for_all_but_the_reporter(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    """Administrators too: they read a number in full in the user directory, where the read
    is audited, never in passing in a case."""
    url = f"/api/v1/reports/{reports['parking']['id']}"
    own = (await client.get(url, headers=await login("courier1"))).json()["reporter"]
    staff = (await client.get(url, headers=await login("staff1"))).json()["reporter"]
    admin = (await client.get(url, headers=await login("admin"))).json()["reporter"]
    assert "*" not in own["phone"]
    assert staff["phone"] != own["phone"]
    # At most a third of the digits show: the first and the last two of a mobile number.
    assert staff["phone"] == own["phone"][0] + "*" * (len(own["phone"]) - 3) + own["phone"][-2:]
    assert admin["phone"] == staff["phone"]


async def test_detail_carries_an_etag_and_the_whole_case(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    response = await client.get(
        f"/api/v1/reports/{reports['parking']['id']}", headers=await login("staff1")
    )
    body = response.json()
    assert response.headers["etag"] == f'"{body["id"]}-v1"'
    assert body["status"] == "submitted"
    assert body["community"]["name"] == "东街社区"
    assert body["deadlines"][0]["kind"] == "accept"
    assert body["deadlines"][0]["light"] == "green"
    photo = body["photos"][0]
    assert photo["thumbnail_url"].startswith(f"/api/v1/photos/{photo['id']}?size=thumbnail&")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("&category=road_damage", {"road"}),
        ("&status=submitted", {"parking", "road", "parking2", "north"}),
        ("&status=accepted&status=closed", set()),
        ("&q=塌陷", {"road"}),
        ("&q=SSP-", {"parking", "road", "parking2", "north"}),
        # The words as they are: no wildcard matches every case, no backslash escapes.
        ("&q=%25", set()),
        ("&q=SSP_", set()),
        ("&q=S%5CSP", set()),
    ],
)
async def test_simple_filters(
    client: httpx.AsyncClient,
    login: LoginFn,
    reports: dict[str, dict[str, Any]],
    query: str,
    expected: set[str],
) -> None:
    found = await _ids(client, await login("supervisor"), query)
    assert found == {reports[k]["id"] for k in expected}


async def test_community_and_region_filters(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    supervisor = await login("supervisor")
    community_1 = reports["parking"]["community"]["id"]
    found = await _ids(client, supervisor, f"&community_id={community_1}")
    assert found == {reports[k]["id"] for k in ("parking", "road", "parking2")}
    township = reports["parking"]["region"]["id"]
    in_township = await _ids(client, supervisor, f"&region_id={township}")
    assert reports["parking"]["id"] in in_township
    # staff1 filtering on community 2 sees nothing: the filter narrows, never widens, the scope
    assert (
        await _ids(
            client, await login("staff1"), f"&community_id={reports['north']['community']['id']}"
        )
        == set()
    )


async def test_mine_filter(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    assert await _ids(client, await login("courier2"), "&mine=true") == {reports["parking2"]["id"]}
    assert await _ids(client, await login("staff1"), "&mine=true") == set()


async def test_bbox_and_near_filters(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    supervisor = await login("supervisor")
    lat, lng = COMMUNITY_1_POINT
    bbox = f"{lng - 0.001},{lat - 0.0001},{lng + 0.001},{lat + 0.0003}"
    assert await _ids(client, supervisor, f"&bbox={bbox}") == {
        reports["parking"]["id"],
        reports["parking2"]["id"],
    }
    # 0.0004° of latitude is about 44 m
    near = await _ids(client, supervisor, f"&near={lat},{lng},30")
    assert near == {reports["parking"]["id"], reports["parking2"]["id"]}
    wider = await _ids(client, supervisor, f"&near={lat},{lng},60")
    assert reports["road"]["id"] in wider
    assert reports["north"]["id"] not in wider


@pytest.mark.parametrize(
    "query",
    [
        "&bbox=1,2,3",
        "&bbox=107.2,40.8,107.1,40.9",
        "&near=40.8,107.1",
        "&near=40.8,107.1,-5",
        "&near=nan,107.1,5",
        "&created_from=2026-01-01T00:00:00",
        "&created_from=1767225600",
        "&created_to=1.5e9",
        "&created_to=2026-01-01",
        "&status=nonsense",
        "&sort=name",
        "&limit=500",
        "&cursor=%%%",
    ],
)
async def test_bad_filters_are_422(client: httpx.AsyncClient, login: LoginFn, query: str) -> None:
    response = await client.get(f"/api/v1/reports?{query}", headers=await login("supervisor"))
    assert response.status_code == 422
    expected = "invalid_cursor" if "cursor" in query else "validation_error"
    assert response.json()["code"] == expected


async def test_created_range_and_overdue(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]], app: FastAPI
) -> None:
    supervisor = await login("supervisor")
    now = datetime.now(UTC)
    past = (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    future = (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert len(await _ids(client, supervisor, f"&created_from={past}&created_to={future}")) == 4
    # Beijing time, its "+" left unencoded as a client might (it arrives as a space).
    in_china = (now - timedelta(hours=1)).astimezone(CHINA_TZ).isoformat()
    assert "+08:00" in in_china
    assert len(await _ids(client, supervisor, f"&created_from={in_china}")) == 4
    assert await _ids(client, supervisor, f"&created_from={future}") == set()
    assert await _ids(client, supervisor, "&overdue=true") == set()
    app.state.clock = FrozenClock(now + timedelta(days=30))
    overdue = await _ids(client, supervisor, "&overdue=true")
    assert overdue == {r["id"] for r in reports.values()}
    detail = (
        await client.get(f"/api/v1/reports/{reports['road']['id']}", headers=supervisor)
    ).json()
    assert detail["deadlines"][0]["light"] == "red"


async def test_pages_follow_cursors_newest_first(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    supervisor = await login("supervisor")
    seen: list[str] = []
    cursor = None
    while True:
        query = "/api/v1/reports?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(query, headers=supervisor)).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    newest_first = [reports[k]["id"] for k in ("north", "parking2", "road", "parking")]
    assert seen == newest_first
    oldest = await client.get("/api/v1/reports?sort=created_at", headers=supervisor)
    assert [r["id"] for r in oldest.json()["items"]] == list(reversed(newest_first))


async def test_possible_duplicates_name_open_reports_of_the_same_category_nearby(
    submit: SubmitFn, reports: dict[str, dict[str, Any]]
) -> None:
    lat, lng = COMMUNITY_1_POINT
    # 3 m from the first parking report, 19 m from the second.
    again = (await submit("grid1", lat=lat + 0.00003, lng=lng)).json()
    dupes = again["possible_duplicates"]
    assert [d["id"] for d in dupes] == [reports["parking"]["id"], reports["parking2"]["id"]]
    assert 2 < dupes[0]["distance_m"] < 5
    assert 17 < dupes[1]["distance_m"] < 21
    assert all(d["category_code"] == "chaotic_parking" for d in dupes)
    far = (await submit("grid1", lat=lat - 0.003, lng=lng)).json()  # ~330 m away
    assert far["possible_duplicates"] == []


async def test_nearby_shows_public_fields_only(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    lat, lng = COMMUNITY_1_POINT
    response = await client.get(
        f"/api/v1/reports/nearby?lat={lat}&lng={lng}&category=chaotic_parking",
        headers=await login("resident1"),
    )
    assert response.status_code == 200
    found = response.json()
    assert [r["id"] for r in found] == [reports["parking"]["id"], reports["parking2"]["id"]]
    assert set(found[0]) == {
        "id",
        "number",
        "status",
        "category_code",
        "location",
        "distance_m",
        "created_at",
    }
    everything = await client.get(
        f"/api/v1/reports/nearby?lat={lat}&lng={lng}&radius_m=100",
        headers=await login("resident1"),
    )
    assert {r["id"] for r in everything.json()} == {
        reports[k]["id"] for k in ("parking", "road", "parking2")
    }
    unknown = await client.get(
        f"/api/v1/reports/nearby?lat={lat}&lng={lng}&category=nope",
        headers=await login("resident1"),
    )
    assert unknown.status_code == 422


async def test_timeline_starts_with_submitted(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    url = f"/api/v1/reports/{reports['parking']['id']}/timeline"
    events = (await client.get(url, headers=await login("staff1"))).json()
    assert [e["type"] for e in events] == ["submitted"]
    assert events[0]["to_status"] == "submitted"
    assert events[0]["actor"]["display_name"]
    assert events[0]["actor_role"] == "courier"


async def test_internal_comments_are_hidden_from_the_reporter(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    report_id = reports["parking"]["id"]
    url = f"/api/v1/reports/{report_id}/comments"
    internal = await client.post(
        url, json={"body": "先联系城管", "internal": True}, headers=await login("staff1")
    )
    assert internal.status_code == 201
    public = await client.post(
        url, json={"body": "已收到，正在处理"}, headers=await login("staff1")
    )
    assert public.status_code == 201
    reply = await client.post(url, json={"body": "谢谢"}, headers=await login("courier1"))
    assert reply.status_code == 201

    timeline = f"/api/v1/reports/{report_id}/timeline"
    staff_view = (await client.get(timeline, headers=await login("staff1"))).json()
    assert [e["note"] for e in staff_view[1:]] == ["先联系城管", "已收到，正在处理", "谢谢"]
    reporter_view = (await client.get(timeline, headers=await login("courier1"))).json()
    assert [e["note"] for e in reporter_view[1:]] == ["已收到，正在处理", "谢谢"]
    # the reporter sees that staff answered, not who
    assert reporter_view[1]["actor"] is None
    assert reporter_view[1]["actor_role"] == "community_staff"


async def test_who_may_comment(
    client: httpx.AsyncClient, login: LoginFn, reports: dict[str, dict[str, Any]]
) -> None:
    url = f"/api/v1/reports/{reports['parking']['id']}/comments"
    internal = await client.post(
        url, json={"body": "x", "internal": True}, headers=await login("courier1")
    )
    assert internal.status_code == 403
    stranger = await client.post(url, json={"body": "x"}, headers=await login("courier2"))
    assert stranger.status_code == 404
    viewer = await client.post(url, json={"body": "x"}, headers=await login("viewer"))
    assert viewer.status_code == 403
    empty = await client.post(url, json={"body": ""}, headers=await login("staff1"))
    assert empty.status_code == 422
