"""Dropship request state: the units asked for, shipped and delivered, and by which shipments
(so a shipment is counted once). Its status: ``requested``, ``partially_shipped``, ``shipped``,
``delivered`` (every unit asked for delivered)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID, uuid5

from domain.aggregate import AggregateType
from domain.dropship.events import (
    DROPSHIP_EVENTS,
    DropshipDelivered,
    DropshipRequested,
    DropshipShipped,
)
from domain.events import DomainEvent
from domain.ids import NAMESPACE


def dropship_request_stream(plan_id: UUID) -> UUID:
    """A plan's request: one per plan, so asking twice is a no-op, not a second request."""
    return uuid5(NAMESPACE, f"dropship-request:{plan_id}")


@dataclass(frozen=True, slots=True)
class DropshipState:
    exists: bool = False
    order_id: UUID | None = None
    location: str = ""
    requested: int = 0
    shipped: int = 0
    delivered: int = 0
    shipments: frozenset[UUID] = frozenset()
    deliveries: frozenset[UUID] = frozenset()

    @property
    def status(self) -> str:
        if not self.exists:
            return ""
        if self.delivered >= self.requested:
            return "delivered"
        if self.shipped >= self.requested:
            return "shipped"
        return "partially_shipped" if self.shipped else "requested"


def evolve(state: DropshipState, event: DomainEvent) -> DropshipState:
    match event:
        case DropshipRequested():
            requested = sum(line.quantity for line in event.lines)
            return DropshipState(True, event.order_id, event.location, requested)
        case DropshipShipped():
            return replace(
                state,
                shipped=state.shipped + event.units,
                shipments=state.shipments | {event.shipment_id},
            )
        case DropshipDelivered():
            return replace(
                state,
                delivered=state.delivered + event.units,
                deliveries=state.deliveries | {event.shipment_id},
            )
    return state


DROPSHIP = AggregateType("dropship_request", DropshipState, evolve, DROPSHIP_EVENTS)
