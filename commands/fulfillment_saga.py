"""The fulfillment process manager: what follows confirmation.

- (``OrderConfirmed``'s plans, one per location, are written by the placement saga in the
  confirming transaction; ``create_plans`` remains for line edits.)
- ``ShipmentDispatched`` → commit, ``LinesShipped``, capture, plan shipped.
- ``ShipmentDelivered`` → ``LinesDelivered``.
- ``CancellationReviewed`` (approved), ``CancellationRetried`` → carry out the cancellation.
- ``OrderSplit`` → the frozen parent releases its reservations and voids its authorization.

This is the only place these steps run: the HTTP requests record the intent (a tracking event,
a delivery attempt, a review, a split) on its own aggregate and answer at once. Every step
carries a key scoped by the shipment, request or order (``commands/steps.py``), so after a crash
this manager resumes from its stored position, replays what was done and completes what was
left half done; a cancellation that finishes a dispatch first leaves the dispatch's own event
nothing to do. Its steps are stamped with its clock when it takes up the event."""

from __future__ import annotations

from uuid import UUID

from commands import cancellations, fulfillment, inventory, orders, payments, shipments
from commands.context import Clock, system_clock
from commands.process_manager import Trigger, WritingManager
from commands.steps import steps
from commands.write_side import WriteSide
from domain.inventory.commands import ReleaseReservation
from domain.payment.commands import VoidAuthorization


class FulfillmentSaga(WritingManager):
    name = "fulfillment"
    topics = (
        "order.CancellationReviewed",
        "order.CancellationRetried",
        "order.OrderSplit",
        "shipment.ShipmentDispatched",
        "shipment.ShipmentDelivered",
    )

    def __init__(self, write: WriteSide, clock: Clock = system_clock):
        self.write, self.clock = write, clock

    def handle(self, trigger: Trigger) -> None:
        e = trigger.event
        ctx = trigger.context("fulfillment", now=self.clock())
        match e.type:
            case "shipment.ShipmentDispatched":
                shipments.complete_dispatch(self.write, ctx, e.stream_id)
            case "shipment.ShipmentDelivered":
                shipments.complete_delivery(self.write, ctx, e.stream_id)
            case "order.CancellationReviewed" if e.data["decision"] == "approved":
                request_id = UUID(e.data["request_id"])
                cancellations.complete(self.write, ctx, e.stream_id, request_id)
            case "order.CancellationRetried":
                request_id = UUID(e.data["request_id"])
                cancellations.complete(self.write, ctx, e.stream_id, request_id)
            case "order.OrderSplit":
                self._freeze_parent(ctx, e.stream_id)

    def _freeze_parent(self, ctx, order_id: UUID) -> None:  # noqa: ANN001
        step = steps(ctx, f"split:{order_id}")
        state = orders.get(self.store, order_id)
        w = self.write
        for i, a in enumerate(state.allocations):
            release = ReleaseReservation(
                sku=str(a["sku"]), reservation_id=str(a["reservation_id"]), reason="order_split"
            )
            inventory.release(w, release, step(f"release:{i}"))
        payments.void(w, VoidAuthorization(order_id=order_id, reason="split"), step("void"))
        fulfillment.cancel_plans(self.store, step, order_id)
