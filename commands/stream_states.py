"""The one way the write side reads an aggregate's state: ``load_states``.

For each stream it starts from the best known point — a state the caller's cache holds (a
``StateCache`` owned by the composition root, through ``WriteSide``), else the stream's latest
readable snapshot when the aggregate type keeps them, else nothing — and folds only the events
after it, reading every stream's tail in one query (``load_together``: the tails of several
aggregates' streams in that one query). A caller that says when its request began (``since``)
is served from the cache for a stream that a read begun since found unchanged: a placement
reads its customer's and products' tails together once, then decides with them. The
handlers' executor
(``commands/executor.py``), the process managers' unit of work (``commands/unit_of_work.py``)
and order pricing (``commands/products.py``) all load through it. Time travel
(``commands/time_travel.py``) reads the log up to an instant by design and does not."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain.aggregate import AggregateType
from eventstore import snapshots
from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Loaded(Generic[S]):
    state: S
    version: int
    #: How many events the load read and folded (after its cached state or snapshot).
    events_read: int = 0
    #: The version of the snapshot the load started from; 0 when it did not start from one.
    snapshot_version: int = 0
    #: When the event at ``version`` occurred (None for an empty stream): an append after it
    #: is stamped no earlier (pass it as ``StreamAppend.not_before``).
    last_at: datetime | None = None


class StateCache:
    """Folded states by stream id, each with its version, when the event at that version
    occurred, and when a read last found no later event (``checked``, a ``time.monotonic()``
    reading taken before that read); least recently used dropped beyond ``size``. States are
    immutable, so sharing them between threads is safe."""

    def __init__(self, size: int = 20_000):
        self.size = size
        self._items: OrderedDict[UUID, tuple[int, Any, datetime | None, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, stream_id: UUID) -> tuple[int, Any] | None:
        """(version, state), or None."""
        item = self.entry(stream_id)
        return None if item is None else item[:2]

    def entry(self, stream_id: UUID) -> tuple[int, Any, datetime | None] | None:
        """(version, state, when the event at that version occurred), or None."""
        item = self._item(stream_id)
        return None if item is None else item[:3]

    def fresh_since(self, stream_id: UUID, since: float) -> tuple[int, Any, datetime | None] | None:
        """``entry`` when a read begun at or after ``since`` found it the latest, else None."""
        item = self._item(stream_id)
        return None if item is None or item[3] < since else item[:3]

    def _item(self, stream_id: UUID) -> tuple[int, Any, datetime | None, float] | None:
        with self._lock:
            item = self._items.get(stream_id)
            if item is not None:
                self._items.move_to_end(stream_id)
            return item

    def put(
        self,
        stream_id: UUID,
        version: int,
        state: Any,
        at: datetime | None = None,
        checked: float = float("-inf"),
    ) -> None:
        with self._lock:
            known = self._items.get(stream_id)
            if known is not None:
                if known[0] > version:
                    return  # never go back to an older state
                if known[0] == version:
                    checked = max(checked, known[3])
            self._items[stream_id] = (version, state, at, checked)
            self._items.move_to_end(stream_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def forget(self, stream_ids: Iterable[UUID]) -> None:
        with self._lock:
            for stream_id in stream_ids:
                self._items.pop(stream_id, None)


#: One aggregate's streams to load: the aggregate type, the stream ids, the cache (or None).
Load = tuple[AggregateType[Any], Iterable[UUID], "StateCache | None"]


def load_states(
    store: EventStore,
    aggregate: AggregateType[S],
    stream_ids: Iterable[UUID],
    cache: StateCache | None = None,
    since: float | None = None,
) -> dict[UUID, Loaded[S]]:
    """The current state of each stream, in two queries at most (snapshots of the cache's
    misses, then every stream's new events); states the load moved on go back to ``cache``.
    With ``since`` (when the request began, ``time.monotonic()``), a cached state that a read
    begun since found the latest is taken as it is: no query for it."""
    return load_together(store, [(aggregate, stream_ids, cache)], since)[0]


def load_together(
    store: EventStore,
    loads: Sequence[Load],
    since: float | None = None,
    read: Callable[[dict[UUID, int]], dict[UUID, list[RecordedEvent]]] | None = None,
) -> list[dict[UUID, Loaded[Any]]]:
    """``load_states`` for the streams of several aggregates with one read of their new
    events (a placement's customer and products), each load's states in order. ``read``
    reads the tails (default ``store.load_many``; a placement's also refreshes the
    directories in the same statement: ``DirectoryFeed.read_with``)."""
    starts: list[dict[UUID, tuple[int, Any, datetime | None]]] = []
    snapshot_versions: list[dict[UUID, int]] = []
    fresh: list[dict[UUID, Loaded[Any]]] = []
    after: dict[UUID, int] = {}
    for aggregate, stream_ids, cache in loads:
        start: dict[UUID, tuple[int, Any, datetime | None]] = {}
        served: dict[UUID, Loaded[Any]] = {}
        misses: list[UUID] = []
        for stream_id in stream_ids:
            if stream_id in start or stream_id in served:
                continue
            if since is not None and cache is not None:
                hit = cache.fresh_since(stream_id, since)
                if hit is not None:
                    state = aggregate.initial() if hit[1] is None else hit[1]
                    served[stream_id] = Loaded(state, hit[0], 0, 0, hit[2])
                    continue
            hit = cache.entry(stream_id) if cache is not None else None
            start[stream_id] = hit if hit is not None else (0, None, None)
            if hit is None:
                misses.append(stream_id)
        from_snapshot: dict[UUID, int] = {}
        if misses and aggregate.snapshot_every is not None:
            for stream_id, snapshot in snapshots.latest(store, aggregate, misses).items():
                start[stream_id] = (snapshot.version, snapshot.state, snapshot.at)
                from_snapshot[stream_id] = snapshot.version
        for stream_id, (version, _, _) in start.items():
            after[stream_id] = min(version, after.get(stream_id, version))
        starts.append(start)
        snapshot_versions.append(from_snapshot)
        fresh.append(served)
    read_at = time.monotonic()  # before the read: it sees every commit made by then
    tails = (read or store.load_many)(after) if after else {}
    out: list[dict[UUID, Loaded[Any]]] = []
    for (aggregate, _, cache), start, from_snapshot, served in zip(
        loads, starts, snapshot_versions, fresh, strict=True
    ):
        loaded: dict[UUID, Loaded[Any]] = dict(served)
        for stream_id, (version, state, at) in start.items():
            tail = [e for e in tails[stream_id] if e.version > version]
            if tail:
                state = aggregate.fold((e.to_domain() for e in tail), state)
                version, at = tail[-1].version, tail[-1].meta.occurred_at
            elif state is None:
                state = aggregate.initial()
            if cache is not None:  # an empty stream too: it was found so
                cache.put(stream_id, version, state, at, read_at)
            loaded[stream_id] = Loaded(
                state, version, len(tail), from_snapshot.get(stream_id, 0), at
            )
        out.append(loaded)
    return out
