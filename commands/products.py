"""Handlers for the Product aggregate, and the price an order line pays for a SKU.

SKUs are unique across products and variants: every new SKU is claimed in the SKU registry in
the same transaction as the product's event (see ``commands.sku_lookup``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID
from weakref import WeakKeyDictionary

from commands import sku_lookup
from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.unit_of_work import StateCache
from domain.category.state import CATEGORY
from domain.errors import Conflict, InvalidCommand, NotFound, VersionMismatch
from domain.events import DomainEvent
from domain.money import Money
from domain.product import decide
from domain.product.decide import NewVariant
from domain.product.events import ProductCreated, VariantAdded
from domain.product.state import PRODUCT, ProductState
from eventstore.store import EventStore, StreamAppend


@dataclass(frozen=True, slots=True)
class PricedSku:
    product_id: UUID
    sku: str
    name: str
    unit_price: Money


def _claims(store: EventStore, product_id: UUID):
    """``also`` for execute: claim every SKU the events introduce, refusing taken ones."""

    def also(_state: ProductState, events: Sequence[DomainEvent]) -> list[StreamAppend]:
        appends = []
        for event in events:
            if isinstance(event, ProductCreated | VariantAdded):
                if sku_lookup.owner_of(store, event.sku) is not None:
                    raise Conflict(f"SKU '{event.sku}' is already taken.", code="duplicate_sku")
                variant = isinstance(event, VariantAdded)
                appends.append(sku_lookup.claim(event.sku, product_id, is_variant=variant))
        return appends

    return also


def at_own_stream(store: EventStore, result: Outcome) -> Outcome:
    """Report the position of the aggregate's own last event, not of a claim written with it,
    so a first answer and its idempotent replay (which only knows the stream) are equal."""
    if result.replayed or result.version == 0:
        return result
    position = store.position_of(result.stream_id, result.version) or result.position
    return replace(result, position=position)


def _require_categories(store: EventStore, category_ids: Sequence[UUID]) -> None:
    for category_id in category_ids:
        if not load(store, CATEGORY, category_id).state.exists:
            raise InvalidCommand(f"Category {category_id} does not exist.", code="unknown_category")


def create(
    store: EventStore,
    ctx: CommandContext,
    *,
    product_id: UUID,
    sku: str,
    name: str,
    price: Money | None,
    description: str = "",
    brand: str | None = None,
    category_ids: Sequence[UUID] = (),
    attributes: Mapping[str, Any] | None = None,
    variants: Sequence[NewVariant] = (),
) -> Outcome:
    _require_categories(store, category_ids)
    result = execute(
        store,
        PRODUCT,
        product_id,
        lambda state, _v: decide.create_product(
            state,
            product_id=product_id,
            sku=sku,
            name=name,
            price=price,
            description=description,
            brand=brand,
            category_ids=category_ids,
            attributes=attributes,
            variants=variants,
        ),
        ctx,
        also=_claims(store, product_id),
    )
    return at_own_stream(store, result)


def _on_product(store: EventStore, ctx: CommandContext, product_id: UUID, decision, also=None):
    """Run a decision on an existing product; an unknown one is not found even under If-Match."""
    try:
        return execute(store, PRODUCT, product_id, lambda s, _v: decision(s), ctx, also=also)
    except VersionMismatch as exc:
        if exc.actual == 0:
            raise NotFound("No such product.", code="product_not_found") from None
        raise


def update_details(
    store: EventStore, ctx: CommandContext, product_id: UUID, changes: Mapping[str, Any]
) -> Outcome:
    return _on_product(store, ctx, product_id, lambda s: decide.update_details(s, changes))


def change_price(
    store: EventStore,
    ctx: CommandContext,
    product_id: UUID,
    price: Money,
    reason: str,
    change_type: str = "manual",
) -> Outcome:
    return _on_product(
        store, ctx, product_id, lambda s: decide.change_price(s, price, reason, change_type)
    )


def add_variant(
    store: EventStore, ctx: CommandContext, product_id: UUID, variant: NewVariant
) -> Outcome:
    result = _on_product(
        store,
        ctx,
        product_id,
        lambda s: decide.add_variant(s, variant),
        also=_claims(store, product_id),
    )
    return at_own_stream(store, result)


def deactivate_variant(
    store: EventStore, ctx: CommandContext, product_id: UUID, sku: str, reason: str | None = None
) -> Outcome:
    return _on_product(store, ctx, product_id, lambda s: decide.deactivate_variant(s, sku, reason))


def set_master_variant(
    store: EventStore, ctx: CommandContext, product_id: UUID, sku: str
) -> Outcome:
    return _on_product(store, ctx, product_id, lambda s: decide.set_master_variant(s, sku))


def assign_category(
    store: EventStore, ctx: CommandContext, product_id: UUID, category_id: UUID
) -> Outcome:
    _require_categories(store, [category_id])
    return _on_product(store, ctx, product_id, lambda s: decide.assign_category(s, category_id))


def unassign_category(
    store: EventStore, ctx: CommandContext, product_id: UUID, category_id: UUID
) -> Outcome:
    return _on_product(store, ctx, product_id, lambda s: decide.unassign_category(s, category_id))


def change_lifecycle(
    store: EventStore,
    ctx: CommandContext,
    product_id: UUID,
    status: str,
    reason: str | None = None,
) -> Outcome:
    return _on_product(store, ctx, product_id, lambda s: decide.change_lifecycle(s, status, reason))


def get(store: EventStore, product_id: UUID) -> ProductState:
    return load(store, PRODUCT, product_id).state


def price_for_order(store: EventStore, sku: str, currency: str) -> PricedSku:
    """The unit price an order in ``currency`` pays for ``sku`` now; refuses unsellable SKUs."""
    return prices_for_order(store, [sku], currency)[0]


# Folded product states per store, by stream version: pricing an order reads only the events
# written since (one query for all its lines), never refolding a product's whole history.
_STATES: WeakKeyDictionary[EventStore, StateCache] = WeakKeyDictionary()
_states_lock = threading.Lock()


def _state_cache(store: EventStore) -> StateCache:
    with _states_lock:
        cache = _STATES.get(store)
        if cache is None:
            cache = _STATES[store] = StateCache(size=20_000)
        return cache


def current_products(store: EventStore, product_ids: Iterable[UUID]) -> dict[UUID, ProductState]:
    """The current state of each product, read in one query (each stream's events after the
    version cached for it)."""
    cache = _state_cache(store)
    start = {pid: cache.get(pid) or (0, None) for pid in product_ids}
    tails = store.load_many({pid: version for pid, (version, _) in start.items()})
    states = {}
    for pid, (_, state) in start.items():
        tail = tails[pid]
        if tail:
            state = PRODUCT.fold((e.to_domain() for e in tail), state)
            cache.put(pid, tail[-1].version, state)
        states[pid] = state if state is not None else PRODUCT.initial()
    return states


def prices_for_order(store: EventStore, skus: Sequence[str], currency: str) -> list[PricedSku]:
    """``price_for_order`` for each of ``skus``, in order, with two queries at most in all (the
    SKUs' owners, the products' new events); the first unsellable SKU is refused."""
    owners = sku_lookup.owners_of(store, skus)
    products = current_products(store, set(owners.values()))
    return [_priced(sku, owners.get(sku), products, currency) for sku in skus]


def _priced(
    sku: str, owner: UUID | None, products: Mapping[UUID, ProductState], currency: str
) -> PricedSku:
    product = products.get(owner) if owner is not None else None
    if product is None or not product.exists:
        raise InvalidCommand(f"Unknown SKU '{sku}'.", code="unknown_sku", details={"sku": sku})
    variant = product.variant(sku)
    if product.status != "active" or (variant is not None and not variant.active):
        raise InvalidCommand(
            f"SKU '{sku}' is not for sale.", code="product_not_active", details={"sku": sku}
        )
    price = variant.price if variant is not None and variant.price is not None else product.price
    if price is None or price.currency != currency:
        raise InvalidCommand(
            f"SKU '{sku}' is not priced in {currency}.",
            code="currency_mismatch",
            details={"sku": sku, "currency": currency},
        )
    return PricedSku(product_id=owner, sku=sku, name=product.name, unit_price=price)
