"""Who sees which live event: the rule, decided from the fields copied onto each event (the
same rules as the report list, app/auth/scope.py), and its narrowing in the database, so that
a stream's catch-up and the latest events read only rows that may be the caller's."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from fastapi.sse import ServerSentEvent
from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import REGION_ROLES, STAFF_ROLES
from app.core.sql import member_of
from app.integrations.signing import event_envelope
from app.models import Job, OutboxEvent
from app.models.enums import Role


@dataclass(frozen=True)
class LiveEvent:
    """An outbox event as streams need it: who may see it, and its text, encoded once."""

    id: int
    type: str
    community_id: uuid.UUID | None
    region_path: str | None
    unit_ids: frozenset[str]
    reporter_id: uuid.UUID | None
    data: str

    @classmethod
    def from_row(cls, row: OutboxEvent) -> LiveEvent:
        return cls(
            id=row.id,
            type=row.type,
            community_id=row.community_id,
            region_path=row.region_path,
            unit_ids=frozenset(row.unit_ids or ()),
            reporter_id=row.reporter_id,
            data=json.dumps(event_envelope(row), ensure_ascii=False, separators=(",", ":")),
        )

    def to_sse(self) -> ServerSentEvent:
        # ``data`` is the event's JSON already: sent as it is, not encoded again.
        return ServerSentEvent(id=str(self.id), event=self.type, raw_data=self.data)


class Audience:
    """Which events a caller may see, decided from the fields copied onto each event — the
    same rules as the report list (app/auth/scope.py), without touching the database:
    admins everything; supervisors and viewers (dashboard keys) their regions' subtrees;
    community staff and grid workers their communities; unit staff the reports their units
    have jobs on; everyone their own reports."""

    def __init__(self, principal: Principal) -> None:
        self.everything = principal.is_admin
        self.region_paths = tuple(principal.region_paths(*REGION_ROLES))
        self.communities = frozenset(principal.scope_ids(*STAFF_ROLES))
        # A micro-wish's events are its community's staff's: its grid workers volunteer for
        # wishes, and see a wish only once it is published (app/wishes/scope.py).
        self.wish_communities = frozenset(principal.scope_ids(Role.community_staff))
        self.unit_uuids = frozenset(principal.scope_ids(Role.unit_staff))
        self.units = frozenset(str(u) for u in self.unit_uuids)
        self.user_id = principal.user_id

    def _places_of(self, event: LiveEvent) -> frozenset[uuid.UUID]:
        return self.wish_communities if event.type.startswith("wish.") else self.communities

    def sees(self, event: LiveEvent) -> bool:
        return (
            self.everything
            or (
                event.region_path is not None
                and any(event.region_path.startswith(p) for p in self.region_paths)
            )
            or (event.community_id is not None and event.community_id in self._places_of(event))
            or not self.units.isdisjoint(event.unit_ids)
            or (self.user_id is not None and event.reporter_id == self.user_id)
        )

    def where_visible(self, session: AsyncSession) -> ColumnElement[bool]:
        """The outbox rows that may be this caller's: a superset of what ``sees`` keeps (a
        unit's are the events of the cases it has a job on, other units' internal ones
        among them), which ``sees`` then decides."""
        if self.everything:
            return true()
        places: list[ColumnElement[bool]] = [
            OutboxEvent.region_path.startswith(path) for path in self.region_paths
        ]
        if self.communities:
            places.append(member_of(session, OutboxEvent.community_id, self.communities))
        if self.unit_uuids:
            jobs = select(Job.report_id).where(Job.unit_id.in_(list(self.unit_uuids)))
            places.append(OutboxEvent.report_id.in_(jobs))
        if self.user_id is not None:
            places.append(OutboxEvent.reporter_id == self.user_id)
        return or_(*places) if places else OutboxEvent.id.is_(None)


class Listener(Protocol):
    """An open stream, as the index finds it: by what its caller may see."""

    audience: Audience


L = TypeVar("L", bound=Listener)


def _path_prefixes(path: str) -> list[str]:
    """``/a/b/c/`` → ``/a/``, ``/a/b/``, ``/a/b/c/``: the region paths whose subtree holds it."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: depth + 1]) + "/" for depth in range(len(parts))]


class ListenerIndex(Generic[L]):
    """The open streams of a process, found for an event through the fields copied onto it
    (the same ones ``Audience.sees`` reads): with thousands of streams across a province, an
    event is offered to the few that may see it instead of to every one. The index narrows;
    each stream still decides with ``sees``, so it never lets through what the rule would not.
    """

    def __init__(self) -> None:
        self._all: set[L] = set()
        self._everything: set[L] = set()
        self._keyed: dict[tuple[str, Any], set[L]] = {}

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[L]:
        return iter(list(self._all))

    @staticmethod
    def _keys(audience: Audience) -> list[tuple[str, Any]]:
        return [
            *(("path", path) for path in audience.region_paths),
            *(("community", community) for community in audience.communities),
            *(("unit", unit) for unit in audience.units),
            *([("reporter", audience.user_id)] if audience.user_id is not None else []),
        ]

    def add(self, listener: L) -> None:
        self._all.add(listener)
        if listener.audience.everything:
            self._everything.add(listener)
        for key in self._keys(listener.audience):
            self._keyed.setdefault(key, set()).add(listener)

    def discard(self, listener: L) -> None:
        if listener not in self._all:
            return
        self._all.discard(listener)
        self._everything.discard(listener)
        for key in self._keys(listener.audience):
            keyed = self._keyed.get(key)
            if keyed is not None:
                keyed.discard(listener)
                if not keyed:
                    del self._keyed[key]

    def clear(self) -> None:
        self._all.clear()
        self._everything.clear()
        self._keyed.clear()

    def candidates(self, event: LiveEvent) -> set[L]:
        """The streams that may see ``event`` (a superset of those that do)."""
        keys: list[tuple[str, Any]] = []
        if event.region_path is not None:
            keys += [("path", prefix) for prefix in _path_prefixes(event.region_path)]
        if event.community_id is not None:
            keys.append(("community", event.community_id))
        keys += [("unit", unit) for unit in event.unit_ids]
        if event.reporter_id is not None:
            keys.append(("reporter", event.reporter_id))
        found = set(self._everything)
        for key in keys:
            found |= self._keyed.get(key, set())
        return found
