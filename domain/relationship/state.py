"""The relationships of one product: (related product, type) pairs already declared."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.ids import NAMESPACE
from domain.relationship import events as ev


def relationships_stream(product_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"product-relationships:{product_id}")


@dataclass(frozen=True, slots=True)
class Relationships:
    pairs: frozenset[tuple[UUID, str]] = frozenset()


def evolve(state: Relationships, event: DomainEvent) -> Relationships:
    if isinstance(event, ev.ProductsRelated):
        return Relationships(state.pairs | {(event.related_product_id, event.relationship)})
    return state


RELATIONSHIPS = AggregateType(
    "product_relationships", Relationships, evolve, ev.RELATIONSHIP_EVENTS
)
