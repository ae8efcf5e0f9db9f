"""Handlers for purchase orders. A receipt appends ``StockReceived`` to each received SKU's
inventory stream at the order's location in the same transaction as ``PurchaseOrderReceived``
(each stream at the version it was read at; a concurrent change to any of them decides the
whole receipt again), so the units on the shelf always equal the units the orders received."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.inventory import require_known_sku, require_location
from commands.write_side import WriteSide
from domain.events import DomainEvent
from domain.ids import inventory_stream
from domain.inventory.commands import ReceiveStock
from domain.inventory.decide import receive_stock
from domain.inventory.state import INVENTORY
from domain.supply import purchase_orders as d
from domain.supply.commands import (
    ApprovePurchaseOrder,
    CancelPurchaseOrder,
    CreatePurchaseOrder,
    DispatchPurchaseOrder,
    ReceivePurchaseOrder,
)
from domain.supply.events import PurchaseOrderReceived
from domain.supply.suppliers import SUPPLIER
from eventstore.store import StreamAppend


def create(w: WriteSide, c: CreatePurchaseOrder, ctx: CommandContext) -> Outcome:
    """A ``pending`` order under a new id (``extra["id"]``)."""
    require_location(w.store, c.location)
    for line in c.lines:
        require_known_sku(w.skus, line.sku)
    supplier = load(w.store, SUPPLIER, c.supplier_id).state
    order_id = uuid4()

    def decide(state: d.PurchaseOrderState, _version: int):
        return d.create_purchase_order(state, c, supplier), {
            "id": str(order_id),
            "status": "pending",
        }

    return execute(w.store, d.PURCHASE_ORDER, order_id, decide, ctx)


def _with_status(state: d.PurchaseOrderState, events: list[DomainEvent], **extra: str):
    """The events, and the answer: the order's status after them (and ``extra``)."""
    return events, {"status": d.PURCHASE_ORDER.fold(events, state).status, **extra}


def approve(w: WriteSide, c: ApprovePurchaseOrder, ctx: CommandContext) -> Outcome:
    def decide(s: d.PurchaseOrderState, _v: int):
        return _with_status(s, d.move(s, c.purchase_order_id, "ordered"))

    return execute(w.store, d.PURCHASE_ORDER, c.purchase_order_id, decide, ctx)


def dispatch(w: WriteSide, c: DispatchPurchaseOrder, ctx: CommandContext) -> Outcome:
    def decide(s: d.PurchaseOrderState, _v: int):
        return _with_status(s, d.move(s, c.purchase_order_id, "in_transit"))

    return execute(w.store, d.PURCHASE_ORDER, c.purchase_order_id, decide, ctx)


def cancel(w: WriteSide, c: CancelPurchaseOrder, ctx: CommandContext) -> Outcome:
    def decide(s: d.PurchaseOrderState, _v: int):
        return _with_status(s, d.cancel(s, c.purchase_order_id, c.reason))

    return execute(w.store, d.PURCHASE_ORDER, c.purchase_order_id, decide, ctx)


def receive(w: WriteSide, c: ReceivePurchaseOrder, ctx: CommandContext) -> Outcome:
    """A receipt under a new id (``extra["receipt_id"]``), its stock on the shelf with it."""
    location = load(w.store, d.PURCHASE_ORDER, c.purchase_order_id).state.location
    if location:
        require_location(w.store, location)
    receipt_id = uuid4()

    def decide(state: d.PurchaseOrderState, _version: int):
        return _with_status(state, d.receive(state, c, receipt_id), receipt_id=str(receipt_id))

    def stock(state: d.PurchaseOrderState, events: Sequence[DomainEvent]) -> list[StreamAppend]:
        received = next(e for e in events if isinstance(e, PurchaseOrderReceived))
        appends = []
        for line in received.lines:
            stream = inventory_stream(line.sku)
            loaded = load(w.store, INVENTORY, stream)
            command = ReceiveStock(
                sku=line.sku,
                location=state.location,
                quantity=line.quantity,
                reference=f"purchase-order:{c.purchase_order_id}",
            )
            moved = receive_stock(loaded.state, command, ctx.now)
            appends.append(StreamAppend(stream, loaded.version, moved, not_before=loaded.last_at))
        return appends

    return execute(w.store, d.PURCHASE_ORDER, c.purchase_order_id, decide, ctx, also=stock)


HANDLERS = {
    CreatePurchaseOrder: create,
    ApprovePurchaseOrder: approve,
    DispatchPurchaseOrder: dispatch,
    CancelPurchaseOrder: cancel,
    ReceivePurchaseOrder: receive,
}


def get(w: WriteSide, purchase_order_id) -> d.PurchaseOrderState:  # noqa: ANN001
    """The order's decision state as of now."""
    return load(w.store, d.PURCHASE_ORDER, purchase_order_id).state
