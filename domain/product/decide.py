"""Product decisions: pure functions from the state and a command (``commands.py``) to new
events."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from domain.command import MoneyIn
from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.money import Money
from domain.product.commands import (
    AddVariant,
    AssignCategory,
    ChangeLifecycle,
    ChangePrice,
    CreateProduct,
    DeactivateVariant,
    NewVariant,
    SetMasterVariant,
    UnassignCategory,
    UpdateProductDetails,
)
from domain.product.events import (
    CategoryAssigned,
    CategoryUnassigned,
    FieldChange,
    LifecycleStatusChanged,
    MasterVariantSet,
    PriceChanged,
    ProductCreated,
    ProductDetailsChanged,
    VariantAdded,
    VariantDeactivated,
)
from domain.product.state import ProductState, evolve

NEXT_STATUS = {
    "draft": {"pending_approval"},
    "pending_approval": {"active", "draft"},
    "active": {"discontinued"},
    "discontinued": {"archived"},
    "archived": set(),
}
DETAIL_FIELDS = ("name", "description", "brand", "attributes")


def _name(name: str) -> str:
    if not name.strip():
        raise InvalidCommand("A product needs a name.", code="invalid_name")
    return name


def _price(given: MoneyIn | None, *, base: Money | None = None) -> Money | None:
    if given is None:
        return None
    price = given.money()
    if base is not None and price.currency != base.currency:
        raise InvalidCommand(
            f"A variant is priced in {base.currency} like its product.", code="currency_mismatch"
        )
    return price


def require_product(state: ProductState) -> ProductState:
    if not state.exists:
        raise NotFound("No such product.", code="product_not_found")
    return state


def require_editable(state: ProductState) -> ProductState:
    require_product(state)
    if state.status == "archived":
        raise Conflict("An archived product cannot change.", code="product_archived")
    return state


def create_product(state: ProductState, c: CreateProduct, product_id: UUID) -> list[DomainEvent]:
    """``product_id`` is the new stream's id, made by the handler."""
    if state.exists:
        raise Conflict("This product already exists.", code="product_exists")
    created = ProductCreated(
        product_id=product_id,
        sku=c.sku,
        name=_name(c.name),
        description=c.description,
        brand=c.brand,
        category_ids=list(dict.fromkeys(c.category_ids)),
        attributes=dict(c.attributes),
        price=_price(c.price),
        merchant_id=c.merchant_id,
    )
    events: list[DomainEvent] = [created]
    current = evolve(state, created)
    for variant in c.variants:
        new = _variant_added(current, variant)
        events.extend(new)
        for event in new:
            current = evolve(current, event)
    return events


def update_details(state: ProductState, c: UpdateProductDetails) -> list[DomainEvent]:
    """Changes the fields the command was given, and only those."""
    require_editable(state)
    changes: Mapping[str, object] = {
        f: getattr(c, f) for f in DETAIL_FIELDS if f in c.model_fields_set
    }
    if "name" in changes:
        _name(c.name)
    diffs = [
        FieldChange(field=f, old=getattr(state, f), new=changes[f])
        for f in DETAIL_FIELDS
        if f in changes and changes[f] != getattr(state, f)
    ]
    return [ProductDetailsChanged(changes=diffs)] if diffs else []


def change_price(state: ProductState, c: ChangePrice) -> list[DomainEvent]:
    require_editable(state)
    if not c.reason.strip():
        raise InvalidCommand("A price change needs a reason.", code="reason_required")
    price = _price(c.price)
    if price == state.price:
        return []
    return [PriceChanged(old=state.price, new=price, change_type=c.change_type, reason=c.reason)]


def add_variant(state: ProductState, c: AddVariant) -> list[DomainEvent]:
    return _variant_added(state, c)


def _variant_added(state: ProductState, variant: AddVariant | NewVariant) -> list[DomainEvent]:
    require_editable(state)
    sku = variant.sku
    if sku == state.sku or state.variant(sku) is not None:
        raise Conflict(f"SKU '{sku}' is already taken.", code="duplicate_sku")
    options = dict(variant.options)
    if any(v.options == options for v in state.variants):
        raise Conflict(
            "Another variant of this product has the same options.", code="duplicate_variant"
        )
    price = _price(variant.price, base=state.price)
    events: list[DomainEvent] = [VariantAdded(sku=sku, options=options, price=price)]
    if state.master_sku is None:
        events.append(MasterVariantSet(sku=sku, previous_sku=None))
    return events


def _require_variant(state: ProductState, sku: str):
    require_editable(state)
    variant = state.variant(sku)
    if variant is None:
        raise NotFound(f"The product has no variant '{sku}'.", code="variant_not_found")
    return variant


def deactivate_variant(state: ProductState, c: DeactivateVariant) -> list[DomainEvent]:
    variant = _require_variant(state, c.sku)
    if not variant.active:
        return []
    events: list[DomainEvent] = [VariantDeactivated(sku=c.sku, reason=c.reason)]
    if variant.master:
        successor = next((v for v in state.variants if v.active and v.sku != c.sku), None)
        if successor is not None:
            events.append(MasterVariantSet(sku=successor.sku, previous_sku=c.sku))
    return events


def set_master_variant(state: ProductState, c: SetMasterVariant) -> list[DomainEvent]:
    variant = _require_variant(state, c.sku)
    if variant.master:
        return []
    if not variant.active:
        raise Conflict(f"Variant '{c.sku}' is deactivated.", code="variant_inactive")
    return [MasterVariantSet(sku=c.sku, previous_sku=state.master_sku)]


def assign_category(state: ProductState, c: AssignCategory) -> list[DomainEvent]:
    require_editable(state)
    if c.category_id in state.category_ids:
        return []
    return [CategoryAssigned(category_id=c.category_id)]


def unassign_category(state: ProductState, c: UnassignCategory) -> list[DomainEvent]:
    require_editable(state)
    if c.category_id not in state.category_ids:
        return []
    return [CategoryUnassigned(category_id=c.category_id)]


def change_lifecycle(state: ProductState, c: ChangeLifecycle) -> list[DomainEvent]:
    require_product(state)
    target, reason = c.status, c.reason
    if target not in NEXT_STATUS[state.status]:
        raise IllegalTransition("product", state.status, target)
    rejecting = state.status == "pending_approval" and target == "draft"
    if rejecting and not (reason and reason.strip()):
        raise InvalidCommand("A rejection needs a reason.", code="reason_required")
    if target == "active" and state.price is None:
        raise InvalidCommand("A product needs a price to be activated.", code="price_required")
    return [LifecycleStatusChanged(old_status=state.status, new_status=target, reason=reason)]
