"""The actions that bring photos — a unit's progress and completion, the community's own
resolution, the check — take photos uploaded first (``POST /uploads``, one per request, as a
mini-program sends them) by id in a JSON body, as a report does. The photos land on the case
under the uploads' ids; an upload that is not the caller's is refused naming it, and stays its
owner's to use; files and ids together are refused."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LoginFn
from tests.jobs.conftest import LEAD, PHOTO, CaseFn, WhistleFn, jobs_by_unit, ok, problem


async def _upload(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    """One photo uploaded as ``wx.uploadFile`` sends it: its id."""
    answer = await client.post("/api/v1/uploads", files=[("file", PHOTO)], headers=headers)
    assert answer.status_code == 201, answer.text
    upload_id: str = answer.json()["id"]
    return upload_id


async def _photos_of(
    client: httpx.AsyncClient, headers: dict[str, str], report_id: str
) -> dict[str, list[str]]:
    """The ids of the photos each timeline entry brought, by entry type."""
    timeline = ok(await client.get(f"/api/v1/reports/{report_id}/timeline", headers=headers))
    events: list[dict[str, Any]] = timeline  # type: ignore[assignment]
    return {e["type"]: [p["id"] for p in e["photos"]] for e in events if e["photos"]}


async def test_a_unit_reports_progress_and_completes_with_photos_uploaded_first(
    client: httpx.AsyncClient, login: LoginFn, accepted_case: CaseFn, whistle: WhistleFn
) -> None:
    report = await accepted_case()
    assert (await whistle(report["id"], [LEAD])).status_code == 200
    unit1, staff1 = await login("unit1"), await login("staff1")
    job = (await jobs_by_unit(client, unit1, report["id"]))[LEAD]
    job_url = f"/api/v1/jobs/{job['id']}"
    ok(await client.post(f"{job_url}/accept", json={}, headers=unit1))
    during, first_after, second_after = [await _upload(client, unit1) for _ in range(3)]

    progress = await client.post(
        f"{job_url}/progress", json={"note": "正在施工", "photo_ids": [during]}, headers=unit1
    )
    assert progress.status_code == 200, progress.text
    completed = await client.post(
        f"{job_url}/complete",
        json={"note": "已修复", "photo_ids": [first_after, second_after]},
        headers=unit1,
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["report_status"] == "resolved"

    photos = await _photos_of(client, staff1, report["id"])
    assert during in [p for ids in photos.values() for p in ids]
    assert [first_after, second_after] in photos.values()
    # Their signed links open without a token, as every photo link in an answer does.
    case = ok(await client.get(f"/api/v1/reports/{report['id']}", headers=staff1))
    assert case["status"] == "resolved"
    checked = await client.post(
        f"/api/v1/reports/{report['id']}/verify", json={"passed": True}, headers=staff1
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["status"] == "closed"


async def test_the_community_resolves_with_its_own_upload_and_not_with_anothers(
    client: httpx.AsyncClient, login: LoginFn, accepted_case: CaseFn
) -> None:
    report = await accepted_case()
    staff1, courier1 = await login("staff1"), await login("courier1")
    url = f"/api/v1/reports/{report['id']}"
    ok(await client.post(f"{url}/start", json={}, headers=staff1))
    theirs = await _upload(client, courier1)

    refused = await client.post(
        f"{url}/resolve", json={"note": "已处理", "photo_ids": [theirs]}, headers=staff1
    )
    body = problem(refused, 422, "validation_error")
    assert [error["loc"] for error in body["errors"]] == [["body", "photo_ids", 0]]
    assert theirs in body["errors"][0]["msg"]
    assert ok(await client.get(url, headers=staff1))["status"] == "in_progress"

    own = await _upload(client, staff1)
    resolved = await client.post(
        f"{url}/resolve", json={"note": "已处理", "photo_ids": [own]}, headers=staff1
    )
    assert resolved.status_code == 200, resolved.text
    assert list((await _photos_of(client, staff1, report["id"])).values()) == [[own]]
    # The courier's upload is still theirs to use.
    photo = await client.get(f"/api/v1/photos/{theirs}", headers=courier1)
    assert photo.status_code == 200


async def test_files_and_photo_ids_together_are_refused(
    client: httpx.AsyncClient, login: LoginFn, accepted_case: CaseFn
) -> None:
    report = await accepted_case()
    staff1 = await login("staff1")
    url = f"/api/v1/reports/{report['id']}"
    ok(await client.post(f"{url}/start", json={}, headers=staff1))
    upload = await _upload(client, staff1)
    both = await client.post(
        f"{url}/resolve",
        data={"note": "已处理", "photo_ids": upload},
        files=[("photos", PHOTO)],
        headers=staff1,
    )
    body = problem(both, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "photo_ids"]
    # JSON without any photo of the result is refused as a form without one is.
    bare = await client.post(f"{url}/resolve", json={"note": "已处理"}, headers=staff1)
    problem(bare, 422, "validation_error")
    assert ok(await client.get(url, headers=staff1))["status"] == "in_progress"
