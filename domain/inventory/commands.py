"""The commands that move stock on purpose, as messages: receipts, adjustments, transfers and
thresholds of one SKU at its locations. (Reservations are the order saga's, in
``reservations.py``.)"""

from __future__ import annotations

from typing import Annotated

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
