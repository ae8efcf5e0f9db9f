"""Which product owns a SKU, read from the SKU registry stream."""

from __future__ import annotations

from uuid import UUID

from domain.catalog.sku import SkuClaimed
from domain.ids import sku_claim_stream
from eventstore.store import EventStore, StreamAppend


def owner_of(store: EventStore, sku: str) -> UUID | None:
    events = store.load(sku_claim_stream(sku), up_to_version=1)
    return events[0].to_domain().product_id if events else None  # type: ignore[attr-defined]


def claim(sku: str, product_id: UUID, *, is_variant: bool = False) -> StreamAppend:
    """An append that fails (as a concurrency conflict) if the SKU is already claimed."""
    return StreamAppend(
        sku_claim_stream(sku),
        0,
        [SkuClaimed(sku=sku, product_id=product_id, is_variant=is_variant)],
    )
