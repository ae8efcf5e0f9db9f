"""Dropship request decisions, each a no-op when repeated (the manager that makes them may
replay after a crash): request once per plan; count a shipment's units once when it leaves
and once when it is delivered."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from domain.dropship.events import (
    DropshipDelivered,
    DropshipRequested,
    DropshipShipped,
    RequestedLine,
)
from domain.dropship.state import DropshipState
from domain.events import DomainEvent


def request(
    state: DropshipState,
    *,
    order_id: UUID,
    plan_id: UUID,
    vendor_id: UUID,
    location: str,
    lines: Sequence[RequestedLine],
    by: str,
) -> list[DomainEvent]:
    if state.exists or not lines:
        return []
    return [
        DropshipRequested(
            order_id=order_id,
            plan_id=plan_id,
            vendor_id=vendor_id,
            location=location,
            lines=list(lines),
            requested_by=by,
        )
    ]


def record_shipped(state: DropshipState, shipment_id: UUID, units: int) -> list[DomainEvent]:
    if not state.exists or shipment_id in state.shipments:
        return []
    return [DropshipShipped(shipment_id=shipment_id, units=units)]


def record_delivered(state: DropshipState, shipment_id: UUID, units: int) -> list[DomainEvent]:
    if not state.exists or shipment_id not in state.shipments or shipment_id in state.deliveries:
        return []
    return [DropshipDelivered(shipment_id=shipment_id, units=units)]
