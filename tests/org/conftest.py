"""Fixtures for the organisation tests: the demo's ids by name, and boundaries to draw."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from app.demo.seed import demo_id

Headers = dict[str, str]


class DemoIds:
    """Ids of demo rows the tests refer to (the seed derives every id from names)."""

    city: uuid.UUID = demo_id("region", "巴彦淖尔市")
    banner: uuid.UUID = demo_id("region", "杭锦后旗")
    seat: uuid.UUID = demo_id("region", "陕坝镇")  # township of communities 1 and 2
    toudaoqiao_town: uuid.UUID = demo_id("region", "头道桥镇")
    tuanjie_town: uuid.UUID = demo_id("region", "团结镇")
    # Community 1 (staff1, grid1, courier1 and courier2 approved, courier11/12 pending).
    east_street: uuid.UUID = demo_id("community", "陕坝镇", "东街社区")
    # Community 2 (staff2, courier13 pending).
    north_street: uuid.UUID = demo_id("community", "陕坝镇", "北街社区")
    toudaoqiao: uuid.UUID = demo_id("community", "头道桥镇", "头道桥社区")
    # A village with a centre but no boundary.
    bayin: uuid.UUID = demo_id("community", "团结镇", "巴音嘎查")
    farming_bureau: uuid.UUID = demo_id("unit", "旗农牧和科技局")  # unit1, paired with 东街
    red_cross: uuid.UUID = demo_id("unit", "旗红十字会")  # unit2, paired with 东街
    transport_bureau: uuid.UUID = demo_id("unit", "旗交通运输局")  # unit3, not paired with 东街
    sf_express: uuid.UUID = demo_id("courier_company", "顺丰速运")
    sf_branch: uuid.UUID = demo_id("courier_branch", "顺丰速运", "顺丰速运杭锦后旗营业部")
    zto_branch: uuid.UUID = demo_id("courier_branch", "中通快递", "中通快递杭锦后旗分部")


@pytest.fixture
def demo() -> DemoIds:
    return DemoIds()


@pytest.fixture
async def admin(login: Callable[[str], Any]) -> Headers:
    headers: Headers = await login("admin")
    return headers


def _square(lng: float, lat: float, half: float = 0.002) -> dict[str, Any]:
    ring = [
        [lng - half, lat - half],
        [lng + half, lat - half],
        [lng + half, lat + half],
        [lng - half, lat + half],
        [lng - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def square() -> Callable[..., dict[str, Any]]:
    """``square(lng, lat, half=0.002)``: a GeoJSON square around a point, in open country east of
    the demo's towns unless told otherwise."""
    return _square


@pytest.fixture
def bowtie() -> dict[str, Any]:
    """A self-intersecting ring: two triangles crossing at (107.41, 40.91)."""
    return {
        "type": "Polygon",
        "coordinates": [
            [[107.40, 40.90], [107.42, 40.92], [107.42, 40.90], [107.40, 40.92], [107.40, 40.90]]
        ],
    }
