"""Inventory decision state and its evolution.

Per location: on hand and reserved. Reservations by id with their remaining units and status.
Thresholds per location, and the alerts currently open. Each event returns a new state; maps are
copied, never changed in place, so a state seen by a decision never moves under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.inventory.events import (
    INVENTORY_EVENTS,
    ReservationConfirmed,
    ReservationExpired,
    ReservationReleased,
    StockAdjusted,
    StockAlertRaised,
    StockAlertResolved,
    StockCommitted,
    StockReceived,
    StockReserved,
    StockTransferred,
    ThresholdsSet,
)

ReservationStatus = Literal["active", "committed", "released", "expired"]


@dataclass(frozen=True, slots=True)
class Level:
    on_hand: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class Reservation:
    id: UUID
    order_id: UUID
    line_id: UUID
    location: str
    quantity: int
    remaining: int
    expires_at: datetime | None
    status: ReservationStatus = "active"

    def is_due(self, now: datetime) -> bool:
        """Active, unconfirmed and past its expiry: it holds nothing any more."""
        return self.status == "active" and self.expires_at is not None and now > self.expires_at


@dataclass(frozen=True, slots=True)
class Thresholds:
    reorder_point: int
    reorder_quantity: int | None = None
    max_stock: int | None = None


@dataclass(frozen=True, slots=True)
class InventoryState:
    sku: str = ""
    levels: dict[str, Level] = field(default_factory=dict)
    reservations: dict[UUID, Reservation] = field(default_factory=dict)
    thresholds: dict[str, Thresholds] = field(default_factory=dict)
    #: Open alerts as (location, kind).
    alerts: frozenset[tuple[str, str]] = frozenset()

    def level(self, location: str) -> Level:
        return self.levels.get(location, Level())

    def totals(self) -> dict[str, int]:
        on_hand = sum(lv.on_hand for lv in self.levels.values())
        reserved = sum(lv.reserved for lv in self.levels.values())
        return {"on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved}


def _move(state: InventoryState, location: str, on_hand: int = 0, reserved: int = 0):
    old = state.level(location)
    new = Level(old.on_hand + on_hand, old.reserved + reserved)
    return {**state.levels, location: new}


def _close(state: InventoryState, rid: UUID, status: ReservationStatus, used: int):
    r = state.reservations[rid]
    remaining = r.remaining - used
    closed = replace(r, remaining=remaining, status=status if remaining == 0 else r.status)
    return {**state.reservations, rid: closed}


def evolve(state: InventoryState, event: DomainEvent) -> InventoryState:
    s = replace(state, sku=state.sku or getattr(event, "sku", ""))
    match event:
        case StockReceived():
            return replace(s, levels=_move(s, event.location, on_hand=event.quantity))
        case StockAdjusted():
            return replace(s, levels=_move(s, event.location, on_hand=event.delta))
        case StockTransferred():
            s = replace(s, levels=_move(s, event.from_location, on_hand=-event.quantity))
            return replace(s, levels=_move(s, event.to_location, on_hand=event.quantity))
        case StockReserved():
            r = Reservation(
                event.reservation_id,
                event.order_id,
                event.line_id,
                event.location,
                event.quantity,
                event.quantity,
                event.expires_at,
            )
            return replace(
                s,
                levels=_move(s, event.location, reserved=event.quantity),
                reservations={**s.reservations, r.id: r},
            )
        case ReservationConfirmed():
            r = replace(s.reservations[event.reservation_id], expires_at=None)
            return replace(s, reservations={**s.reservations, r.id: r})
        case ReservationReleased() | ReservationExpired():
            status = "released" if isinstance(event, ReservationReleased) else "expired"
            r = s.reservations[event.reservation_id]
            closed = replace(r, remaining=0, status=status)
            return replace(
                s,
                levels=_move(s, event.location, reserved=-event.quantity),
                reservations={**s.reservations, r.id: closed},
            )
        case StockCommitted():
            return replace(
                s,
                levels=_move(s, event.location, on_hand=-event.quantity, reserved=-event.quantity),
                reservations=_close(s, event.reservation_id, "committed", event.quantity),
            )
        case ThresholdsSet():
            t = Thresholds(event.reorder_point, event.reorder_quantity, event.max_stock)
            return replace(s, thresholds={**s.thresholds, event.location: t})
        case StockAlertRaised():
            return replace(s, alerts=s.alerts | {(event.location, event.kind)})
        case StockAlertResolved():
            return replace(s, alerts=s.alerts - {(event.location, event.kind)})
    return s


INVENTORY = AggregateType("inventory", InventoryState, evolve, INVENTORY_EVENTS)
