"""``ProductStates``: the write side's folded product states, by stream version, so pricing an
order reads only the events written since (one query for all its lines), never refolding a
product's whole history. One per store, built by the composition root and held by the write
side (``commands/write_side.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from commands.unit_of_work import StateCache
from domain.product.state import PRODUCT, ProductState
from eventstore.store import EventStore

SIZE = 20_000


class ProductStates:
    """Safe to share between threads (states are immutable; the cache locks)."""

    def __init__(self, store: EventStore, size: int = SIZE):
        self._store = store
        self._cache = StateCache(size=size)

    def current(self, product_ids: Iterable[UUID]) -> dict[UUID, ProductState]:
        """The current state of each product, read in one query (each stream's events after
        the version cached for it)."""
        start = {pid: self._cache.get(pid) or (0, None) for pid in product_ids}
        tails = self._store.load_many({pid: version for pid, (version, _) in start.items()})
        states = {}
        for pid, (_, state) in start.items():
            tail = tails[pid]
            if tail:
                state = PRODUCT.fold((e.to_domain() for e in tail), state)
                self._cache.put(pid, tail[-1].version, state)
            states[pid] = state if state is not None else PRODUCT.initial()
        return states
