"""The community and grid locator of one API process, kept in step with the database.

Lookups never wait for a rebuild. The process holds one immutable :class:`LocatorSnapshot`
and a lookup reads whichever one is current; a refresh builds the next one in the background
(the index in a worker thread when it is large) and swaps the reference in one assignment, so a
lookup made during a rebuild answers from the old snapshot. Only the very first lookup of a
process waits, for the first snapshot (the lifespan starts building it at startup).

A refresh reads the version row (app/org/locator_versions.py); if it moved, it reads again
only the communities changed since the snapshot's version (all of them if that is most) and
reuses everything else. Another process's change arrives by ``NOTIFY ssp_locator`` on
PostgreSQL, on one LISTEN connection per process; where there is none (SQLite, or while the
connection is lost) a lookup asks for a refresh at most every ``refresh_seconds`` instead.

A change made through this process is read by its writer's next request: the route commits
and then waits in :meth:`LocatorCache.catch_up` for a refresh begun after the commit, before
answering (app/org/deps.py). Waiting there, rather than in the lookups after it, costs the one
request that wrote a few milliseconds and leaves every other request of the process (intake
above all) answering from the snapshot it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.listen import keep_listening
from app.core.sql import member_of
from app.models import Community, Grid
from app.org.locator_snapshot import (
    CommunityRow,
    GridRow,
    Location,
    LocatorSnapshot,
    apply_changes,
    build_snapshot,
)
from app.org.locator_versions import NOTIFY_CHANNEL, changed_since, read_version

__all__ = ["Location", "LocatorCache"]

log = logging.getLogger("app.org.locator")

# Below this many areas a build takes well under a millisecond: handing it to a thread would
# cost more than it saves.
_BUILD_INLINE_MAX_AREAS = 200
# More changed communities than this (or than a quarter of them all) are read as a whole.
_INCREMENTAL_MAX_COMMUNITIES = 2000

Rows = tuple[list[CommunityRow], list[GridRow]]


class LocatorCache:
    """Locates points among the communities and grids of the database, from memory."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        max_distance_m: float,
        refresh_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_distance_m = max_distance_m
        self._sessionmaker = sessionmaker
        self._refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._snapshot: LocatorSnapshot | None = None
        self._next_check = 0.0
        # Refreshes asked for, and the number of the last request a finished pass began after.
        self._requested = 0
        self._done = 0
        self._progress = asyncio.Condition()
        self._pass_lock = asyncio.Lock()
        self._refresher: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self.listening = False

    @property
    def snapshot(self) -> LocatorSnapshot | None:
        return self._snapshot

    async def locate(
        self, lat: float, lng: float, max_distance_m: float | None = None
    ) -> Location | None:
        """The community covering the WGS-84 point, else the nearest within ``max_distance_m``
        (the routing distance of the settings by default), with its grid."""
        snapshot = self._snapshot
        if snapshot is None:
            snapshot = await self._first_snapshot()
        elif not self.listening and self._monotonic() >= self._next_check:
            self._next_check = self._monotonic() + self._refresh_seconds
            self.request_refresh()
        return snapshot.locate(
            lat, lng, self.max_distance_m if max_distance_m is None else max_distance_m
        )

    def request_refresh(self) -> int:
        """Have the background refresher look at the version row (soon, never now); the number
        of this request, for :meth:`catch_up`."""
        self._requested += 1
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.create_task(self._refresh_while_asked(), name="locator")
        return self._requested

    async def catch_up(self) -> None:
        """Return once a refresh begun after this call has ended: everything committed before
        it is in the snapshot (unless the database failed that refresh, which is logged)."""
        wanted = self.request_refresh()
        async with self._progress:
            await self._progress.wait_for(lambda: self._done >= wanted)

    def start(self, settings: Settings) -> None:
        """For the app's lifespan: build the first snapshot now, and on PostgreSQL follow the
        other processes' changes by LISTEN."""
        self.request_refresh()
        postgres = make_url(settings.database_url).get_backend_name() == "postgresql"
        if postgres and self._listener is None:
            listening = keep_listening(
                settings,
                NOTIFY_CHANNEL,
                self._on_notify,
                on_listening=self._listening_began,
                on_lost=self._listening_ended,
            )
            self._listener = asyncio.create_task(listening, name="locator-listen")

    async def close(self) -> None:
        for task in (self._listener, self._refresher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._listener = self._refresher = None
        self.listening = False

    async def _first_snapshot(self) -> LocatorSnapshot:
        # In the caller's task, so that a database that cannot serve fails this request.
        await self._refresh_once()
        assert self._snapshot is not None
        return self._snapshot

    async def _refresh_while_asked(self) -> None:
        while self._done < self._requested:
            began_after = self._requested
            try:
                await self._refresh_once()
            except Exception:
                log.exception("refreshing the community locator failed; keeping the old one")
                self._next_check = 0.0  # the next lookup asks again
            async with self._progress:
                self._done = began_after
                self._progress.notify_all()

    async def _refresh_once(self) -> None:
        async with self._pass_lock:
            snapshot = self._snapshot
            async with self._sessionmaker() as session:
                # The version first: rows read after it are at least as new, so a change
                # committed in between is only ever read twice, never missed.
                version = await read_version(session)
                if snapshot is not None and version == snapshot.version:
                    return
                changed = await self._changed(session, snapshot, version)
                rows = await _read_rows(session, changed)
            # The connection is back in the pool before the (possibly long) build.
            if snapshot is None or changed is None:
                build = functools.partial(build_snapshot, version, *rows)
                areas = len(rows[0]) + len(rows[1])
            else:
                build = functools.partial(apply_changes, snapshot, version, changed, *rows)
                areas = len(snapshot) + len(rows[1])
            fresh = build() if areas <= _BUILD_INLINE_MAX_AREAS else await asyncio.to_thread(build)
            self._snapshot = fresh

    @staticmethod
    async def _changed(
        session: AsyncSession, snapshot: LocatorSnapshot | None, version: int
    ) -> list[uuid.UUID] | None:
        """The communities to read again, or None for all of them."""
        if snapshot is None or version < snapshot.version:  # none yet, or a restored database
            return None
        changed = await changed_since(session, snapshot.version)
        if len(changed) > min(_INCREMENTAL_MAX_COMMUNITIES, max(len(snapshot) // 4, 1)):
            return None
        return changed

    def _listening_began(self) -> None:
        self.listening = True
        # A change committed before the LISTEN began was announced to nobody here.
        self.request_refresh()

    def _listening_ended(self) -> None:
        self.listening = False

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        snapshot = self._snapshot
        # This process's own changes arrive too, usually after its writer caught up.
        if snapshot is None or not payload.isdigit() or int(payload) != snapshot.version:
            self.request_refresh()


async def _read_rows(session: AsyncSession, changed: Collection[uuid.UUID] | None) -> Rows:
    """The communities (``changed`` ones, or all) and all their grids."""
    communities = select(
        Community.id,
        Community.name,
        Community.region_id,
        Community.boundary_wkb,
        Community.center_lat,
        Community.center_lng,
    )
    grids = select(Grid.id, Grid.community_id, Grid.name, Grid.boundary_wkb)
    # GeoJSON only for boundaries written without their WKB (around the API).
    community_json = select(Community.id, Community.boundary).where(
        Community.boundary_wkb.is_(None), Community.boundary.is_not(None)
    )
    grid_json = select(Grid.id, Grid.boundary).where(
        Grid.boundary_wkb.is_(None), Grid.boundary.is_not(None)
    )
    if changed is not None:
        if not changed:
            return [], []
        communities = communities.where(member_of(session, Community.id, changed))
        community_json = community_json.where(member_of(session, Community.id, changed))
        grids = grids.where(member_of(session, Grid.community_id, changed))
        grid_json = grid_json.where(member_of(session, Grid.community_id, changed))
    community_geojson: dict[uuid.UUID, Any] = {
        row[0]: row[1] for row in await session.execute(community_json)
    }
    grid_geojson: dict[uuid.UUID, Any] = {
        row[0]: row[1] for row in await session.execute(grid_json)
    }
    return (
        [
            CommunityRow(*row, boundary=community_geojson.get(row[0]))
            for row in await session.execute(communities)
        ],
        [GridRow(*row, boundary=grid_geojson.get(row[0])) for row in await session.execute(grids)],
    )
