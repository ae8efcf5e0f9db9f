"""Events of the Bundle aggregate (stream type ``bundle``, one stream per bundle id)."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.events import DomainEvent

PricingType = Literal["fixed_price", "percentage_discount", "component_sum"]


class BundleComponent(BaseModel):
    """One component: a product's or a variant's SKU and how many of it one bundle holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    quantity: int


class BundlePricing(BaseModel):
    """How the bundle is priced: ``value`` is the fixed price (in the components' currency)
    or the discount in percent; none for ``component_sum``. Kept as text, exactly as decided."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: PricingType
    value: str | None = None


class BundleEvent(DomainEvent):
    stream_type: ClassVar[str] = "bundle"


class BundleCreated(BundleEvent):
    bundle_id: UUID
    sku: str
    name: str
    components: list[BundleComponent]
    pricing: BundlePricing
    #: The components' currency when the bundle was made (a fixed price is in it).
    currency: str


BUNDLE_EVENTS = (BundleCreated,)
