"""随手清: a courier who clears a hazard on the spot files it as handled, with "after" photos
besides the "before" ones. The case is filed as resolved (no unit, no clock) and waits for the
community's check: passed, it is closed and earns its own points; failed, it becomes an ordinary
accepted case with its resolve-by deadline, and earns what an accepted case earns. Open311 reads
it closed with a note. A handled report needs an after photo; after photos need the flag."""

from __future__ import annotations

from typing import Any

import httpx

from app.demo.keys import DEMO_DASHBOARD_KEY
from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT, SubmitFn, photo_bytes

AFTER = ("after.jpg", photo_bytes("DSCN0010.jpg"), "image/jpeg")
SELF_RESOLVED_POINTS = 20  # the default of SSP_POINTS_SELF_RESOLVED


async def _points(client: httpx.AsyncClient, login: LoginFn) -> list[tuple[str, int]]:
    mine = await client.get("/api/v1/points/me", headers=await login("courier1"))
    assert mine.status_code == 200, mine.text
    return [(entry["rule"], entry["points"]) for entry in mine.json()["items"]]


async def _summary(client: httpx.AsyncClient, login: LoginFn) -> dict[str, Any]:
    answer = await client.get("/api/v1/stats/summary", headers=await login("supervisor"))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _check(
    client: httpx.AsyncClient, login: LoginFn, report_id: str, *, passed: bool
) -> dict[str, Any]:
    checked = await client.post(
        f"/api/v1/reports/{report_id}/verify",
        json={"passed": passed},
        headers=await login("staff1"),
    )
    assert checked.status_code == 200, checked.text
    body: dict[str, Any] = checked.json()
    return body


async def _file_cleared(client: httpx.AsyncClient, login: LoginFn) -> dict[str, Any]:
    lat, lng = COMMUNITY_1_POINT
    response = await client.post(
        "/api/v1/reports",
        data={
            "category_code": "piled_rubbish",
            "description": "巷口的砖头已经清走了",
            "lat": str(lat),
            "lng": str(lng),
            "handled_on_the_spot": "true",
        },
        files=[
            ("photos", ("before.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")),
            ("after_photos", AFTER),
        ],
        headers=await login("courier1"),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_hazard_cleared_on_the_spot_is_filed_resolved_and_closed_by_the_check(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    before = await _summary(client, login)
    filed = await _file_cleared(client, login)
    assert filed["status"] == "resolved"
    assert filed["handled_on_the_spot"] is True
    assert filed["deadlines"] == []  # nothing to accept, nothing to finish
    assert [photo["kind"] for photo in filed["photos"]] == ["report", "resolution"]
    timeline = await client.get(
        f"/api/v1/reports/{filed['id']}/timeline", headers=await login("staff1")
    )
    (submitted,) = timeline.json()
    assert submitted["to_status"] == "resolved"
    assert [p["id"] for p in submitted["photos"]] == [filed["photos"][1]["id"]]

    closed = await _check(client, login, filed["id"], passed=True)
    assert closed["status"] == "closed"
    assert closed["accepted_at"] is None
    assert ("self_resolved", SELF_RESOLVED_POINTS) in await _points(client, login)
    assert [rule for rule, _ in await _points(client, login)] == ["self_resolved"]
    # Counted on its own, not among the cases closed through the case's path.
    after = await _summary(client, login)
    assert after["self_resolved"] == before["self_resolved"] + 1
    assert after["closed"] == before["closed"]

    # Open311 reads it closed, saying how (with the banner's key: 东街社区 is in it).
    open311 = await client.get(
        f"/open311/v2/requests/{filed['number']}.json", params={"api_key": DEMO_DASHBOARD_KEY}
    )
    assert open311.status_code == 200, open311.text
    (request,) = open311.json()
    assert request["status"] == "closed"
    assert "随手清" in request["status_notes"]


async def test_a_failed_check_makes_it_an_ordinary_accepted_case(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    filed = await _file_cleared(client, login)
    failed = await _check(client, login, filed["id"], passed=False)
    assert failed["status"] == "accepted"
    assert failed["accepted_at"] is not None
    assert failed["rework_count"] == 0
    assert [d["kind"] for d in failed["deadlines"]] == ["resolve"]
    assert await _points(client, login) == [("accepted", 10)]
    # From here on the ordinary path: the community takes it on itself.
    started = await client.post(
        f"/api/v1/reports/{filed['id']}/start", json={}, headers=await login("staff1")
    )
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "in_progress"


async def test_after_photos_come_with_the_flag_and_the_flag_with_after_photos(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    without_after = await submit("courier1", handled_on_the_spot="true")
    assert without_after.status_code == 422, without_after.text
    assert without_after.json()["errors"][0]["loc"] == ["body", "after_photos"]

    lat, lng = COMMUNITY_1_POINT
    without_flag = await client.post(
        "/api/v1/reports",
        data={"category_code": "piled_rubbish", "description": "砖头", "lat": lat, "lng": lng},
        files=[("photos", AFTER), ("after_photos", AFTER)],
        headers=await login("courier1"),
    )
    assert without_flag.status_code == 422, without_flag.text
    assert without_flag.json()["errors"][0]["loc"] == ["body", "handled_on_the_spot"]


async def test_a_mini_program_files_it_with_uploads(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    courier = await login("courier1")
    ids = []
    for photo in (("before.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"), AFTER):
        upload = await client.post("/api/v1/uploads", files=[("file", photo)], headers=courier)
        assert upload.status_code == 201, upload.text
        ids.append(upload.json()["id"])
    lat, lng = COMMUNITY_1_POINT
    filed = await client.post(
        "/api/v1/reports",
        json={
            "category_code": "piled_rubbish",
            "description": "已清理",
            "lat": lat,
            "lng": lng,
            "photo_ids": [ids[0]],
            "handled_on_the_spot": True,
            "after_photo_ids": [ids[1]],
        },
        headers=courier,
    )
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert body["status"] == "resolved"
    assert [(p["id"], p["kind"]) for p in body["photos"]] == [
        (ids[0], "report"),
        (ids[1], "resolution"),
    ]
