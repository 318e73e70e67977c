"""What the API process runs beside the requests, for the lifespan of the app: the live-event
broker, the community locator's first build and its LISTEN, and in the embedded default
(``embedded_worker``) the worker loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from app.core.config import Settings
from app.integrations.stream import event_broker
from app.org.locator_cache import LocatorCache
from app.worker import run_forever


@contextlib.asynccontextmanager
async def background_work(app: FastAPI) -> AsyncIterator[None]:
    """Start the broker (and the embedded worker); on shutdown stop the worker after its
    in-flight deliveries, or cancel it if they outlast the webhook timeout, then end every
    open stream."""
    settings: Settings = app.state.settings
    broker = event_broker(app)
    locator: LocatorCache = app.state.community_locator
    locator.start(settings)
    stop = asyncio.Event()
    worker = (
        asyncio.create_task(
            run_forever(
                app.state.sessionmaker, settings, app.state.clock, app.state.calendar, stop
            ),
            name="embedded-worker",
        )
        if settings.embedded_worker
        else None
    )
    try:
        yield
    finally:
        stop.set()
        if worker is not None:
            _, pending = await asyncio.wait({worker}, timeout=settings.webhook_timeout_seconds + 5)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await broker.close()
        await locator.close()
