"""Replicas that start together and each migrate do not race: the migrations take a PostgreSQL
advisory lock, so the second waits for the first, then finds the schema at head and does
nothing."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.core.db import create_engine
from app.core.migrations import head_revisions
from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not PG_URL, reason="advisory locks are PostgreSQL's")

# Each process imports everything first, then starts at the same instant.
UPGRADE_AT = """
import sys, time
from app.core.migrations import upgrade
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
upgrade(sys.argv[1])
"""


async def test_two_replicas_migrating_at_once_both_succeed(empty_database: str) -> None:
    start = time.time() + 4
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            UPGRADE_AT,
            empty_database,
            str(start),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outcomes = [await asyncio.wait_for(p.communicate(), 120) for p in processes]
    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr.decode()[-3000:]

    engine = create_engine(Settings(env="test", database_url=empty_database))
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            tables = await conn.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_name = 'reports'")
            )
    finally:
        await engine.dispose()
    assert sorted(v for (v,) in versions) == sorted(head_revisions())
    assert tables == 1
