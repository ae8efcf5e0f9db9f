"""Product decision state and how each event evolves it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.money import Money
from domain.product.events import (
    PRODUCT_EVENTS,
    CategoryAssigned,
    CategoryUnassigned,
    LifecycleStatusChanged,
    MasterVariantSet,
    PriceChanged,
    ProductCreated,
    ProductDetailsChanged,
    VariantAdded,
    VariantDeactivated,
)


@dataclass(frozen=True, slots=True)
class VariantState:
    sku: str
    options: dict[str, str]
    price: Money | None = None
    active: bool = True
    master: bool = False


@dataclass(frozen=True, slots=True)
class ProductState:
    exists: bool = False
    product_id: UUID | None = None
    sku: str = ""
    name: str = ""
    description: str = ""
    brand: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    price: Money | None = None
    status: str = "draft"
    category_ids: tuple[UUID, ...] = ()
    variants: tuple[VariantState, ...] = ()
    merchant_id: UUID | None = None

    def variant(self, sku: str) -> VariantState | None:
        return next((v for v in self.variants if v.sku == sku), None)

    @property
    def master_sku(self) -> str | None:
        return next((v.sku for v in self.variants if v.master), None)


def _with_variants(state: ProductState, change) -> ProductState:
    return replace(state, variants=tuple(change(v) for v in state.variants))


def evolve(state: ProductState, event: DomainEvent) -> ProductState:
    match event:
        case ProductCreated():
            return ProductState(
                exists=True,
                product_id=event.product_id,
                sku=event.sku,
                name=event.name,
                description=event.description,
                brand=event.brand,
                attributes=dict(event.attributes),
                price=event.price,
                category_ids=tuple(event.category_ids),
                merchant_id=event.merchant_id,
            )
        case ProductDetailsChanged():
            return replace(state, **{c.field: c.new for c in event.changes})
        case PriceChanged():
            return replace(state, price=event.new)
        case VariantAdded():
            added = VariantState(sku=event.sku, options=dict(event.options), price=event.price)
            return replace(state, variants=(*state.variants, added))
        case VariantDeactivated():
            return _with_variants(
                state, lambda v: replace(v, active=False) if v.sku == event.sku else v
            )
        case MasterVariantSet():
            return _with_variants(state, lambda v: replace(v, master=v.sku == event.sku))
        case CategoryAssigned():
            return replace(state, category_ids=(*state.category_ids, event.category_id))
        case CategoryUnassigned():
            ids = tuple(c for c in state.category_ids if c != event.category_id)
            return replace(state, category_ids=ids)
        case LifecycleStatusChanged():
            return replace(state, status=event.new_status)
    return state


PRODUCT = AggregateType("product", ProductState, evolve, PRODUCT_EVENTS)
