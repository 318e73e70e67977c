"""The background worker: outbox fan-out, webhook delivery, the overdue sweep and the pruning
of outbox events and deliveries past retention (app/integrations/retention.py).

``python -m app worker`` runs ``run_forever`` in its own process (production: as many as
wanted, they never step on each other — see app/integrations/delivery.py and the sweep's own
notes); in the embedded default the API process runs the same loop as a task
(app/lifecycle.py).

A pass runs every step even when an earlier one failed: a receiver that breaks the delivery
step must not stop overdue cases from being raised, and the reverse. A failure is logged and
the step is tried again on the next pass. Each step drains its work (fan-out until no event is
left, delivery until nothing is due), so the interval only spaces out passes that find the
queues empty."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.calendar.cache import CalendarCache
from app.core.clock import Clock
from app.core.config import Settings
from app.core.database_faults import DatabaseUnavailable, watch_for_unavailability
from app.core.day_partitions import DAYS_AHEAD, make_days_ahead
from app.core.db import create_engine, create_sessionmaker
from app.core.metrics_access import serve_worker_metrics
from app.core.partitions import lock_timed_out, make_ahead
from app.core.storage import PhotoStorage, build_storage
from app.core.workcalendar import CalendarSource
from app.integrations.delivery import (
    DeliveryCounts,
    deliver_due,
    fan_out,
    new_http_client,
)
from app.integrations.retention import PruneResult, prune
from app.photos.pending import expire_uploads
from app.privacy.retention import PersonalDataPruned, prune_personal_data
from app.workflow.overdue import sweep_overdue

log = logging.getLogger("app.worker")


@dataclass
class PassResult:
    fanned_out: int = 0
    deliveries: DeliveryCounts = field(default_factory=DeliveryCounts)
    overdue: int = 0
    pruned: PruneResult = field(default_factory=PruneResult)
    personal_data_pruned: PersonalDataPruned = field(default_factory=PersonalDataPruned)
    uploads_expired: int = 0
    partitions_made: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)


async def _sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    calendar: CalendarSource,
) -> int:
    # The calendar in force now: a change another process made reaches the sweep within the
    # refresh interval.
    working_calendar = await calendar.current()
    return await sweep_overdue(sessionmaker, clock.now(), working_calendar, settings)


async def _make_partitions(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> list[str]:
    """The coming months' and days' partitions (PostgreSQL): two catalogue reads a pass when
    they are all there. A table too busy to lock for a moment is left to a later pass (they
    are made days and months ahead)."""
    try:
        async with sessionmaker() as session, session.begin():
            return await make_ahead(
                session, clock.now(), settings.partition_months_ahead
            ) + await make_days_ahead(session, clock.now(), DAYS_AHEAD)
    except DBAPIError as exc:
        if not lock_timed_out(exc):
            raise
        log.info("a table was busy; its partitions are made on a later pass")
        return []


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    calendar: CalendarSource,
    http: httpx.AsyncClient,
    stop: asyncio.Event | None = None,
    storage: PhotoStorage | None = None,
) -> PassResult:
    """One pass: fan new events out, send due deliveries, sweep overdue clocks, prune what
    outlived retention, remove the uploads nobody claimed, make the coming months' partitions.
    The sweep runs before the fan-out so that the events it writes leave in the same pass."""
    result = PassResult()

    async def step(name: str, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except DatabaseUnavailable:
            # Said once in a while by the engine's watcher (the reason, not a stack trace per
            # step and pass): every step waits for the database alike.
            result.failed_steps.append(name)
        except Exception:
            log.exception("worker step %s failed; it runs again on the next pass", name)
            result.failed_steps.append(name)

    async def sweep() -> None:
        result.overdue = await _sweep(sessionmaker, settings, clock, calendar)

    async def fan() -> None:
        result.fanned_out = await fan_out(sessionmaker, clock.now())

    async def deliver() -> None:
        result.deliveries = await deliver_due(sessionmaker, settings, clock, http, stop)

    async def prune_old_rows() -> None:
        result.pruned = await prune(sessionmaker, settings, clock.now())

    async def prune_personal() -> None:
        result.personal_data_pruned = await prune_personal_data(sessionmaker, settings, clock.now())

    await step("overdue_sweep", sweep)
    await step("fan_out", fan)
    await step("deliver", deliver)
    await step("prune", prune_old_rows)

    async def expire() -> None:
        photos = storage or build_storage(settings)
        result.uploads_expired = await expire_uploads(sessionmaker, photos, clock.now())

    async def make_partitions() -> None:
        result.partitions_made = await _make_partitions(sessionmaker, settings, clock)

    await step("prune_personal_data", prune_personal)
    await step("expire_uploads", expire)
    await step("partitions", make_partitions)
    return result


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    calendar: CalendarSource,
    stop: asyncio.Event,
) -> None:
    """Run passes every ``worker_interval_seconds`` until ``stop`` is set; the pass under way
    finishes its in-flight requests first (each bounded by the webhook timeout)."""
    log.info("worker started (every %g s)", settings.worker_interval_seconds)
    storage = build_storage(settings)
    async with new_http_client(settings) as http:
        while not stop.is_set():
            result = await run_once(sessionmaker, settings, clock, calendar, http, stop, storage)
            if result.fanned_out or result.overdue or result.deliveries.delivered:
                log.info(
                    "worker pass: %d events fanned out, %d delivered, %d to retry, %d parked, "
                    "%d overdue clocks",
                    result.fanned_out,
                    result.deliveries.delivered,
                    result.deliveries.retrying,
                    result.deliveries.parked,
                    result.overdue,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.worker_interval_seconds)
    log.info("worker stopped")


async def serve_worker(settings: Settings) -> None:
    """The ``python -m app worker`` process: the loop until SIGTERM or SIGINT."""
    engine = create_engine(settings)
    # A database outage is one warning every few seconds, as in the API, not a stack trace
    # from every step of every pass.
    watch_for_unavailability(engine)
    stop = asyncio.Event()
    if settings.worker_metrics_port:
        serve_worker_metrics(settings)  # the same access rule as the API's /metrics
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    sessionmaker = create_sessionmaker(engine)
    calendar = CalendarCache(sessionmaker, refresh_seconds=settings.calendar_refresh_seconds)
    try:
        await run_forever(sessionmaker, settings, Clock(), calendar, stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await engine.dispose()
