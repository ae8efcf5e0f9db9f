"""Shipment decision state and its evolution; decisions are in ``decide``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.order.values import LineQuantity
from domain.shipment.events import (
    SHIPMENT_EVENTS,
    DeliveryAttemptRecorded,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentTrackingUpdated,
)


@dataclass(frozen=True, slots=True)
class ShipmentState:
    exists: bool = False
    order_id: UUID | None = None
    number: int = 0
    location: str = ""
    lines: tuple[LineQuantity, ...] = ()
    carrier: str = ""
    tracking_number: str | None = None
    status: str = "pending"
    dispatched: bool = False
    attempts: int = 0
    failed_attempts: int = 0
    #: When it was delivered, as its ``ShipmentDelivered`` records it (the carrier's time).
    delivered_at: datetime | None = None


def evolve(state: ShipmentState, event: DomainEvent) -> ShipmentState:
    match event:
        case ShipmentCreated():
            return ShipmentState(
                exists=True,
                order_id=event.order_id,
                number=event.number,
                location=event.location,
                lines=tuple(event.lines),
                carrier=event.carrier,
                tracking_number=event.tracking_number,
            )
        case ShipmentTrackingUpdated():
            return replace(
                state,
                status=event.status,
                tracking_number=event.tracking_number or state.tracking_number,
                carrier=event.carrier or state.carrier,
            )
        case ShipmentDispatched():
            return replace(state, dispatched=True, status="shipped")
        case DeliveryAttemptRecorded():
            failed = state.failed_attempts + (event.outcome != "successful")
            status = state.status
            if event.outcome != "successful":
                third = failed >= 3
                status = (
                    "exception"
                    if third or event.outcome in ("refused_by_customer", "damaged_package")
                    else "in_transit"
                )
            return replace(state, attempts=event.attempt, failed_attempts=failed, status=status)
        case ShipmentDelivered():
            return replace(state, status="delivered", delivered_at=event.delivered_at)
        case ShipmentCancelled():
            return replace(state, status="cancelled")
    return state


SHIPMENT = AggregateType("shipment", ShipmentState, evolve, SHIPMENT_EVENTS)
