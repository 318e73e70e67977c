"""Row ids are UUIDv7: time-ordered, strictly increasing in a process, unique across threads."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from app.models.ids import id_at, id_floor, id_moment, id_time_ms, new_id
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


def test_an_id_bound_holds_any_moment_a_client_may_send() -> None:
    """A list's period from a client bounds the case ids too (app/core/pruning.py): a year 207
    or 9999 must give a bound, not an error."""
    long_ago = datetime(207, 5, 29, tzinfo=UTC)
    far_ahead = datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    assert id_floor(long_ago) == uuid.UUID(int=0)
    assert id_floor(far_ahead, milliseconds_later=1) > id_floor(far_ahead)
    now = datetime.now(UTC)
    made = id_at(now)
    assert id_floor(now) <= made < id_floor(now, milliseconds_later=1)
    assert id_moment(made) == now.replace(microsecond=now.microsecond // 1000 * 1000)
