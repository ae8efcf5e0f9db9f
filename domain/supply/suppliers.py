"""The Supplier aggregate and the per-SKU list of the suppliers that carry a SKU.

A supplier is registered once with its lead time and the SKUs it sells (cost, pack size,
minimum order quantity); each SKU's ``supplier_sku`` stream gets a ``SupplierSkuListed`` in the
same transaction, which is what replenishment reads to choose a supplier."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID, uuid5

from domain.aggregate import AggregateType
from domain.customer.contact import valid_email
from domain.errors import Conflict, InvalidCommand
from domain.events import DomainEvent
from domain.ids import NAMESPACE
from domain.supply.commands import RegisterSupplier
from domain.supply.events import SupplierItem, SupplierRegistered, SupplierSkuListed


def supplier_sku_stream(sku: str) -> UUID:
    return uuid5(NAMESPACE, f"supplier-sku:{sku}")


@dataclass(frozen=True, slots=True)
class SupplierState:
    exists: bool = False
    lead_time_days: int = 0
    items: dict[str, SupplierItem] = field(default_factory=dict)


def evolve(state: SupplierState, event: DomainEvent) -> SupplierState:
    if isinstance(event, SupplierRegistered):
        return SupplierState(True, event.lead_time_days, {i.sku: i for i in event.items})
    return state


SUPPLIER = AggregateType("supplier", SupplierState, evolve, (SupplierRegistered,))


@dataclass(frozen=True, slots=True)
class Listing:
    supplier_id: UUID
    lead_time_days: int
    item: SupplierItem


@dataclass(frozen=True, slots=True)
class SupplierSkuState:
    listings: tuple[Listing, ...] = ()


def evolve_listing(state: SupplierSkuState, event: DomainEvent) -> SupplierSkuState:
    if isinstance(event, SupplierSkuListed):
        listing = Listing(event.supplier_id, event.lead_time_days, event.item)
        return SupplierSkuState((*state.listings, listing))
    return state


SUPPLIER_SKU = AggregateType("supplier_sku", SupplierSkuState, evolve_listing, (SupplierSkuListed,))


def register_supplier(state: SupplierState, c: RegisterSupplier) -> list[DomainEvent]:
    if state.exists:
        raise Conflict("This supplier exists already.", code="supplier_exists")
    skus = [i.sku for i in c.items]
    twice = sorted({s for s in skus if skus.count(s) > 1})
    if twice:
        raise InvalidCommand(
            f"A SKU is listed more than once: {', '.join(twice)}.",
            code="duplicate_sku",
            details={"skus": twice},
        )
    items = tuple(
        SupplierItem(
            sku=i.sku,
            cost=str(i.cost.money().amount),
            currency=i.cost.currency,
            pack_size=i.pack_size,
            min_order_quantity=i.min_order_quantity,
        )
        for i in c.items
    )
    return [
        SupplierRegistered(
            name=c.name, email=valid_email(c.email), lead_time_days=c.lead_time_days, items=items
        )
    ]


def listed(supplier_id: UUID, registered: SupplierRegistered, item: SupplierItem) -> DomainEvent:
    """The event on ``item.sku``'s supplier list that goes with the registration."""
    return SupplierSkuListed(
        supplier_id=supplier_id, lead_time_days=registered.lead_time_days, item=item
    )
