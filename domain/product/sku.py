"""The SKU registry: one stream per SKU (id ``domain.ids.sku_claim_stream(sku)``) whose first
event claims the SKU for a product. Appending it at expected version 0 in the same transaction
as the product's own event makes SKUs unique across products and variants without a race."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from domain.events import DomainEvent


class SkuClaimed(DomainEvent):
    stream_type: ClassVar[str] = "sku"

    sku: str
    product_id: UUID
    is_variant: bool = False
    #: The SKU is a bundle's (``product_id`` is then the bundle's id: ``domain.bundle``).
    is_bundle: bool = False


SKU_EVENTS = (SkuClaimed,)
