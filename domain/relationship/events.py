"""Events of a product's relationships stream (``domain.relationship.state``
``relationships_stream``): which products it points to, and how."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from domain.events import DomainEvent

RelationshipType = Literal["cross_sell", "up_sell", "accessory", "similar"]
RELATIONSHIP_TYPES: tuple[str, ...] = ("cross_sell", "up_sell", "accessory", "similar")


class RelationshipEvent(DomainEvent):
    stream_type: ClassVar[str] = "product_relationships"


class ProductsRelated(RelationshipEvent):
    """``product_id`` now points to ``related_product_id`` as ``relationship``."""

    product_id: UUID
    related_product_id: UUID
    relationship: RelationshipType
    related_by: str


RELATIONSHIP_EVENTS: tuple[type[DomainEvent], ...] = (ProductsRelated,)
