"""Inventory decision state and its evolution.

Per location: on hand and reserved. Reservations by id with their remaining units, status and
what each shipment committed from them. Thresholds per location, and the alerts currently open.
Each event returns a new state; maps are never changed in place, so a state seen by a decision
never moves under it.

The reservation maps grow with the SKU's history (a hot SKU keeps tens of thousands) and are
persistent maps (``immutables.Map``, a hash array mapped trie): a new state shares all but the
changed paths with the one before, so applying an event costs the same at 100 reservations as
at 100,000. Plain dicts, copied for each run of events, made each of a hot SKU's decisions copy
every reservation it ever had, and a process manager's undo log then held one copy per order
of its batch (gigabytes, at 100,000 reservations and 300 orders).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from immutables import Map
from pydantic import AfterValidator, WrapSerializer

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


def _as_dict(value: Any, to_json: Any) -> Any:
    return to_json(dict(value))


K = TypeVar("K")
V = TypeVar("V")
#: A persistent map (``immutables.Map``) that snapshots (``eventstore/snapshots.py``, a
#: pydantic ``TypeAdapter``) encode and decode as the plain dict of the same keys and values.
PersistentMap = Annotated[dict[K, V], AfterValidator(Map), WrapSerializer(_as_dict)]


@dataclass(frozen=True, slots=True)
class InventoryState:
    sku: str = ""
    levels: dict[str, Level] = field(default_factory=dict)
    reservations: PersistentMap[UUID, Reservation] = field(default_factory=Map)
    thresholds: dict[str, Thresholds] = field(default_factory=dict)
    #: Open alerts as (location, kind).
    alerts: frozenset[tuple[str, str]] = frozenset()
    #: What each shipment committed from a reservation, by reservation id, for the
    #: reservations any shipment committed from (kept apart from ``reservations`` so the
    #: thousands never committed from cost a snapshot nothing).
    commits: PersistentMap[UUID, tuple[tuple[UUID, int], ...]] = field(default_factory=Map)
    #: The reservations that can still expire (active, with an expiry, not yet confirmed) ->
    #: when: what ``expire_due`` looks through, a handful, where ``reservations`` keeps every
    #: reservation the SKU ever had (a hot SKU's tens of thousands).
    expiring: PersistentMap[UUID, datetime] = field(default_factory=Map)
    #: Each order's reservation ids, in the order they were made.
    by_order: PersistentMap[UUID, tuple[UUID, ...]] = field(default_factory=Map)

    def of_order(self, order_id: UUID) -> list[Reservation]:
        """The order's reservations (any status), without looking through the others."""
        return [self.reservations[rid] for rid in self.by_order.get(order_id, ())]

    def committed_to(self, reservation_id: UUID, shipment_id: UUID) -> int:
        """The units ``shipment_id`` committed from the reservation ``reservation_id``."""
        return sum(n for sid, n in self.commits.get(reservation_id, ()) if sid == shipment_id)

    def level(self, location: str) -> Level:
        return self.levels.get(location, Level())

    def totals(self) -> dict[str, int]:
        on_hand = sum(lv.on_hand for lv in self.levels.values())
        reserved = sum(lv.reserved for lv in self.levels.values())
        return {"on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved}


class _Draft:
    """The state's small maps copied, and its reservation maps being mutated (``Map.mutate``:
    changes to a persistent map, not a copy), while a run of events is applied; ``done``
    freezes them into a new state. The state it started from never changes. With
    ``levels_only`` only the levels, thresholds and alerts are kept: the reservation maps stay
    the state's own, unchanged (see ``levels_after``)."""

    __slots__ = (
        "sku",
        "levels",
        "reservations",
        "thresholds",
        "alerts",
        "commits",
        "expiring",
        "by_order",
        "levels_only",
    )

    def __init__(self, state: InventoryState, *, levels_only: bool = False):
        self.sku = state.sku
        self.levels = dict(state.levels)
        self.thresholds = dict(state.thresholds)
        self.alerts = set(state.alerts)
        self.levels_only = levels_only
        if levels_only:
            self.reservations, self.commits = state.reservations, state.commits
            self.expiring, self.by_order = state.expiring, state.by_order
        else:
            self.reservations = state.reservations.mutate()
            self.commits = state.commits.mutate()
            self.expiring = state.expiring.mutate()
            self.by_order = state.by_order.mutate()

    def move(self, location: str, on_hand: int = 0, reserved: int = 0) -> None:
        old = self.levels.get(location, Level())
        self.levels[location] = Level(old.on_hand + on_hand, old.reserved + reserved)

    def apply(self, event: DomainEvent) -> None:
        self.sku = self.sku or getattr(event, "sku", "")
        match event:
            case StockReceived():
                self.move(event.location, on_hand=event.quantity)
            case StockAdjusted():
                self.move(event.location, on_hand=event.delta)
            case StockTransferred():
                self.move(event.from_location, on_hand=-event.quantity)
                self.move(event.to_location, on_hand=event.quantity)
            case StockReserved():
                self.move(event.location, reserved=event.quantity)
            case ReservationReleased() | ReservationExpired():
                self.move(event.location, reserved=-event.quantity)
            case StockCommitted():
                self.move(event.location, on_hand=-event.quantity, reserved=-event.quantity)
            case ThresholdsSet():
                t = Thresholds(event.reorder_point, event.reorder_quantity, event.max_stock)
                self.thresholds[event.location] = t
            case StockAlertRaised():
                self.alerts.add((event.location, event.kind))
            case StockAlertResolved():
                self.alerts.discard((event.location, event.kind))
        if not self.levels_only:
            self._book(event)

    def _book(self, event: DomainEvent) -> None:
        """The reservation maps' part of ``event``."""
        match event:
            case StockReserved():
                self.reservations[event.reservation_id] = Reservation(
                    event.reservation_id,
                    event.order_id,
                    event.line_id,
                    event.location,
                    event.quantity,
                    event.quantity,
                    event.expires_at,
                )
                if event.expires_at is not None:
                    self.expiring[event.reservation_id] = event.expires_at
                mine = self.by_order.get(event.order_id, ())
                self.by_order[event.order_id] = (*mine, event.reservation_id)
            case ReservationConfirmed():
                r = self.reservations[event.reservation_id]
                self.reservations[r.id] = replace(r, expires_at=None)
                self.expiring.pop(r.id, None)
            case ReservationReleased() | ReservationExpired():
                status = "released" if isinstance(event, ReservationReleased) else "expired"
                r = self.reservations[event.reservation_id]
                self.reservations[r.id] = replace(r, remaining=0, status=status)
                self.expiring.pop(r.id, None)
            case StockCommitted():
                r = self.reservations[event.reservation_id]
                remaining = r.remaining - event.quantity
                status = "committed" if remaining == 0 else r.status
                self.reservations[r.id] = replace(r, remaining=remaining, status=status)
                if status != "active":
                    self.expiring.pop(r.id, None)
                self.commits[r.id] = (
                    *self.commits.get(r.id, ()),
                    (event.shipment_id, event.quantity),
                )

    def done(self) -> InventoryState:
        maps = (self.reservations, self.commits, self.expiring, self.by_order)
        if not self.levels_only:
            maps = tuple(m.finish() for m in maps)
        reservations, commits, expiring, by_order = maps
        return InventoryState(
            self.sku,
            self.levels,
            reservations,
            self.thresholds,
            frozenset(self.alerts),
            commits,
            expiring,
            by_order,
        )


def evolve(state: InventoryState, event: DomainEvent) -> InventoryState:
    return evolve_many(state, (event,))


def evolve_many(state: InventoryState, events: Iterable[DomainEvent]) -> InventoryState:
    """Apply a run of events with one mutation of the state's maps."""
    draft = _Draft(state)
    for event in events:
        draft.apply(event)
    return draft.done()


def levels_after(state: InventoryState, events: Iterable[DomainEvent]) -> InventoryState:
    """The state's levels, thresholds and alerts after ``events``, for the rules that read
    only those (alerts): its reservation maps are the state's own, not brought up to date,
    and not copied (a hot SKU's are large)."""
    draft = _Draft(state, levels_only=True)
    for event in events:
        draft.apply(event)
    return draft.done()


#: A hot SKU's stream grows by ~3 events per order and its state keeps every reservation, so
#: commands start from a snapshot instead of the whole history: every 200 events while the
#: SKU has few reservations, and about every as many events as it has reservations beyond
#: that (a snapshot of 150,000 reservations is 51 MB of JSON: written every 200 events, it
#: would cost each event 1.2 ms of encoding and 250 KB of writes).
INVENTORY = AggregateType(
    "inventory",
    InventoryState,
    evolve,
    INVENTORY_EVENTS,
    fold_many=evolve_many,
    snapshot_every=200,
    snapshot_weight=lambda state: len(state.reservations),
)
