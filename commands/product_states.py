"""``ProductStates``: the write side's folded product states, by stream version, so pricing an
order reads only the events written since (one query for all its lines), never refolding a
product's whole history. One per store, built by the composition root and held by the write
side (``commands/write_side.py``); it loads through the write side's one load path
(``commands/stream_states.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from commands.stream_states import StateCache, load_states
from domain.product.state import PRODUCT, ProductState
from eventstore.store import EventStore

SIZE = 20_000


class ProductStates:
    """Safe to share between threads (states are immutable; the cache locks)."""

    def __init__(self, store: EventStore, size: int = SIZE):
        self._store = store
        self._cache = StateCache(size=size)

    @property
    def cache(self) -> StateCache:
        """The folded states (for a load of products with other streams: ``load_together``)."""
        return self._cache

    def current(
        self, product_ids: Iterable[UUID], since: float | None = None
    ) -> dict[UUID, ProductState]:
        """The current state of each product, read in one query (each stream's events after
        the version cached for it; none for a product read since ``since``)."""
        loaded = load_states(self._store, PRODUCT, product_ids, self._cache, since)
        return {pid: s.state for pid, s in loaded.items()}
