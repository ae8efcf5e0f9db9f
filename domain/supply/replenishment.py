"""Replenishment, pure: the suggestion stream of one SKU at one location, how much to order and
from whom.

The stream holds at most one open suggestion: ``suggest`` while one is open changes nothing, so
two crossings decided concurrently append at the same version and only one drafts an order.
Ids are derived from the stream and the suggestion's number, so a process manager that decides
again after a crash names the same suggestion and the same purchase order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from uuid import UUID, uuid5

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.ids import NAMESPACE
from domain.inventory.state import Level, Thresholds
from domain.supply.events import ReorderSuggested, ReorderSuggestionClosed
from domain.supply.suppliers import Listing


def replenishment_stream(sku: str, location: str) -> UUID:
    return uuid5(NAMESPACE, f"replenishment:{sku}:{location}")


@dataclass(frozen=True, slots=True)
class ReplenishmentState:
    #: How many suggestions the stream has opened (the next one's number is this plus one).
    count: int = 0
    open_suggestion: UUID | None = None
    open_order: UUID | None = None


def evolve(state: ReplenishmentState, event: DomainEvent) -> ReplenishmentState:
    match event:
        case ReorderSuggested(suggestion_id=sid, purchase_order_id=po):
            opened = sid if po is not None else None
            return ReplenishmentState(state.count + 1, opened, po)
        case ReorderSuggestionClosed():
            return replace(state, open_suggestion=None, open_order=None)
    return state


REPLENISHMENT = AggregateType(
    "replenishment", ReplenishmentState, evolve, (ReorderSuggested, ReorderSuggestionClosed)
)


def suggestion_ids(sku: str, location: str, number: int) -> tuple[UUID, UUID]:
    """The suggestion's id and its purchase order's, for the stream's ``number``-th."""
    key = f"replenishment:{sku}:{location}:{number}"
    return uuid5(NAMESPACE, key), uuid5(NAMESPACE, f"{key}:purchase-order")


def wanted_quantity(limits: Thresholds, level: Level) -> int:
    """The configured reorder quantity, else max(2 × reorder point, max − on hand), at least 1."""
    if limits.reorder_quantity is not None:
        return limits.reorder_quantity
    up_to_max = limits.max_stock - level.on_hand if limits.max_stock is not None else 0
    return max(2 * limits.reorder_point, up_to_max, 1)


def in_packs(wanted: int, pack_size: int, minimum: int) -> int:
    """``wanted``, at least ``minimum``, rounded up to whole packs."""
    quantity = max(wanted, minimum)
    return -(-quantity // pack_size) * pack_size


def choose_supplier(listings: Sequence[Listing]) -> Listing | None:
    """The cheapest among those with the shortest lead time (ties: the lowest supplier id)."""
    if not listings:
        return None
    return min(listings, key=lambda s: (s.lead_time_days, Decimal(s.item.cost), str(s.supplier_id)))


def is_low(limits: Thresholds | None, level: Level) -> bool:
    return limits is not None and level.available <= limits.reorder_point


def suggest(
    state: ReplenishmentState,
    sku: str,
    location: str,
    limits: Thresholds,
    level: Level,
    supplier: Listing | None,
) -> list[DomainEvent]:
    """Open a suggestion unless one is open; with a supplier, it names the order to draft."""
    if state.open_suggestion is not None:
        return []
    suggestion_id, order_id = suggestion_ids(sku, location, state.count + 1)
    quantity = wanted_quantity(limits, level)
    if supplier is not None:
        quantity = in_packs(quantity, supplier.item.pack_size, supplier.item.min_order_quantity)
    return [
        ReorderSuggested(
            suggestion_id=suggestion_id,
            sku=sku,
            location=location,
            available=level.available,
            reorder_point=limits.reorder_point,
            quantity=quantity,
            supplier_id=None if supplier is None else supplier.supplier_id,
            purchase_order_id=None if supplier is None else order_id,
        )
    ]


def close(state: ReplenishmentState, order_id: UUID, reason: str) -> list[DomainEvent]:
    """Close the open suggestion if ``order_id`` is its order; anything else changes nothing."""
    if state.open_order != order_id or state.open_suggestion is None:
        return []
    return [
        ReorderSuggestionClosed(
            suggestion_id=state.open_suggestion, purchase_order_id=order_id, reason=reason
        )
    ]
