"""Decisions on reservations: reserve, confirm, release, expire and commit.

A reservation holds one order line's units at one location until it is committed, released or
expires; confirming it removes its expiry. Releasing or expiring an inactive one writes nothing.
Each decision takes the state, the command (``commands.py``) and the clock, and returns the
events to record.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.errors import Conflict, InsufficientStock, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.inventory.commands import (
    CommitReservation,
    ConfirmReservation,
    ExpireDueReservations,
    ExpireReservation,
    ReleaseReservation,
    ReserveStock,
)
from domain.inventory.events import (
    ReservationConfirmed,
    ReservationReleased,
    StockCommitted,
    StockReserved,
)
from domain.inventory.rules import decide, require_positive
from domain.inventory.state import InventoryState, Reservation


def _find(state: InventoryState, reservation_id: UUID) -> Reservation:
    r = state.reservations.get(reservation_id)
    if r is None:
        raise NotFound(
            f"Reservation {reservation_id} does not exist for SKU '{state.sku}'.",
            code="reservation_not_found",
        )
    return r


def _require_active(r: Reservation) -> Reservation:
    if r.status == "expired":
        raise Conflict(f"Reservation {r.id} has expired.", code="reservation_expired")
    if r.status != "active":
        raise Conflict(
            f"Reservation {r.id} is {r.status}.",
            code="reservation_inactive",
            details={"status": r.status},
        )
    return r


def reserve_stock(state: InventoryState, c: ReserveStock, now: datetime) -> list[DomainEvent]:
    require_positive(c.quantity)
    if c.expires_at is not None and c.expires_at <= now:
        raise InvalidCommand("A reservation must expire in the future.", code="invalid_expiry")
    sku, location, quantity = c.sku, c.location, c.quantity

    def command(s: InventoryState) -> list[DomainEvent]:
        existing = s.reservations.get(c.reservation_id)
        if existing is not None:
            same = (existing.order_id, existing.line_id, existing.location, existing.quantity)
            if same == (c.order_id, c.line_id, location, quantity):
                return []  # a repeat of the same reservation
            raise Conflict(
                f"Reservation {c.reservation_id} already exists.", code="reservation_exists"
            )
        available = s.level(location).available
        if quantity > available:
            raise InsufficientStock(
                f"Only {available} units of '{sku}' are available at '{location}'; "
                f"{quantity} were requested.",
                details={"location": location, "requested": quantity, "available": available},
            )
        return [
            StockReserved(
                sku=sku,
                reservation_id=c.reservation_id,
                order_id=c.order_id,
                line_id=c.line_id,
                location=location,
                quantity=quantity,
                expires_at=c.expires_at,
            )
        ]

    return decide(state, sku, now, command)


def confirm_reservation(
    state: InventoryState, c: ConfirmReservation, now: datetime
) -> list[DomainEvent]:
    def command(s: InventoryState) -> list[DomainEvent]:
        r = _require_active(_find(s, c.reservation_id))
        if r.expires_at is None:
            return []  # already confirmed
        return [ReservationConfirmed(sku=c.sku, reservation_id=r.id, location=r.location)]

    return decide(state, c.sku, now, command)


def release_reservation(
    state: InventoryState, c: ReleaseReservation, now: datetime
) -> list[DomainEvent]:
    def command(s: InventoryState) -> list[DomainEvent]:
        r = _find(s, c.reservation_id)
        if r.status != "active":
            return []
        return [
            ReservationReleased(
                sku=c.sku,
                reservation_id=r.id,
                location=r.location,
                quantity=r.remaining,
                reason=c.reason,
            )
        ]

    return decide(state, c.sku, now, command)


def expire_reservation(
    state: InventoryState, c: ExpireReservation, now: datetime
) -> list[DomainEvent]:
    """Due reservations expire before any decision; this one only says why it cannot."""

    def command(s: InventoryState) -> list[DomainEvent]:
        r = _find(s, c.reservation_id)
        if r.status != "active":
            return []
        if r.expires_at is None:
            raise Conflict(
                f"Reservation {r.id} is confirmed and never expires.",
                code="reservation_confirmed",
            )
        raise Conflict(
            f"Reservation {r.id} expires at {r.expires_at.isoformat()}, not yet.",
            code="reservation_not_due",
        )

    return decide(state, c.sku, now, command)


def expire_due_reservations(
    state: InventoryState, c: ExpireDueReservations, now: datetime
) -> list[DomainEvent]:
    """The sweep: record every due expiry, and nothing else."""
    return decide(state, c.sku, now, lambda s: [])


def commit_reservation(
    state: InventoryState, c: CommitReservation, now: datetime
) -> list[DomainEvent]:
    if c.quantity is not None:
        require_positive(c.quantity)

    def command(s: InventoryState) -> list[DomainEvent]:
        r = _require_active(_find(s, c.reservation_id))
        units = r.remaining if c.quantity is None else c.quantity
        if units > r.remaining:
            raise Conflict(
                f"Reservation {r.id} holds {r.remaining} units; {units} cannot be committed.",
                code="commit_exceeds_reservation",
                details={"remaining": r.remaining, "requested": units},
            )
        return [
            StockCommitted(
                sku=c.sku,
                reservation_id=r.id,
                shipment_id=c.shipment_id,
                location=r.location,
                quantity=units,
            )
        ]

    return decide(state, c.sku, now, command)
