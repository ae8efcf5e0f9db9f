"""The shipment commands, as messages: open a shipment on an order, record a carrier's tracking
event, record a delivery attempt. (What follows a dispatch or a delivery on the other
aggregates is the fulfillment process manager's, not a command's.)

A new shipment's id is made by its handler (from the idempotency key, so a repeat names the
same shipment); the carrier, when left out, is chosen by it too."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command, IsoDateTime, LocationCode
from domain.order.fulfillment_commands import LineUnits
from domain.shipment.events import AttemptOutcome, TrackingStatus

Text = Annotated[str, Field(max_length=500)]
TrackingNumber = Annotated[str, Field(min_length=1, max_length=100)]


class OpenShipment(Command):
    order_id: UUID
    location: LocationCode
    lines: Annotated[list[LineUnits], Field(max_length=100)]
    carrier: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    tracking_number: TrackingNumber | None = None


class RecordTracking(Command):
    shipment_id: UUID
    status: TrackingStatus
    occurred_at: IsoDateTime | None = None
    location: Text | None = None
    note: Text | None = None
    tracking_number: TrackingNumber | None = None


class RecordDeliveryAttempt(Command):
    shipment_id: UUID
    outcome: AttemptOutcome
    #: When the carrier tried (default: when the request arrives).
    occurred_at: IsoDateTime | None = None
    failure_reason: Text | None = None
    next_attempt_at: IsoDateTime | None = None
