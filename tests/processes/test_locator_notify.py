"""A boundary drawn through one API process is used by another within a second: the version
row's NOTIFY wakes the other's locator, with polling set far too slow to explain it."""

from __future__ import annotations

import time

import httpx

from tests.processes.conftest import API, Stack, sign_in, wait_until
from tests.processes.test_several_processes import (
    BAYIN_GACHA,
    SOUTH_OF_THE_VILLAGE,
    SURVEYED,
    locate,
)

# An hour: only a notification can bring the change in within the test.
NO_POLLING = {"SSP_GEO_INDEX_REFRESH_SECONDS": "3600"}
WITHIN_SECONDS = 1.0


async def test_a_boundary_edited_in_one_process_is_used_by_another_within_a_second(
    stack: Stack,
) -> None:
    api_a, api_b = stack.api("api-a", **NO_POLLING), stack.api("api-b", **NO_POLLING)
    await api_a.start()
    await api_b.start()
    async with httpx.AsyncClient(timeout=30) as http:
        admin = await sign_in(http, api_a.url, "admin")
        courier = await sign_in(http, api_b.url, "courier2")
    # B has built its snapshot, and the village's centre is too far from the point.
    assert await locate(api_b, courier, SOUTH_OF_THE_VILLAGE) is None

    async with httpx.AsyncClient(base_url=api_a.url + API, timeout=30) as http:
        surveyed = await http.patch(
            f"/communities/{BAYIN_GACHA}", json={"boundary": SURVEYED}, headers=admin
        )
    assert surveyed.status_code == 200, surveyed.text
    drawn = time.monotonic()
    village = {"id": str(BAYIN_GACHA), "name": "巴音嘎查"}

    async def located_by_b() -> bool:
        return bool(await locate(api_b, courier, SOUTH_OF_THE_VILLAGE) == village)

    await wait_until(located_by_b, WITHIN_SECONDS, "B to route by A's new boundary", 0.02)
    seen_by_b = time.monotonic() - drawn
    # The writer's own process had it before it answered.
    assert await locate(api_a, admin, SOUTH_OF_THE_VILLAGE) == village
    print(f"\nB routed by A's new boundary {seen_by_b * 1000:.0f} ms after A answered")
