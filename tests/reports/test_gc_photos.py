"""gc-photos removes stored files no report references, and nothing else."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from app.photos.gc import collect_orphans


async def test_orphans_older_than_the_grace_period_are_removed(app, submit, session) -> None:
    report = (await submit("courier1")).json()
    storage = app.state.photo_storage
    await storage.put("2026/01/01/orphan/display.jpg", b"left by a crash", "image/jpeg")
    await storage.put("2026/01/01/young/display.jpg", b"in flight", "image/jpeg")
    two_hours_ago = time.time() - 7200
    root = app.state.settings.photo_dir
    for path in root.rglob("*"):
        if path.is_file() and "young" not in str(path):
            os.utime(path, (two_hours_ago, two_hours_ago))

    result = await collect_orphans(session, storage, datetime.now(UTC))

    assert result.removed == 1
    assert result.scanned == 4
    remaining = {stored.key async for stored in storage.list_keys()}
    assert "2026/01/01/orphan/display.jpg" not in remaining
    assert "2026/01/01/young/display.jpg" in remaining
    assert len(remaining) == 3
    # the report's photo is still served
    assert report["photos"][0]["url"]
