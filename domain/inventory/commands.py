"""The commands on one SKU's stock, as messages: receipts, adjustments, transfers and
thresholds at its locations, and the reservations that hold units for order lines (the process
managers' commands, decided in ``reservations.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command, LocationCode, Sku, whole

Quantity = whole(gt=0, le=1_000_000_000)


class ReceiveStock(Command):
    sku: Sku
    location: LocationCode
    quantity: Quantity
    reference: Annotated[str | None, Field(min_length=1, max_length=200)] = None


class AdjustStock(Command):
    sku: Sku
    location: LocationCode
    delta: whole(ge=-1_000_000_000, le=1_000_000_000)  # type: ignore[valid-type]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class TransferStock(Command):
    sku: Sku
    from_location: LocationCode
    to_location: LocationCode
    quantity: Quantity


class SetThresholds(Command):
    sku: Sku
    location: LocationCode
    reorder_point: whole(ge=0, le=1_000_000_000)  # type: ignore[valid-type]
    reorder_quantity: Quantity | None = None
    max_stock: Quantity | None = None


#: Why a reservation is released (``order_cancelled``, ``edited``, ...).
Reason = Annotated[str, Field(min_length=1, max_length=200)]


class ReserveStock(Command):
    """Hold ``quantity`` units at ``location`` for an order line, until ``expires_at`` (never,
    when None). The sender names the reservation, so a repeat finds the one it made."""

    sku: Sku
    reservation_id: UUID
    order_id: UUID
    line_id: UUID
    location: LocationCode
    quantity: Quantity
    expires_at: datetime | None


class ConfirmReservation(Command):
    """Remove a reservation's expiry: it holds its units until committed or released."""

    sku: Sku
    reservation_id: UUID


class ReleaseReservation(Command):
    """Free what a reservation still holds; an inactive one is left as it is."""

    sku: Sku
    reservation_id: UUID
    reason: Reason = "released"


class ExpireReservation(Command):
    """Record a reservation's expiry (due ones expire before any decision on the SKU)."""

    sku: Sku
    reservation_id: UUID


class ExpireDueReservations(Command):
    """The sweep: record every reservation of the SKU that is past its expiry."""

    sku: Sku


class CommitReservation(Command):
    """Take ``quantity`` units (all it still holds, when None) of a reservation off the shelf
    for ``shipment_id``."""

    sku: Sku
    reservation_id: UUID
    shipment_id: UUID
    quantity: Quantity | None = None
