"""Shipment decisions: tracking updates, delivery attempts and cancellation.

Tracking statuses ``label_created, picked_up (= shipped), in_transit, out_for_delivery,
delivered, exception, returned``; late or duplicate events never move the status back.
Delivery attempts are numbered without gaps; success delivers; refusal, damage or a third
failure means ``exception``.

A carrier's event and an attempt happen when the carrier says (``occurred_at``, default now);
that time must lie in the ``ReportedTimes`` the handler gives (from the order's placement to
now plus the clock skew, ``domain.reported_time``), and a delivery records it as
``delivered_at``, which the return window counts from."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.reported_time import ReportedTimes
from domain.shipment.commands import RecordDeliveryAttempt, RecordTracking
from domain.shipment.events import (
    DeliveryAttemptRecorded,
    ShipmentCancelled,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentTrackingUpdated,
)
from domain.shipment.state import ShipmentState

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


def require_shipment(state: ShipmentState, shipment_id: UUID) -> ShipmentState:
    if not state.exists:
        raise NotFound(f"Shipment {shipment_id} does not exist.", code="shipment_not_found")
    return state


def record_tracking(
    state: ShipmentState, c: RecordTracking, times: ReportedTimes
) -> list[DomainEvent]:
    """Record a carrier's event. ``picked_up`` dispatches; one that would move the status
    back (late or duplicate) is recorded in the history but changes nothing. Without
    ``occurred_at`` the event happened now (``times.now``); with one outside ``times``,
    ``422 occurred_at_out_of_range``."""
    shipment_id, code = c.shipment_id, c.status
    require_shipment(state, shipment_id)
    assert state.order_id is not None
    occurred_at = _reported(c.occurred_at, times)
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
            tracking_number=c.tracking_number,
            occurred_at=occurred_at,
            location=c.location,
            note=c.note,
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


def _reported(occurred_at: datetime | None, times: ReportedTimes) -> datetime:
    """The business time of a carrier's report: its own, checked, or now."""
    return times.now if occurred_at is None else times.require(occurred_at, "occurred_at")


def record_attempt(
    state: ShipmentState, c: RecordDeliveryAttempt, times: ReportedTimes
) -> list[DomainEvent]:
    """Record a delivery attempt made at ``occurred_at`` (default now, else checked against
    ``times``); a next attempt is not planned before it (``next_attempt_at_out_of_range``)."""
    shipment_id, outcome, failure_reason = c.shipment_id, c.outcome, c.failure_reason
    require_shipment(state, shipment_id)
    assert state.order_id is not None
    occurred_at = _reported(c.occurred_at, times)
    if not state.dispatched:
        raise Conflict("The shipment has not left yet.", code="shipment_not_dispatched")
    if state.status in ("delivered", "returned", "cancelled"):
        raise Conflict(f"The shipment is {state.status}.", code="shipment_closed")
    if outcome != "successful" and not (failure_reason or "").strip():
        raise InvalidCommand("A failed attempt needs a reason.", code="failure_reason_required")
    if c.next_attempt_at is not None and c.next_attempt_at < occurred_at:
        raise InvalidCommand(
            "The next attempt cannot be planned before this one.",
            code="next_attempt_at_out_of_range",
            details={
                "next_attempt_at": c.next_attempt_at.isoformat(),
                "occurred_at": occurred_at.isoformat(),
            },
        )
    events: list[DomainEvent] = [
        DeliveryAttemptRecorded(
            order_id=state.order_id,
            shipment_id=shipment_id,
            attempt=state.attempts + 1,
            outcome=outcome,
            failure_reason=failure_reason,
            next_attempt_at=c.next_attempt_at,
            occurred_at=c.occurred_at,
        )
    ]
    if outcome == "successful":
        events.append(ShipmentDelivered(order_id=state.order_id, delivered_at=occurred_at))
    return events


def cancel_shipment(state: ShipmentState, shipment_id: UUID, *, reason: str):
    require_shipment(state, shipment_id)
    assert state.order_id is not None
    if state.status == "cancelled":
        return []
    if state.dispatched:
        raise Conflict("The shipment has left.", code="shipment_dispatched")
    return [ShipmentCancelled(order_id=state.order_id, reason=reason)]
