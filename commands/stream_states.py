"""The one way the write side reads an aggregate's state: ``load_states``.

For each stream it starts from the best known point — a state the caller's cache holds (a
``StateCache`` owned by the composition root, through ``WriteSide``), else the stream's latest
readable snapshot when the aggregate type keeps them, else nothing — and folds only the events
after it, reading every stream's tail in one query. The handlers' executor
(``commands/executor.py``), the process managers' unit of work (``commands/unit_of_work.py``)
and order pricing (``commands/products.py``) all load through it. Time travel
(``commands/time_travel.py``) reads the log up to an instant by design and does not."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain.aggregate import AggregateType
from eventstore import snapshots
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
    """Folded states by stream id, each with its version and when the event at that version
    occurred; least recently used dropped beyond ``size``. States are immutable, so sharing
    them between threads is safe."""

    def __init__(self, size: int = 20_000):
        self.size = size
        self._items: OrderedDict[UUID, tuple[int, Any, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, stream_id: UUID) -> tuple[int, Any] | None:
        """(version, state), or None."""
        item = self.entry(stream_id)
        return None if item is None else item[:2]

    def entry(self, stream_id: UUID) -> tuple[int, Any, datetime | None] | None:
        """(version, state, when the event at that version occurred), or None."""
        with self._lock:
            item = self._items.get(stream_id)
            if item is not None:
                self._items.move_to_end(stream_id)
            return item

    def put(self, stream_id: UUID, version: int, state: Any, at: datetime | None = None) -> None:
        with self._lock:
            known = self._items.get(stream_id)
            if known is not None and known[0] > version:
                return  # never go back to an older state
            self._items[stream_id] = (version, state, at)
            self._items.move_to_end(stream_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def forget(self, stream_ids: Iterable[UUID]) -> None:
        with self._lock:
            for stream_id in stream_ids:
                self._items.pop(stream_id, None)


def load_states(
    store: EventStore,
    aggregate: AggregateType[S],
    stream_ids: Iterable[UUID],
    cache: StateCache | None = None,
) -> dict[UUID, Loaded[S]]:
    """The current state of each stream, in two queries at most (snapshots of the cache's
    misses, then every stream's new events); states the load moved on go back to ``cache``."""
    start: dict[UUID, tuple[int, Any, datetime | None]] = {}
    misses: list[UUID] = []
    for stream_id in stream_ids:
        if stream_id in start:
            continue
        hit = cache.entry(stream_id) if cache is not None else None
        start[stream_id] = hit if hit is not None else (0, None, None)
        if hit is None:
            misses.append(stream_id)
    if not start:
        return {}
    from_snapshot: dict[UUID, int] = {}
    if misses and aggregate.snapshot_every is not None:
        for stream_id, snapshot in snapshots.latest(store, aggregate, misses).items():
            start[stream_id] = (snapshot.version, snapshot.state, snapshot.at)
            from_snapshot[stream_id] = snapshot.version
    tails = store.load_many({sid: version for sid, (version, _, _) in start.items()})
    loaded: dict[UUID, Loaded[S]] = {}
    for stream_id, (version, state, at) in start.items():
        tail = tails[stream_id]
        if tail:
            state = aggregate.fold((e.to_domain() for e in tail), state)
            version, at = tail[-1].version, tail[-1].meta.occurred_at
            if cache is not None:
                cache.put(stream_id, version, state, at)
        elif state is None:
            state = aggregate.initial()
        loaded[stream_id] = Loaded(state, version, len(tail), from_snapshot.get(stream_id, 0), at)
    return loaded
