"""Row ids are UUIDv7: time-ordered, strictly increasing in a process, unique across threads."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from typing import Any

import httpx

from app.models.ids import id_time_ms, new_id
from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT, photo_bytes


def test_an_id_is_a_version_7_uuid_of_this_moment() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    assert before <= id_time_ms(made) <= after + 1


def test_ids_made_one_after_another_only_go_up() -> None:
    ids = [new_id() for _ in range(20_000)]  # many in each millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(str(a) < str(b) for a, b in itertools.pairwise(ids))


def test_ids_made_by_threads_at_once_never_collide() -> None:
    made: list[uuid.UUID] = []

    def make() -> None:
        made.extend(new_id() for _ in range(5_000))

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 20_000


async def _file(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    lat, lng = COMMUNITY_1_POINT
    filed = await client.post(
        "/api/v1/reports",
        data={
            "category_code": "exposed_garbage",
            "description": "垃圾堆放",
            "lat": str(lat),
            "lng": str(lng),
        },
        files=[("photos", ("a.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"))],
        headers=headers,
    )
    assert filed.status_code == 201, filed.text
    body: dict[str, Any] = filed.json()
    return body


async def test_rows_the_api_writes_get_time_ordered_ids(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    courier = await login("courier1")
    first, second = await _file(client, courier), await _file(client, courier)
    ids = [uuid.UUID(first["id"]), uuid.UUID(second["id"])]
    assert [i.version for i in ids] == [7, 7]
    assert ids[0] < ids[1]
    assert uuid.UUID(second["photos"][0]["id"]).version == 7
    timeline = (
        await client.get(f"/api/v1/reports/{second['id']}/timeline", headers=await login("staff1"))
    ).json()
    assert uuid.UUID(timeline[0]["id"]).version == 7
