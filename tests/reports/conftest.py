"""Helpers for report tests: the real sample photos and a submit helper."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Community
from tests.conftest import LoginFn

PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "photos"
# Inside 东街社区 (community 1 of the demo), WGS-84.
COMMUNITY_1_POINT = (40.8436, 107.1499)


def photo_bytes(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


async def community_centre(session: AsyncSession, name: str) -> tuple[float, float]:
    """The centre point of a demo community, by its name."""
    community = await session.scalar(select(Community).where(Community.name == name))
    assert community is not None
    assert community.center_lat is not None
    assert community.center_lng is not None
    return community.center_lat, community.center_lng


SubmitFn = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def community_1_point(session: AsyncSession) -> tuple[float, float]:
    return COMMUNITY_1_POINT


@pytest.fixture
def submit(client: httpx.AsyncClient, login: LoginFn) -> SubmitFn:
    """``await submit("courier1", lat=…, photos=[("a.jpg", bytes)], **fields)``."""

    async def _submit(
        username: str,
        *,
        lat: float | str = COMMUNITY_1_POINT[0],
        lng: float | str = COMMUNITY_1_POINT[1],
        category_code: str = "chaotic_parking",
        description: str = "巷子里乱停车，消防车进不去",
        photos: list[tuple[str, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> httpx.Response:
        data = {
            "category_code": category_code,
            "description": description,
            "lat": str(lat),
            "lng": str(lng),
            **{k: str(v) for k, v in fields.items() if v is not None},
        }
        if photos is None:
            photos = [("Canon_40D.jpg", photo_bytes("Canon_40D.jpg"))]
        files = [("photos", (name, content, "image/jpeg")) for name, content in photos]
        return await client.post(
            "/api/v1/reports",
            data=data,
            files=files,
            headers={**(await login(username)), **(headers or {})},
        )

    return _submit
