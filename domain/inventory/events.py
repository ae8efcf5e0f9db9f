"""Events of the Inventory aggregate (one stream per SKU).

Every event names its SKU and the location it touches, and carries the quantities it moved, so a
read model can apply it without the aggregate's state."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from domain.events import DomainEvent

#: The one list of movement types.
MovementType = Literal[
    "receipt",
    "shipment",
    "return",
    "adjustment",
    "damage",
    "loss",
    "transfer_out",
    "transfer_in",
    "count_correction",
]
AlertKind = Literal["out_of_stock", "low_stock"]
Positive = Field(gt=0)


class InventoryEvent(DomainEvent):
    stream_type: ClassVar[str] = "inventory"

    sku: str


class StockReceived(InventoryEvent):
    location: str
    quantity: int = Positive
    reference: str | None = None


class StockAdjusted(InventoryEvent):
    location: str
    delta: int
    reason: str = Field(min_length=1)
    movement_type: MovementType = "adjustment"


class StockTransferred(InventoryEvent):
    from_location: str
    to_location: str
    quantity: int = Positive


class StockReserved(InventoryEvent):
    reservation_id: UUID
    order_id: UUID
    line_id: UUID
    location: str
    quantity: int = Positive
    expires_at: datetime | None


class ReservationConfirmed(InventoryEvent):
    reservation_id: UUID
    location: str


class ReservationReleased(InventoryEvent):
    reservation_id: UUID
    location: str
    quantity: int = Positive
    reason: str


class ReservationExpired(InventoryEvent):
    reservation_id: UUID
    location: str
    quantity: int = Positive
    expired_at: datetime


class StockCommitted(InventoryEvent):
    reservation_id: UUID
    shipment_id: UUID
    location: str
    quantity: int = Positive


class ThresholdsSet(InventoryEvent):
    location: str
    reorder_point: int = Field(ge=0)
    reorder_quantity: int | None = None
    max_stock: int | None = None


class StockAlertRaised(InventoryEvent):
    location: str
    kind: AlertKind
    severity: Literal["critical", "medium"]
    available: int


class StockAlertResolved(InventoryEvent):
    location: str
    kind: AlertKind
    available: int


INVENTORY_EVENTS = (
    StockReceived,
    StockAdjusted,
    StockTransferred,
    StockReserved,
    ReservationConfirmed,
    ReservationReleased,
    ReservationExpired,
    StockCommitted,
    ThresholdsSet,
    StockAlertRaised,
    StockAlertResolved,
)
