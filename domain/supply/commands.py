"""The commands of the supply side, as messages. Quantities are checked loosely here (whole
numbers above zero); the decisions name the precise refusal (packs, minimums, over-receipt)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command, LocationCode, MoneyIn, Sku, whole
from domain.order.values import Text200, Value

Quantity = whole(gt=0, le=1_000_000_000)
#: Loose here: the decision refuses a malformed one with ``invalid_email``.
Email = Annotated[str, Field(min_length=1, max_length=254)]


class SupplierItemIn(Value):
    sku: Sku
    cost: MoneyIn
    pack_size: Quantity
    min_order_quantity: Quantity


class RegisterSupplier(Command):
    name: Text200
    email: Email
    lead_time_days: whole(ge=0, le=3650)  # type: ignore[valid-type]
    items: Annotated[list[SupplierItemIn], Field(min_length=1, max_length=500)]


class LineIn(Value):
    sku: Sku
    quantity: Quantity


Lines = Annotated[list[LineIn], Field(min_length=1, max_length=500)]


class CreatePurchaseOrder(Command):
    supplier_id: UUID
    location: LocationCode
    lines: Lines


class ApprovePurchaseOrder(Command):
    purchase_order_id: UUID


class DispatchPurchaseOrder(Command):
    purchase_order_id: UUID


class CancelPurchaseOrder(Command):
    purchase_order_id: UUID
    reason: Annotated[str, Field(min_length=1, max_length=500)] = "cancelled"


class ReceivePurchaseOrder(Command):
    """A receipt: some units of some lines arrived at the order's location."""

    purchase_order_id: UUID
    lines: Lines
