"""What each caller sees of one case, by their relation to that case: internal entries and
the names of staff for its community, its supervisors and admins; where and when its photos
were taken for its community, admins and whoever took them; the public part for the rest."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import demo_id
from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn, community_centre, photo_bytes

# A photo that carries both a GPS position and a capture time in its EXIF.
GPS_PHOTO = ("DSCN0010.jpg", photo_bytes("DSCN0010.jpg"))
LEAD_UNIT = str(demo_id("unit", "旗农牧和科技局"))  # unit1's, paired with 东街社区


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def capture_data_shown(photo: dict[str, Any]) -> bool:
    """Whether the answer shows where and when the photo was taken (both or neither)."""
    shown = (photo["exif_location"] is not None, photo["exif_taken_at"] is not None)
    assert shown in ((True, True), (False, False)), photo
    return shown[0]


# --- internal entries and staff names ------------------------------------------------------


@pytest.fixture
async def filed_outside_own_region(
    submit: SubmitFn, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> str:
    """supervisor2 (陕坝镇) reports a hazard in 头道桥社区, in the township next door; the
    community's staff (staff5) note something for themselves, answer the reporter and accept."""
    lat, lng = await community_centre(session, "头道桥社区")
    filed = ok(await submit("supervisor2", lat=lat, lng=lng, photos=[GPS_PHOTO]), 201)
    assert filed["community"]["name"] == "头道桥社区"
    assert filed["region"]["name"] == "头道桥镇"
    url = f"/api/v1/reports/{filed['id']}"
    staff5 = await login("staff5")
    ok(
        await client.post(
            f"{url}/comments", json={"body": "先核实", "internal": True}, headers=staff5
        ),
        201,
    )
    ok(await client.post(f"{url}/comments", json={"body": "已收到"}, headers=staff5), 201)
    ok(await client.post(f"{url}/accept", json={}, headers=staff5))
    return str(filed["id"])


