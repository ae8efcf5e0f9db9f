"""The replenishment process manager: a SKU's available stock at a location falling to its
reorder point (``StockAlertRaised``, low or out of stock, at a location with thresholds) opens
a suggestion on the (SKU, location) suggestion stream and drafts a ``pending`` purchase order
for it, both in one transaction; a receipt or a cancellation of that order closes it.

- **One open per SKU and location.** The suggestion stream is the claim: a second crossing
  while one is open decides nothing, and two concurrent decisions append at the same version,
  so only one drafts.
- **Crash-safe.** The suggestion's and the order's ids come from the stream and the
  suggestion's number (``domain.supply.replenishment.suggestion_ids``), the draft is one
  append, and each step runs under its trigger's idempotency key: a manager killed anywhere
  and started again leaves exactly one order.
- **What it reads.** The inventory stream (thresholds and the level now: a crossing that has
  cleared by the time the manager comes drafts nothing), the SKU's supplier list and the chosen
  supplier (the same decision as ``POST /purchase-orders``): the write side only."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from commands.context import Clock, system_clock
from commands.executor import execute, load
from commands.process_manager import Trigger, WritingManager
from commands.write_side import WriteSide
from domain.events import DomainEvent
from domain.ids import inventory_stream
from domain.inventory.events import StockAlertRaised
from domain.inventory.state import INVENTORY
from domain.supply import purchase_orders as po
from domain.supply import replenishment as r
from domain.supply.commands import CreatePurchaseOrder, LineIn
from domain.supply.events import (
    PurchaseOrderCancelled,
    PurchaseOrderReceived,
    ReorderSuggested,
)
from domain.supply.suppliers import SUPPLIER, SUPPLIER_SKU, supplier_sku_stream
from eventstore.store import StreamAppend

CLOSING = {
    PurchaseOrderReceived.stored_name(): "received",
    PurchaseOrderCancelled.stored_name(): "cancelled",
}


class ReplenishmentManager(WritingManager):
    name = "replenishment"
    topics = (StockAlertRaised.stored_name(), *CLOSING)

    def __init__(self, write: WriteSide, clock: Clock = system_clock):
        self.write, self.clock = write, clock

    def handle(self, trigger: Trigger) -> None:
        if trigger.event.type in CLOSING:
            self._close(trigger, CLOSING[trigger.event.type])
        else:
            self._draft(trigger, trigger.event.data["sku"], trigger.event.data["location"])

    def _draft(self, trigger: Trigger, sku: str, location: str) -> None:
        stock = load(self.store, INVENTORY, inventory_stream(sku)).state
        limits, level = stock.thresholds.get(location), stock.level(location)
        if limits is None or not r.is_low(limits, level):
            return
        listings = load(self.store, SUPPLIER_SKU, supplier_sku_stream(sku)).state.listings
        supplier = r.choose_supplier(listings)

        def decide(state: r.ReplenishmentState, _version: int) -> list[DomainEvent]:
            return r.suggest(state, sku, location, limits, level, supplier)

        def draft(_s: r.ReplenishmentState, events: Sequence[DomainEvent]) -> list[StreamAppend]:
            suggested = next(e for e in events if isinstance(e, ReorderSuggested))
            if suggested.purchase_order_id is None or suggested.supplier_id is None:
                return []
            order_id = suggested.purchase_order_id
            command = CreatePurchaseOrder(
                supplier_id=suggested.supplier_id,
                location=location,
                lines=[LineIn(sku=sku, quantity=suggested.quantity)],
            )
            supplier_state = load(self.store, SUPPLIER, suggested.supplier_id).state
            created = po.create_purchase_order(
                po.PurchaseOrderState(), command, supplier_state, suggested.suggestion_id
            )
            # A new stream: if another decision drafted it, this append fails and the
            # suggestion is decided again (and finds the open one).
            return [StreamAppend(order_id, 0, created)]

        stream = r.replenishment_stream(sku, location)
        ctx = trigger.context("draft", now=self.clock())
        execute(self.store, r.REPLENISHMENT, stream, decide, ctx, also=draft)

    def _close(self, trigger: Trigger, reason: str) -> None:
        order_id: UUID = trigger.event.stream_id
        order = load(self.store, po.PURCHASE_ORDER, order_id).state
        if order.suggestion_id is None or len(order.lines) != 1:
            return
        (sku,) = order.lines
        stream = r.replenishment_stream(sku, order.location)
        ctx = trigger.context("close", now=self.clock())
        execute(
            self.store, r.REPLENISHMENT, stream, lambda s, _v: r.close(s, order_id, reason), ctx
        )
