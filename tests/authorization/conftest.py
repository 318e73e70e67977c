"""The authorisation matrix's world: built once per test process on its own clone of the demo
database, and shared by every operation's test (each makes the objects it uses up)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.authorization.world import World
from tests.conftest import DatabaseFactory


@pytest.fixture(scope="session")
async def world(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    url = await database_factory.clone_template()
    built = await World.build(url, tmp_path_factory.mktemp("authorization"))
    yield built
    await built.close()
    await database_factory.drop(url)