async def _display_name(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return str(ok(await client.get("/api/v1/me", headers=headers))["display_name"])


async def test_a_supervisor_reporting_outside_their_region_sees_the_reporters_view(
    client: httpx.AsyncClient, login: LoginFn, filed_outside_own_region: str
) -> None:
    url = f"/api/v1/reports/{filed_outside_own_region}"
    supervisor2 = await login("supervisor2")
    own_name = await _display_name(client, supervisor2)

    timeline = ok(await client.get(f"{url}/timeline", headers=supervisor2))
    assert [(e["type"], e["note"]) for e in timeline] == [
        ("submitted", None),
        ("comment", "已收到"),
        ("accept", None),
    ]
    assert all(not e["is_internal"] for e in timeline)
    # Their own entry names them; what the community's staff did is shown without a name.
    assert [e["actor"] and e["actor"]["display_name"] for e in timeline] == [own_name, None, None]
    assert [e["actor_role"] for e in timeline[1:]] == ["community_staff", "community_staff"]

    report = ok(await client.get(url, headers=supervisor2))
    assert report["reporter"]["display_name"] == own_name
    assert capture_data_shown(report["photos"][0])  # they took the photo

    # As the reporter they comment in public only.
    internal = await client.post(
        f"{url}/comments", json={"body": "内部意见", "internal": True}, headers=supervisor2
    )
    assert internal.status_code == 403, internal.text


@pytest.mark.parametrize("username", ["supervisor", "staff5", "admin"])
async def test_the_cases_own_staff_see_everything(
    client: httpx.AsyncClient, login: LoginFn, filed_outside_own_region: str, username: str
) -> None:
    url = f"/api/v1/reports/{filed_outside_own_region}"
    headers = await login(username)
    staff_name = await _display_name(client, await login("staff5"))
    timeline = ok(await client.get(f"{url}/timeline", headers=headers))
    assert [(e["note"], e["is_internal"]) for e in timeline if e["type"] == "comment"] == [
        ("先核实", True),
        ("已收到", False),
    ]
    assert {e["actor"]["display_name"] for e in timeline[1:]} == {staff_name}
    reporter = ok(await client.get(url, headers=headers))["reporter"]
    assert reporter["display_name"] == await _display_name(client, await login("supervisor2"))


async def test_a_supervisor_sees_the_inside_of_cases_in_their_region(
    submit: SubmitFn, client: httpx.AsyncClient, login: LoginFn
) -> None:
    filed = ok(await submit("courier1"), 201)  # 东街社区, in supervisor2's 陕坝镇
    url = f"/api/v1/reports/{filed['id']}"
    note = {"body": "车主电话已查到", "internal": True}
    ok(await client.post(f"{url}/comments", json=note, headers=await login("staff1")), 201)
    supervisor2 = await login("supervisor2")
    timeline = ok(await client.get(f"{url}/timeline", headers=supervisor2))
    assert timeline[-1]["note"] == "车主电话已查到"
    assert timeline[-1]["actor"]["display_name"] == await _display_name(
        client, await login("staff1")
    )
    assert ok(await client.get(url, headers=supervisor2))["reporter"] is not None


# --- where and when photos were taken ------------------------------------------------------


@pytest.fixture
async def whistled_case(
    submit: SubmitFn, client: httpx.AsyncClient, login: LoginFn
) -> dict[str, Any]:
    """courier1 reports in 东街社区 with a photo that has GPS and a capture time; the banner's
    supervisor accepts; staff1 whistles 旗农牧和科技局 (unit1), which accepts and reports
    progress with a photo of its own. Keeps the answers to the supervisor and to staff1."""
    filed = ok(await submit("courier1", photos=[GPS_PHOTO]), 201)
    url = f"/api/v1/reports/{filed['id']}"
    accepted = ok(await client.post(f"{url}/accept", json={}, headers=await login("supervisor")))
    whistled = ok(
        await client.post(
            f"{url}/whistle", json={"unit_ids": [LEAD_UNIT]}, headers=await login("staff1")
        )
    )
    unit1 = await login("unit1")
    [job] = whistled["jobs"]
    ok(await client.post(f"/api/v1/jobs/{job['id']}/accept", json={}, headers=unit1))
    ok(
        await client.post(
            f"/api/v1/jobs/{job['id']}/progress",
            data={"note": "已到现场"},
            files=[("photos", (GPS_PHOTO[0], GPS_PHOTO[1], "image/jpeg"))],
            headers=unit1,
        )
    )
    return {"filed": filed, "accepted": accepted, "whistled": whistled}


# Who sees where and when the reporter's photo was taken: the reporter, the case's community
# (staff and grid workers) and admins; not supervisors, dashboard viewers or units.
REPORT_PHOTO = {
    "courier1": True,
    "staff1": True,
    "grid1": True,
    "admin": True,
    "supervisor": False,
    "supervisor2": False,
    "viewer": False,
    "unit1": False,
}


async def test_the_report_photos_capture_data_per_role(
    client: httpx.AsyncClient, login: LoginFn, whistled_case: dict[str, Any]
) -> None:
    report_id = whistled_case["filed"]["id"]
    in_detail, in_list = {}, {}
    for username in REPORT_PHOTO:
        headers = await login(username)
        detail = ok(await client.get(f"/api/v1/reports/{report_id}", headers=headers))
        in_detail[username] = capture_data_shown(detail["photos"][0])
        listed = ok(await client.get("/api/v1/reports?limit=200", headers=headers))
        [item] = [r for r in listed["items"] if r["id"] == report_id]
        in_list[username] = capture_data_shown(item["photos"][0])
    assert in_detail == REPORT_PHOTO
    assert in_list == REPORT_PHOTO
    # The photo itself, and its doubts, are for everyone who sees the case.
    assert set(detail["photos"][0]["flags"]) == {
        "exif_far_from_report",
        "taken_long_before_submission",
    }


async def test_action_answers_show_capture_data_by_the_same_rule(
    whistled_case: dict[str, Any],
) -> None:
    assert capture_data_shown(whistled_case["filed"]["photos"][0])  # to courier1, who filed
    assert not capture_data_shown(whistled_case["accepted"]["photos"][0])  # to the supervisor
    assert capture_data_shown(whistled_case["whistled"]["photos"][0])  # to staff1


# The unit's progress photo: the unit that took it, the community and admins; not the reporter
# (someone else took it), supervisors or viewers.
PROGRESS_PHOTO = {
    "unit1": True,
    "staff1": True,
    "grid1": True,
    "admin": True,
    "courier1": False,
    "supervisor": False,
    "viewer": False,
}


async def test_timeline_photos_capture_data_per_role(
    client: httpx.AsyncClient, login: LoginFn, whistled_case: dict[str, Any]
) -> None:
    url = f"/api/v1/reports/{whistled_case['filed']['id']}/timeline"
    shown = {}
    for username in PROGRESS_PHOTO:
        timeline = ok(await client.get(url, headers=await login(username)))
        [progress] = [e for e in timeline if e["type"] == "job_progress"]
        [photo] = progress["photos"]
        shown[username] = capture_data_shown(photo)
    assert shown == PROGRESS_PHOTO


async def test_units_and_viewers_see_the_public_timeline_without_names(
    client: httpx.AsyncClient, login: LoginFn, whistled_case: dict[str, Any]
) -> None:
    url = f"/api/v1/reports/{whistled_case['filed']['id']}"
    note = {"body": "注意安全", "internal": True}
    ok(await client.post(f"{url}/comments", json=note, headers=await login("staff1")), 201)
    staff_view = ok(await client.get(f"{url}/timeline", headers=await login("staff1")))
    assert "注意安全" in [e["note"] for e in staff_view]
    for username in ("viewer", "unit1"):
        headers = await login(username)
        own_id = ok(await client.get("/api/v1/me", headers=headers))["id"]
        timeline = ok(await client.get(f"{url}/timeline", headers=headers))
        assert len(timeline) < len(staff_view)
        assert not any(e["is_internal"] for e in timeline), username
        assert all(e["actor"] is None or e["actor"]["id"] == own_id for e in timeline), username
        assert ok(await client.get(url, headers=headers))["reporter"] is None, username
