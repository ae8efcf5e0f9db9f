"""Shipment: a parcel of an order, numbered 1, 2, … per order (one stream per shipment).

Tracking statuses ``label_created, picked_up (= shipped), in_transit, out_for_delivery,
delivered, exception, returned``; late or duplicate events never move the status back.
Delivery attempts are numbered without gaps; success delivers; refusal, damage or a third
failure means ``exception``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from domain.aggregate import AggregateType
from domain.errors import Conflict, InvalidCommand, NotFound
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

#: Status a tracking code leads to, and each status's rank (a lower rank never follows).
STATUS_OF = {"picked_up": "shipped"}
RANK = {
    "pending": 0,
    "label_created": 1,
    "shipped": 2,
    "in_transit": 3,
    "out_for_delivery": 4,
    "exception": 4,
    "delivered": 6,
    "returned": 6,
    "cancelled": 9,
}
ALLOWED = {
    "pending": {"label_created", "shipped", "cancelled"},
    "label_created": {"shipped", "cancelled"},
    "shipped": {"in_transit", "out_for_delivery", "delivered", "exception"},
    "in_transit": {"in_transit", "out_for_delivery", "delivered", "exception"},
    "out_for_delivery": {"in_transit", "delivered", "exception"},
    "exception": {"in_transit", "out_for_delivery", "delivered", "returned"},
    "delivered": set(),
    "returned": set(),
    "cancelled": set(),
}


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
            return replace(state, status="delivered")
        case ShipmentCancelled():
            return replace(state, status="cancelled")
    return state


SHIPMENT = AggregateType("shipment", ShipmentState, evolve, SHIPMENT_EVENTS)


def require_shipment(state: ShipmentState, shipment_id: UUID) -> ShipmentState:
    if not state.exists:
        raise NotFound(f"Shipment {shipment_id} does not exist.", code="shipment_not_found")
    return state


def record_tracking(
    state: ShipmentState,
    shipment_id: UUID,
    *,
    code: TrackingStatus,
    occurred_at: datetime,
    location: str | None,
    note: str | None,
    tracking_number: str | None = None,
    now: datetime,
) -> list[DomainEvent]:
    """Record a carrier's event. ``picked_up`` dispatches; one that would move the status
    back (late or duplicate) is recorded in the history but changes nothing."""
    require_shipment(state, shipment_id)
    assert state.order_id is not None
    if state.status == "cancelled":
        raise Conflict("The shipment is cancelled.", code="shipment_cancelled")
    target = STATUS_OF.get(code, code)
    forward = target in ALLOWED[state.status] and RANK[target] >= RANK[state.status]
    status = target if forward else state.status
    events: list[DomainEvent] = [
        ShipmentTrackingUpdated(
            order_id=state.order_id,
            shipment_id=shipment_id,
            code=code,
            status=status,
            tracking_number=tracking_number,
            occurred_at=occurred_at,
            location=location,
            note=note,
        )
    ]
    if target in ("shipped", "in_transit", "out_for_delivery", "delivered") and not (
        state.dispatched
    ):
        if state.status not in ("pending", "label_created"):
            return events
        events.append(
            ShipmentDispatched(
                order_id=state.order_id,
                location=state.location,
                lines=list(state.lines),
                shipped_at=occurred_at,
            )
        )
    if forward and target == "delivered":
        events.append(ShipmentDelivered(order_id=state.order_id, delivered_at=occurred_at))
    return events


def record_attempt(
    state: ShipmentState,
    shipment_id: UUID,
    *,
    outcome: AttemptOutcome,
    failure_reason: str | None,
    next_attempt_at: datetime | None,
    now: datetime,
) -> list[DomainEvent]:
    require_shipment(state, shipment_id)
    assert state.order_id is not None
    if not state.dispatched:
        raise Conflict("The shipment has not left yet.", code="shipment_not_dispatched")
    if state.status in ("delivered", "returned", "cancelled"):
        raise Conflict(f"The shipment is {state.status}.", code="shipment_closed")
    if outcome != "successful" and not (failure_reason or "").strip():
        raise InvalidCommand("A failed attempt needs a reason.", code="failure_reason_required")
    events: list[DomainEvent] = [
        DeliveryAttemptRecorded(
            order_id=state.order_id,
            shipment_id=shipment_id,
            attempt=state.attempts + 1,
            outcome=outcome,
            failure_reason=failure_reason,
            next_attempt_at=next_attempt_at,
        )
    ]
    if outcome == "successful":
        events.append(ShipmentDelivered(order_id=state.order_id, delivered_at=now))
    return events


def cancel_shipment(state: ShipmentState, shipment_id: UUID, *, reason: str):
    require_shipment(state, shipment_id)
    assert state.order_id is not None
    if state.status == "cancelled":
        return []
    if state.dispatched:
        raise Conflict("The shipment has left.", code="shipment_dispatched")
    return [ShipmentCancelled(order_id=state.order_id, reason=reason)]
