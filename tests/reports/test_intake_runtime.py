"""What the API process sets up for photo uploads: uploads parsed in memory, Pillow working in
large blocks, a bounded number of malloc arenas; the database pool's pre-ping as configured."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fastapi import FastAPI
from PIL import ImageFile

from app.core.config import Settings
from app.core.db import create_engine
from app.core.runtime import PILLOW_BLOCK_BYTES
from tests.reports.conftest import SubmitFn, photo_bytes

PHONE_PHOTO = "HMD_Nokia_8.3_5G.jpg"  # 2 MB: over Starlette's default 1 MB spool


async def test_a_phone_photo_is_parsed_in_memory(
    app: FastAPI, submit: SubmitFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    rollovers: list[int] = []
    real_rollover = tempfile.SpooledTemporaryFile.rollover

    def counting_rollover(self: tempfile.SpooledTemporaryFile[bytes]) -> None:
        rollovers.append(1)
        real_rollover(self)

    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "rollover", counting_rollover)
    data = photo_bytes(PHONE_PHOTO)
    assert len(data) > 1024 * 1024
    response = await submit("courier1", photos=[(PHONE_PHOTO, data)])
    assert response.status_code == 201, response.text
    assert rollovers == []


async def test_a_file_over_the_photo_limit_is_still_refused_by_name(
    app: FastAPI, settings: Settings, submit: SubmitFn
) -> None:
    """Kept in memory up to the limit, not beyond: one byte more is refused, naming the file."""
    too_big = b"\xff\xd8\xff" + b"\0" * settings.max_photo_bytes
    response = await submit("courier1", photos=[("big.jpg", too_big)])
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"loc": ["body", "photos", 0], "msg": "photo 0 (big.jpg) is larger than 15 MB"}
    ]


def test_pillow_works_in_large_blocks(app: FastAPI) -> None:
    assert ImageFile.MAXBLOCK >= PILLOW_BLOCK_BYTES


@pytest.mark.parametrize("pre_ping", [False, True])
def test_pre_ping_follows_the_setting(tmp_path: Path, pre_ping: bool) -> None:
    settings = Settings(
        env="test",
        database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/unused",
        database_pre_ping=pre_ping,
        photo_dir=tmp_path,
    )
    engine = create_engine(settings)  # no connection is made
    assert engine.sync_engine.pool._pre_ping is pre_ping
