"""The Bundle's decision state and its evolution."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from domain.aggregate import AggregateType
from domain.bundle.events import BUNDLE_EVENTS, BundleComponent, BundleCreated, BundlePricing
from domain.events import DomainEvent

BUNDLE_NAMESPACE = UUID("3b7c2f0e-5a41-4f7e-8d2b-6c1e9a0b4d21")


@dataclass(frozen=True, slots=True)
class BundleState:
    exists: bool = False
    sku: str = ""
    name: str = ""
    components: tuple[BundleComponent, ...] = ()
    pricing: BundlePricing | None = None
    currency: str = ""


def evolve(state: BundleState, event: DomainEvent) -> BundleState:
    if isinstance(event, BundleCreated):
        return BundleState(
            exists=True,
            sku=event.sku,
            name=event.name,
            components=tuple(event.components),
            pricing=event.pricing,
            currency=event.currency,
        )
    return state


BUNDLE = AggregateType("bundle", BundleState, evolve, BUNDLE_EVENTS)


def bundle_id_for(sku: str) -> UUID:
    """A bundle's id is made of its SKU, so the SKU registry's owner of a SKU tells, with no
    read, whether the SKU is a bundle's (its owner is this id) or a product's (a random id)."""
    return uuid5(BUNDLE_NAMESPACE, sku)
