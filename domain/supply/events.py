"""Events of the supply side.

- ``supplier`` streams (one per supplier): ``SupplierRegistered``.
- ``supplier_sku`` streams (one per SKU, ``supplier_sku_stream``): ``SupplierSkuListed``, one per
  supplier that carries the SKU, written with the registration, so choosing a supplier for a
  SKU reads one stream.
- ``purchase_order`` streams: created ``pending``, approved (``ordered``), dispatched
  (``in_transit``), received in parts (``PurchaseOrderReceived``, the last one ``complete``),
  cancelled.
- ``replenishment`` streams (one per SKU and location, ``replenishment_stream``): each
  ``ReorderSuggested`` opens a suggestion (with its drafted purchase order), each
  ``ReorderSuggestionClosed`` closes it."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.events import DomainEvent


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SupplierItem(_Part):
    """What a supplier sells a SKU for: ``cost`` a decimal string per unit in ``currency``."""

    sku: str
    cost: str
    currency: str
    pack_size: int = Field(gt=0)
    min_order_quantity: int = Field(gt=0)


class SupplierEvent(DomainEvent):
    stream_type: ClassVar[str] = "supplier"


class SupplierRegistered(SupplierEvent):
    name: str
    email: str
    lead_time_days: int = Field(ge=0)
    items: tuple[SupplierItem, ...]


class SupplierSkuEvent(DomainEvent):
    stream_type: ClassVar[str] = "supplier_sku"


class SupplierSkuListed(SupplierSkuEvent):
    supplier_id: UUID
    lead_time_days: int = Field(ge=0)
    item: SupplierItem


class OrderedLine(_Part):
    sku: str
    quantity: int = Field(gt=0)
    unit_cost: str
    currency: str


class ReceivedLine(_Part):
    sku: str
    quantity: int = Field(gt=0)


class PurchaseOrderEvent(DomainEvent):
    stream_type: ClassVar[str] = "purchase_order"


class PurchaseOrderCreated(PurchaseOrderEvent):
    supplier_id: UUID
    location: str
    lines: tuple[OrderedLine, ...]
    #: The supplier's promised lead time when the order was made (the analytics compare it).
    lead_time_days: int = Field(ge=0)
    #: The replenishment suggestion that drafted it, if one did.
    suggestion_id: UUID | None = None


class PurchaseOrderApproved(PurchaseOrderEvent):
    pass


class PurchaseOrderDispatched(PurchaseOrderEvent):
    pass


class PurchaseOrderReceived(PurchaseOrderEvent):
    receipt_id: UUID
    lines: tuple[ReceivedLine, ...]
    #: Every line is now received in full: the order is ``received``.
    complete: bool


class PurchaseOrderCancelled(PurchaseOrderEvent):
    reason: str


class ReplenishmentEvent(DomainEvent):
    stream_type: ClassVar[str] = "replenishment"


class ReorderSuggested(ReplenishmentEvent):
    suggestion_id: UUID
    sku: str
    location: str
    available: int
    reorder_point: int
    quantity: int = Field(gt=0)
    #: None when no supplier carries the SKU: then nothing was drafted and nothing stays open.
    supplier_id: UUID | None
    purchase_order_id: UUID | None


class ReorderSuggestionClosed(ReplenishmentEvent):
    suggestion_id: UUID
    purchase_order_id: UUID
    reason: Literal["received", "cancelled"]


SUPPLY_EVENTS = (
    SupplierRegistered,
    SupplierSkuListed,
    PurchaseOrderCreated,
    PurchaseOrderApproved,
    PurchaseOrderDispatched,
    PurchaseOrderReceived,
    PurchaseOrderCancelled,
    ReorderSuggested,
    ReorderSuggestionClosed,
)
