"""The dropship manager: what a plan at a ``dropship`` location sets off, recorded on the
plan's dropship request (``domain/dropship``), never in a request handler.

- ``PlanCreated`` with strategy ``dropship`` → ``DropshipRequested`` to the location's vendor
  (its lines and units). That event is the request itself: a notification or webhook channel
  subscribes to it in the log.
- ``ShipmentDispatched`` from a dropship location → ``DropshipShipped`` (the vendor shipped).
- ``ShipmentDelivered`` of such a shipment → ``DropshipDelivered``.

The vendor's shipment is an ordinary shipment (``POST /orders/{id}/shipments`` from the
dropship location, then its tracking events): the fulfillment saga commits the stock, captures,
marks the plan shipped and records the lines delivered as for any other. Every decision here is
a no-op when repeated, and each step carries the trigger's idempotency key, so a replay after a
crash writes nothing twice."""

from __future__ import annotations

from uuid import UUID

from commands.context import Clock, system_clock
from commands.executor import execute, load
from commands.process_manager import Trigger, WritingManager
from commands.write_side import WriteSide
from domain.dropship import decide
from domain.dropship.events import RequestedLine
from domain.dropship.state import DROPSHIP, dropship_request_stream
from domain.ids import plan_stream
from domain.shipment.state import SHIPMENT


class DropshipManager(WritingManager):
    name = "dropship"
    topics = (
        "fulfillment_plan.PlanCreated",
        "shipment.ShipmentDispatched",
        "shipment.ShipmentDelivered",
    )
    #: Every plan wakes it and few are dropship: its passes are paced (``ProcessManager``).
    pace_s = 0.2

    def __init__(self, write: WriteSide, clock: Clock = system_clock):
        self.write, self.clock = write, clock

    def handle(self, trigger: Trigger) -> None:
        e = trigger.event
        ctx = trigger.context("dropship", now=self.clock())
        match e.type:
            case "fulfillment_plan.PlanCreated" if e.data["strategy"] == "dropship":
                vendor_id = self.write.locations.dropship_vendors().get(e.data["location"])
                if vendor_id is None:  # not (or no longer) a dropship location: nothing to ask
                    return
                lines = [
                    RequestedLine(line_id=x["line_id"], sku=x["sku"], quantity=x["allocated"])
                    for x in e.data["lines"]
                ]
                request = dropship_request_stream(e.stream_id)
                execute(
                    self.store,
                    DROPSHIP,
                    request,
                    lambda s, _v: decide.request(
                        s,
                        order_id=UUID(e.data["order_id"]),
                        plan_id=e.stream_id,
                        vendor_id=vendor_id,
                        location=e.data["location"],
                        lines=lines,
                        by=ctx.actor,
                    ),
                    ctx,
                )
            case "shipment.ShipmentDispatched":
                request = self._request_of(UUID(e.data["order_id"]), e.data["location"])
                if request is not None:
                    units = sum(int(x["quantity"]) for x in e.data["lines"])
                    execute(
                        self.store,
                        DROPSHIP,
                        request,
                        lambda s, _v: decide.record_shipped(s, e.stream_id, units),
                        ctx,
                    )
            case "shipment.ShipmentDelivered":
                shipment = load(self.store, SHIPMENT, e.stream_id).state
                assert shipment.order_id is not None
                request = self._request_of(shipment.order_id, shipment.location)
                if request is not None:
                    units = sum(x.quantity for x in shipment.lines)
                    execute(
                        self.store,
                        DROPSHIP,
                        request,
                        lambda s, _v: decide.record_delivered(s, e.stream_id, units),
                        ctx,
                    )

    def _request_of(self, order_id: UUID, location: str) -> UUID | None:
        """The dropship request of the order's plan at ``location``, if it is a dropship one."""
        if location not in self.write.locations.dropship_vendors():
            return None
        return dropship_request_stream(plan_stream(order_id, location))
