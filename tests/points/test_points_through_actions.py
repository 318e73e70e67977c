"""Points earned through the report actions: accept pays, closing pays a bonus once, a
reopened case closed again pays nothing more, rejected and duplicate reports pay nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LoginFn
from tests.points.conftest import FileReportFn
from tests.reports.conftest import photo_bytes

AFTER_PHOTO = ("photos", ("after.jpg", photo_bytes("DSCN0010.jpg"), "image/jpeg"))


async def _act(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    report_id: str,
    action: str,
    **kwargs: Any,
) -> dict[str, Any]:
    if "data" not in kwargs:
        kwargs.setdefault("json", {})
    response = await client.post(f"/api/v1/reports/{report_id}/{action}", headers=headers, **kwargs)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def _close_in_house(client: httpx.AsyncClient, staff: dict[str, str], rid: str) -> None:
    await _act(client, staff, rid, "start")
    await _act(client, staff, rid, "resolve", data={"note": "已处理"}, files=[AFTER_PHOTO])
    closed = await _act(client, staff, rid, "verify", data={"passed": "true"})
    assert closed["status"] == "closed"


async def test_the_case_loop_pays_once_per_rule(
    client: httpx.AsyncClient, login: LoginFn, file_report: FileReportFn
) -> None:
    staff, courier = await login("staff1"), await login("courier1")
    valid = str((await file_report("courier1")).id)
    rejected = str((await file_report("courier1")).id)
    duplicate = str((await file_report("courier1")).id)

    assert (await _act(client, staff, valid, "accept"))["status"] == "accepted"
    retried = await client.post(f"/api/v1/reports/{valid}/accept", json={}, headers=staff)
    assert retried.status_code == 409
    await _act(client, staff, rejected, "reject", json={"reason": "不属于公共区域"})
    await _act(client, staff, duplicate, "mark-duplicate", json={"duplicate_of": valid})
    await _close_in_house(client, staff, valid)
    await _act(client, staff, valid, "reopen", json={"reason": "居民反映车辆又停回来了"})
    await _close_in_house(client, staff, valid)

    mine = (await client.get("/api/v1/points/me", headers=courier)).json()
    assert mine["balance"] == 15
    assert sorted((e["rule"], e["points"], e["report"]["id"]) for e in mine["items"]) == [
        ("accepted", 10, valid),
        ("closed_bonus", 5, valid),
    ]
    board = (await client.get("/api/v1/leaderboard?scope=company", headers=courier)).json()
    assert [(e["name"], e["points"], e["reports"]) for e in board["items"]] == [("顺丰速运", 15, 1)]
