"""Product decisions: pure functions from state and command input to new events."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.money import Money
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

SKU_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
NEXT_STATUS = {
    "draft": {"pending_approval"},
    "pending_approval": {"active", "draft"},
    "active": {"discontinued"},
    "discontinued": {"archived"},
    "archived": set(),
}
CHANGE_TYPES = {"manual", "rule_based", "automated", "competitor_match"}
DETAIL_FIELDS = ("name", "description", "brand", "attributes")


@dataclass(frozen=True, slots=True)
class NewVariant:
    sku: str
    options: Mapping[str, str]
    price: Money | None = None


def _sku(sku: str) -> str:
    if not SKU_PATTERN.match(sku):
        raise InvalidCommand(f"'{sku}' is not a valid SKU.", code="invalid_sku")
    return sku


def _name(name: str) -> str:
    if not name.strip():
        raise InvalidCommand("A product needs a name.", code="invalid_name")
    return name


def _price(price: Money | None, *, base: Money | None = None) -> Money | None:
    if price is None:
        return None
    if price.amount < 0:
        raise InvalidCommand("A price cannot be negative.", code="negative_price")
    if base is not None and price.currency != base.currency:
        raise InvalidCommand(
            f"A variant is priced in {base.currency} like its product.", code="currency_mismatch"
        )
    return Money.of(price.amount, price.currency)


def require_product(state: ProductState) -> ProductState:
    if not state.exists:
        raise NotFound("No such product.", code="product_not_found")
    return state


def require_editable(state: ProductState) -> ProductState:
    require_product(state)
    if state.status == "archived":
        raise Conflict("An archived product cannot change.", code="product_archived")
    return state


def create_product(
    state: ProductState,
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
) -> list[DomainEvent]:
    if state.exists:
        raise Conflict("This product already exists.", code="product_exists")
    created = ProductCreated(
        product_id=product_id,
        sku=_sku(sku),
        name=_name(name),
        description=description,
        brand=brand,
        category_ids=list(dict.fromkeys(category_ids)),
        attributes=dict(attributes or {}),
        price=_price(price),
    )
    events: list[DomainEvent] = [created]
    current = evolve(state, created)
    for variant in variants:
        new = add_variant(current, variant)
        events.extend(new)
        for event in new:
            current = evolve(current, event)
    return events


def update_details(state: ProductState, changes: Mapping[str, Any]) -> list[DomainEvent]:
    require_editable(state)
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise InvalidCommand(f"Unknown fields: {sorted(unknown)}.", code="unknown_field")
    if "name" in changes:
        _name(changes["name"])
    diffs = [
        FieldChange(field=f, old=getattr(state, f), new=changes[f])
        for f in DETAIL_FIELDS
        if f in changes and changes[f] != getattr(state, f)
    ]
    return [ProductDetailsChanged(changes=diffs)] if diffs else []


def change_price(
    state: ProductState, new: Money, reason: str, change_type: str = "manual"
) -> list[DomainEvent]:
    require_editable(state)
    if not reason or not reason.strip():
        raise InvalidCommand("A price change needs a reason.", code="reason_required")
    if change_type not in CHANGE_TYPES:
        raise InvalidCommand(f"Unknown change type '{change_type}'.", code="invalid_change_type")
    price = _price(new)
    if price == state.price:
        return []
    return [PriceChanged(old=state.price, new=price, change_type=change_type, reason=reason)]


def add_variant(state: ProductState, variant: NewVariant) -> list[DomainEvent]:
    require_editable(state)
    sku = _sku(variant.sku)
    if sku == state.sku or state.variant(sku) is not None:
        raise Conflict(f"SKU '{sku}' is already taken.", code="duplicate_sku")
    options = {str(k): str(v) for k, v in variant.options.items()}
    if not options:
        raise InvalidCommand("A variant needs at least one option.", code="invalid_options")
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


def deactivate_variant(state: ProductState, sku: str, reason: str | None = None):
    variant = _require_variant(state, sku)
    if not variant.active:
        return []
    events: list[DomainEvent] = [VariantDeactivated(sku=sku, reason=reason)]
    if variant.master:
        successor = next((v for v in state.variants if v.active and v.sku != sku), None)
        if successor is not None:
            events.append(MasterVariantSet(sku=successor.sku, previous_sku=sku))
    return events


def set_master_variant(state: ProductState, sku: str) -> list[DomainEvent]:
    variant = _require_variant(state, sku)
    if variant.master:
        return []
    if not variant.active:
        raise Conflict(f"Variant '{sku}' is deactivated.", code="variant_inactive")
    return [MasterVariantSet(sku=sku, previous_sku=state.master_sku)]


def assign_category(state: ProductState, category_id: UUID) -> list[DomainEvent]:
    require_editable(state)
    if category_id in state.category_ids:
        return []
    return [CategoryAssigned(category_id=category_id)]


def unassign_category(state: ProductState, category_id: UUID) -> list[DomainEvent]:
    require_editable(state)
    if category_id not in state.category_ids:
        return []
    return [CategoryUnassigned(category_id=category_id)]


def change_lifecycle(state: ProductState, target: str, reason: str | None = None):
    require_product(state)
    if target not in NEXT_STATUS:
        raise InvalidCommand(f"Unknown lifecycle status '{target}'.", code="invalid_status")
    if target not in NEXT_STATUS[state.status]:
        raise IllegalTransition("product", state.status, target)
    rejecting = state.status == "pending_approval" and target == "draft"
    if rejecting and not (reason and reason.strip()):
        raise InvalidCommand("A rejection needs a reason.", code="reason_required")
    if target == "active" and state.price is None:
        raise InvalidCommand("A product needs a price to be activated.", code="price_required")
    return [LifecycleStatusChanged(old_status=state.status, new_status=target, reason=reason)]
