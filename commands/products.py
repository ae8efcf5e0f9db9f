"""Handlers for the Product aggregate (``HANDLERS``), and the price an order line pays for a
SKU.

SKUs are unique across products and variants: every new SKU is claimed in the SKU registry in
the same transaction as the product's event (see ``commands.sku_lookup``). The caches they read
(SKU owners, folded product states) are the write side's (``WriteSide.skus``,
``WriteSide.products``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from uuid import UUID, uuid4

from commands import sku_lookup
from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.merchant_facts import require_merchant_known
from commands.write_side import WriteSide
from domain.category.state import CATEGORY
from domain.errors import Conflict, InvalidCommand, NotFound, VersionMismatch
from domain.events import DomainEvent
from domain.money import Money
from domain.product import decide
from domain.product.commands import (
    AddVariant,
    AssignCategory,
    ChangeLifecycle,
    ChangePrice,
    CreateProduct,
    DeactivateVariant,
    SetMasterVariant,
    UnassignCategory,
    UpdateProductDetails,
)
from domain.product.events import ProductCreated, VariantAdded
from domain.product.state import PRODUCT, ProductState
from eventstore.store import EventStore, StreamAppend


@dataclass(frozen=True, slots=True)
class PricedSku:
    product_id: UUID
    sku: str
    name: str
    unit_price: Money
    #: The product's categories (pricing rules may be scoped by category).
    category_ids: tuple[UUID, ...] = ()
    #: The marketplace merchant selling it (None: our own).
    merchant_id: UUID | None = None


def _claims(w: WriteSide, product_id: UUID):
    """``also`` for execute: claim every SKU the events introduce, refusing taken ones."""

    def also(_state: ProductState, events: Sequence[DomainEvent]) -> list[StreamAppend]:
        appends = []
        for event in events:
            if isinstance(event, ProductCreated | VariantAdded):
                if w.skus.owner_of(event.sku) is not None:
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


def create(w: WriteSide, c: CreateProduct, ctx: CommandContext) -> Outcome:
    """A new product, its id made here (``result.stream_id``)."""
    _require_categories(w.store, c.category_ids)
    if c.merchant_id is not None:
        require_merchant_known(w, c.merchant_id)
    product_id = uuid4()
    result = execute(
        w.store,
        PRODUCT,
        product_id,
        lambda state, _v: decide.create_product(state, c, product_id),
        ctx,
        also=_claims(w, product_id),
    )
    return at_own_stream(w.store, result)


def _on_product(w: WriteSide, ctx: CommandContext, product_id: UUID, decision, also=None):
    """Run a decision on an existing product; an unknown one is not found even under If-Match."""
    try:
        return execute(w.store, PRODUCT, product_id, lambda s, _v: decision(s), ctx, also=also)
    except VersionMismatch as exc:
        if exc.actual == 0:
            raise NotFound("No such product.", code="product_not_found") from None
        raise


def update_details(w: WriteSide, c: UpdateProductDetails, ctx: CommandContext) -> Outcome:
    return _on_product(w, ctx, c.product_id, lambda s: decide.update_details(s, c))


def change_price(w: WriteSide, c: ChangePrice, ctx: CommandContext) -> Outcome:
    return _on_product(w, ctx, c.product_id, lambda s: decide.change_price(s, c))


def add_variant(w: WriteSide, c: AddVariant, ctx: CommandContext) -> Outcome:
    result = _on_product(
        w, ctx, c.product_id, lambda s: decide.add_variant(s, c), also=_claims(w, c.product_id)
    )
    return at_own_stream(w.store, result)


def deactivate_variant(w: WriteSide, c: DeactivateVariant, ctx: CommandContext) -> Outcome:
    return _on_product(w, ctx, c.product_id, lambda s: decide.deactivate_variant(s, c))


def set_master_variant(w: WriteSide, c: SetMasterVariant, ctx: CommandContext) -> Outcome:
    return _on_product(w, ctx, c.product_id, lambda s: decide.set_master_variant(s, c))


def assign_category(w: WriteSide, c: AssignCategory, ctx: CommandContext) -> Outcome:
    _require_categories(w.store, [c.category_id])
    return _on_product(w, ctx, c.product_id, lambda s: decide.assign_category(s, c))


def unassign_category(w: WriteSide, c: UnassignCategory, ctx: CommandContext) -> Outcome:
    return _on_product(w, ctx, c.product_id, lambda s: decide.unassign_category(s, c))


def change_lifecycle(w: WriteSide, c: ChangeLifecycle, ctx: CommandContext) -> Outcome:
    return _on_product(w, ctx, c.product_id, lambda s: decide.change_lifecycle(s, c))


HANDLERS = {
    CreateProduct: create,
    UpdateProductDetails: update_details,
    ChangePrice: change_price,
    ChangeLifecycle: change_lifecycle,
    AddVariant: add_variant,
    DeactivateVariant: deactivate_variant,
    SetMasterVariant: set_master_variant,
    AssignCategory: assign_category,
    UnassignCategory: unassign_category,
}


def get(store: EventStore, product_id: UUID) -> ProductState:
    return load(store, PRODUCT, product_id).state


def price_for_order(w: WriteSide, sku: str, currency: str) -> PricedSku:
    """The unit price an order in ``currency`` pays for ``sku`` now; refuses unsellable SKUs."""
    return prices_for_order(w, [sku], currency)[0]


def prices_for_order(
    w: WriteSide, skus: Sequence[str], currency: str, since: float | None = None
) -> list[PricedSku]:
    """``price_for_order`` for each of ``skus``, in order, with two queries at most in all (the
    SKUs' owners, the products' new events, each from the write side's caches; none for a
    product read since ``since``); the first unsellable SKU is refused."""
    owners = w.skus.owners_of(skus)
    products = w.products.current(set(owners.values()), since)
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
    return PricedSku(
        product_id=owner,
        sku=sku,
        name=product.name,
        unit_price=price,
        category_ids=product.category_ids,
        merchant_id=product.merchant_id,
    )
