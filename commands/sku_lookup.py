"""Which product owns a SKU, read from the SKU registry stream; and the claim of a new SKU.

A claim is permanent (the stream's one event, appended at version 0), so an owner once found
is remembered (``SkuOwners``, one per store, built by the composition root and held by the
write side); a SKU found unclaimed is asked again next time."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from uuid import UUID

from domain.ids import sku_claim_stream
from domain.product.sku import SkuClaimed
from eventstore.store import EventStore, StreamAppend

OWNERS_MAX = 100_000


class SkuOwners:
    """The owners of SKUs found claimed in ``store``, at most ``size`` of them (all forgotten
    at once beyond that). Safe to share between threads."""

    def __init__(self, store: EventStore, size: int = OWNERS_MAX):
        self._store = store
        self._size = size
        self._known: dict[str, UUID] = {}
        self._lock = threading.Lock()

    def owner_of(self, sku: str) -> UUID | None:
        return self.owners_of([sku]).get(sku)

    def owners_of(self, skus: Iterable[str]) -> dict[str, UUID]:
        """The owner of each claimed SKU among ``skus`` (unclaimed ones are absent): those not
        remembered yet are read in one query."""
        skus = list(skus)
        with self._lock:
            found = {sku: self._known[sku] for sku in skus if sku in self._known}
        missing = {sku_claim_stream(sku): sku for sku in skus if sku not in found}
        if not missing:
            return found
        for stream_id, events in self._store.load_many(dict.fromkeys(missing, 0)).items():
            if events:
                owner = events[0].to_domain().product_id  # type: ignore[attr-defined]
                found[missing[stream_id]] = owner
                with self._lock:
                    if len(self._known) >= self._size:
                        self._known.clear()
                    self._known[missing[stream_id]] = owner
        return found


def claim(sku: str, product_id: UUID, *, is_variant: bool = False) -> StreamAppend:
    """An append that fails (as a concurrency conflict) if the SKU is already claimed."""
    return StreamAppend(
        sku_claim_stream(sku),
        0,
        [SkuClaimed(sku=sku, product_id=product_id, is_variant=is_variant)],
    )
