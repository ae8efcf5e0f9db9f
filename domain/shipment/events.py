"""Events of the Shipment aggregate (stream type ``shipment``, one stream per shipment)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from domain.events import DomainEvent
from domain.order.values import LineQuantity

TrackingStatus = Literal[
    "label_created",
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "exception",
    "returned",
]


AttemptOutcome = Literal[
    "successful",
    "failed",
    "customer_not_home",
    "address_issue",
    "refused_by_customer",
    "damaged_package",
    "weather_delay",
    "rescheduled",
]


class ShipmentEvent(DomainEvent):
    stream_type: ClassVar[str] = "shipment"


class ShipmentCreated(ShipmentEvent):
    order_id: UUID
    number: int
    location: str
    lines: list[LineQuantity]
    carrier: str
    tracking_number: str | None = None


class ShipmentTrackingUpdated(ShipmentEvent):
    order_id: UUID
    shipment_id: UUID
    code: str
    status: str
    tracking_number: str | None = None
    carrier: str | None = None
    occurred_at: datetime
    location: str | None = None
    note: str | None = None


class ShipmentDispatched(ShipmentEvent):
    order_id: UUID
    location: str
    lines: list[LineQuantity]
    shipped_at: datetime


class DeliveryAttemptRecorded(ShipmentEvent):
    order_id: UUID
    shipment_id: UUID
    attempt: int
    outcome: AttemptOutcome
    failure_reason: str | None = None
    next_attempt_at: datetime | None = None
    #: When the carrier tried, as reported (None: when it was recorded).
    occurred_at: datetime | None = None


class ShipmentDelivered(ShipmentEvent):
    order_id: UUID
    delivered_at: datetime


class ShipmentCancelled(ShipmentEvent):
    order_id: UUID
    reason: str


SHIPMENT_EVENTS = (
    ShipmentCreated,
    ShipmentTrackingUpdated,
    ShipmentDispatched,
    DeliveryAttemptRecorded,
    ShipmentDelivered,
    ShipmentCancelled,
)
