"""The Purchase order aggregate: lines ordered from one supplier for one location, approved,
dispatched, received in parts and never beyond what was ordered.

| status | allowed next |
|---|---|
| pending | ordered, cancelled |
| ordered | in_transit, received, cancelled |
| in_transit | received |

A command that asks for the status the order is in already changes nothing. A receipt is
accepted while ``ordered`` or ``in_transit``; the one that completes every line moves the order
to ``received``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal
from uuid import UUID

from domain.aggregate import AggregateType
from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.supply import events as ev
from domain.supply.commands import CreatePurchaseOrder, LineIn, ReceivePurchaseOrder
from domain.supply.suppliers import SupplierState

Status = Literal["pending", "ordered", "in_transit", "received", "cancelled"]
ALLOWED: dict[str, frozenset[str]] = {
    "pending": frozenset({"ordered", "cancelled"}),
    "ordered": frozenset({"in_transit", "received", "cancelled"}),
    "in_transit": frozenset({"received"}),
}


@dataclass(frozen=True, slots=True)
class PurchaseOrderState:
    status: Status | None = None
    location: str = ""
    suggestion_id: UUID | None = None
    #: sku → (ordered, received)
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)


def evolve(state: PurchaseOrderState, event: DomainEvent) -> PurchaseOrderState:
    match event:
        case ev.PurchaseOrderCreated():
            lines = {line.sku: (line.quantity, 0) for line in event.lines}
            return PurchaseOrderState("pending", event.location, event.suggestion_id, lines)
        case ev.PurchaseOrderApproved():
            return replace(state, status="ordered")
        case ev.PurchaseOrderDispatched():
            return replace(state, status="in_transit")
        case ev.PurchaseOrderReceived():
            lines = dict(state.lines)
            for line in event.lines:
                ordered, received = lines[line.sku]
                lines[line.sku] = (ordered, received + line.quantity)
            return replace(
                state, lines=lines, status="received" if event.complete else state.status
            )
        case ev.PurchaseOrderCancelled():
            return replace(state, status="cancelled")
    return state


PURCHASE_ORDER = AggregateType(
    "purchase_order",
    PurchaseOrderState,
    evolve,
    tuple(e for e in ev.SUPPLY_EVENTS if issubclass(e, ev.PurchaseOrderEvent)),
)


def _no_duplicates(lines: list[LineIn]) -> None:
    skus = [line.sku for line in lines]
    twice = sorted({s for s in skus if skus.count(s) > 1})
    if twice:
        raise InvalidCommand(
            f"A SKU appears on more than one line: {', '.join(twice)}.",
            code="duplicate_sku",
            details={"skus": twice},
        )


def check_quantity(sku: str, quantity: int, pack_size: int, minimum: int) -> None:
    """Whole packs, and at least the supplier's minimum order quantity."""
    details = {"sku": sku, "quantity": quantity, "pack_size": pack_size, "minimum": minimum}
    if quantity % pack_size:
        raise InvalidCommand(
            f"{sku}: {quantity} is not a whole number of packs of {pack_size}.",
            code="not_whole_packs",
            details=details,
        )
    if quantity < minimum:
        raise InvalidCommand(
            f"{sku}: {quantity} is below the supplier's minimum order of {minimum}.",
            code="below_minimum_order",
            details=details,
        )


def create_purchase_order(
    state: PurchaseOrderState,
    c: CreatePurchaseOrder,
    supplier: SupplierState,
    suggestion_id: UUID | None = None,
) -> list[DomainEvent]:
    if state.status is not None:
        raise Conflict("This purchase order exists already.", code="purchase_order_exists")
    if not supplier.exists:
        raise InvalidCommand(f"Supplier {c.supplier_id} does not exist.", code="unknown_supplier")
    _no_duplicates(c.lines)
    lines = []
    for line in c.lines:
        item = supplier.items.get(line.sku)
        if item is None:
            raise InvalidCommand(
                f"The supplier does not supply SKU '{line.sku}'.",
                code="sku_not_supplied",
                details={"sku": line.sku},
            )
        check_quantity(line.sku, line.quantity, item.pack_size, item.min_order_quantity)
        lines.append(
            ev.OrderedLine(
                sku=line.sku, quantity=line.quantity, unit_cost=item.cost, currency=item.currency
            )
        )
    return [
        ev.PurchaseOrderCreated(
            supplier_id=c.supplier_id,
            location=c.location,
            lines=tuple(lines),
            lead_time_days=supplier.lead_time_days,
            suggestion_id=suggestion_id,
        )
    ]


def existing(state: PurchaseOrderState, purchase_order_id: UUID) -> PurchaseOrderState:
    if state.status is None:
        raise NotFound(
            f"Purchase order {purchase_order_id} does not exist.",
            code="purchase_order_not_found",
        )
    return state


def move(state: PurchaseOrderState, purchase_order_id: UUID, to: Status) -> list[DomainEvent]:
    """Approve (``ordered``), dispatch (``in_transit``) or cancel (``cancelled``)."""
    current = existing(state, purchase_order_id).status
    if current == to:
        return []
    if to not in ALLOWED.get(current, frozenset()):
        raise IllegalTransition("purchase order", current, to)
    if to == "ordered":
        return [ev.PurchaseOrderApproved()]
    if to == "in_transit":
        return [ev.PurchaseOrderDispatched()]
    return [ev.PurchaseOrderCancelled(reason="cancelled")]


def cancel(state: PurchaseOrderState, purchase_order_id: UUID, reason: str) -> list[DomainEvent]:
    events = move(state, purchase_order_id, "cancelled")
    return [ev.PurchaseOrderCancelled(reason=reason)] if events else []


def receive(
    state: PurchaseOrderState, c: ReceivePurchaseOrder, receipt_id: UUID
) -> list[DomainEvent]:
    """One receipt: every line on the order, none beyond what is still outstanding."""
    current = existing(state, c.purchase_order_id).status
    if current == "cancelled":
        raise Conflict(
            "A cancelled purchase order receives nothing.", code="purchase_order_cancelled"
        )
    if current == "pending":
        raise Conflict(
            "A purchase order is received only once approved.", code="purchase_order_not_ordered"
        )
    _no_duplicates(c.lines)
    lines = dict(state.lines)
    for line in c.lines:
        if line.sku not in lines:
            raise InvalidCommand(
                f"SKU '{line.sku}' is not on this purchase order.",
                code="sku_not_on_order",
                details={"sku": line.sku},
            )
        ordered, received = lines[line.sku]
        if received + line.quantity > ordered:
            raise InvalidCommand(
                f"{line.sku}: receiving {line.quantity} would make {received + line.quantity} "
                f"received of {ordered} ordered.",
                code="over_receipt",
                details={
                    "sku": line.sku,
                    "ordered": ordered,
                    "received": received,
                    "quantity": line.quantity,
                },
            )
        lines[line.sku] = (ordered, received + line.quantity)
    complete = all(received == ordered for ordered, received in lines.values())
    received_lines = tuple(ev.ReceivedLine(sku=x.sku, quantity=x.quantity) for x in c.lines)
    return [
        ev.PurchaseOrderReceived(receipt_id=receipt_id, lines=received_lines, complete=complete)
    ]
