"""Events of the Product aggregate (stream type ``product``, one stream per product id)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.events import DomainEvent
from domain.money import Money

Lifecycle = Literal["draft", "pending_approval", "active", "discontinued", "archived"]
PriceChangeType = Literal["manual", "rule_based", "automated", "competitor_match"]
DetailField = Literal["name", "description", "brand", "attributes"]


class ProductEvent(DomainEvent):
    stream_type: ClassVar[str] = "product"


class FieldChange(BaseModel):
    """One field's old and new value, both taken from the aggregate (never from the client)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: DetailField
    old: Any = None
    new: Any = None


class ProductCreated(ProductEvent):
    product_id: UUID
    sku: str
    name: str
    description: str = ""
    brand: str | None = None
    category_ids: list[UUID] = []
    attributes: dict[str, Any] = {}
    price: Money | None = None
    #: The marketplace merchant selling it (None: our own product, and every older event).
    merchant_id: UUID | None = None


class ProductDetailsChanged(ProductEvent):
    changes: list[FieldChange]


class PriceChanged(ProductEvent):
    old: Money | None
    new: Money
    change_type: PriceChangeType = "manual"
    reason: str


class VariantAdded(ProductEvent):
    sku: str
    options: dict[str, str]
    price: Money | None = None


class VariantDeactivated(ProductEvent):
    sku: str
    reason: str | None = None


class MasterVariantSet(ProductEvent):
    """``sku`` becomes the master; ``previous_sku`` (if any) stops being it in the same event."""

    sku: str
    previous_sku: str | None = None


class CategoryAssigned(ProductEvent):
    category_id: UUID


class CategoryUnassigned(ProductEvent):
    category_id: UUID


class LifecycleStatusChanged(ProductEvent):
    old_status: Lifecycle
    new_status: Lifecycle
    reason: str | None = None


PRODUCT_EVENTS = (
    ProductCreated,
    ProductDetailsChanged,
    PriceChanged,
    VariantAdded,
    VariantDeactivated,
    MasterVariantSet,
    CategoryAssigned,
    CategoryUnassigned,
    LifecycleStatusChanged,
)
