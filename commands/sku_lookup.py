"""Which product owns a SKU, read from the SKU registry stream.

A claim is permanent (the stream's one event, appended at version 0), so an owner once found
is remembered per store; a SKU found unclaimed is asked again next time."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from uuid import UUID
from weakref import WeakKeyDictionary

from domain.ids import sku_claim_stream
from domain.product.sku import SkuClaimed
from eventstore.store import EventStore, StreamAppend

_OWNERS: WeakKeyDictionary[EventStore, dict[str, UUID]] = WeakKeyDictionary()
_OWNERS_MAX = 100_000
_lock = threading.Lock()


def _known(store: EventStore) -> dict[str, UUID]:
    with _lock:
        known = _OWNERS.get(store)
        if known is None:
            known = _OWNERS[store] = {}
        return known


def owner_of(store: EventStore, sku: str) -> UUID | None:
    return owners_of(store, [sku]).get(sku)


def owners_of(store: EventStore, skus: Iterable[str]) -> dict[str, UUID]:
    """The owner of each claimed SKU among ``skus`` (unclaimed ones are absent): those not
    remembered yet are read in one query."""
    known = _known(store)
    found = {sku: known[sku] for sku in skus if sku in known}
    missing = {sku_claim_stream(sku): sku for sku in skus if sku not in found}
    if not missing:
        return found
    for stream_id, events in store.load_many(dict.fromkeys(missing, 0)).items():
        if events:
            owner = events[0].to_domain().product_id  # type: ignore[attr-defined]
            found[missing[stream_id]] = owner
            with _lock:
                if len(known) >= _OWNERS_MAX:
                    known.clear()
                known[missing[stream_id]] = owner
    return found


def claim(sku: str, product_id: UUID, *, is_variant: bool = False) -> StreamAppend:
    """An append that fails (as a concurrency conflict) if the SKU is already claimed."""
    return StreamAppend(
        sku_claim_stream(sku),
        0,
        [SkuClaimed(sku=sku, product_id=product_id, is_variant=is_variant)],
    )
