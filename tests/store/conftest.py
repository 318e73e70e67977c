"""The ``store`` fixture: the points store as its users, its shops and the database see it."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Reward
from tests.store.support import Store


@pytest.fixture
async def store(client: httpx.AsyncClient, session: AsyncSession) -> Store:
    """The store with empty shelves: the demo's items are taken down first, so that what a test
    sees on a shelf is what it put there."""
    await session.execute(delete(Reward))
    await session.commit()
    return Store(client, session)
