"""Deciding CreateBundle. The handler reads what the decision needs to know of each component
from the write side (``ComponentFacts``); the decision is pure and names every refusal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from domain.bundle.commands import CreateBundle
from domain.bundle.events import BundleComponent, BundleCreated, BundlePricing
from domain.bundle.state import BundleState
from domain.errors import Conflict, InvalidCommand
from domain.events import DomainEvent
from domain.money import Money, minor_unit, round_money

#: At most this many units of one component in one bundle, and this many components.
MAX_COMPONENT_QUANTITY = 1000
MAX_COMPONENTS = 50
#: A fixed price at most this large (as the catalog's prices are).
MAX_PRICE = Decimal("1000000000")
PERCENT_PLACES = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ComponentFacts:
    """What the write side knows of a component SKU: ``kind`` is ``product`` (a product's or
    a variant's SKU), ``bundle`` or ``unknown``; ``sellable`` when its product is active (and
    the variant too); ``price`` its current unit price, if it has one."""

    kind: str
    sellable: bool = False
    price: Money | None = None


def _invalid(message: str, code: str, **details: object) -> InvalidCommand:
    return InvalidCommand(message, code=code, details=details or None)


def _check_components(c: CreateBundle, facts: Mapping[str, ComponentFacts]) -> str:
    """Refuse a bad component list; return the components' one currency."""
    if not c.components:
        raise _invalid("A bundle needs at least one component.", "no_components")
    if len(c.components) > MAX_COMPONENTS:
        raise _invalid(f"A bundle has at most {MAX_COMPONENTS} components.", "too_many_components")
    seen: set[str] = set()
    for i, comp in enumerate(c.components):
        field = f"components[{i}]"
        if comp.sku in seen:
            raise _invalid(f"'{comp.sku}' is listed twice.", "duplicate_component", field=field)
        seen.add(comp.sku)
        if not 1 <= comp.quantity <= MAX_COMPONENT_QUANTITY:
            raise _invalid(
                f"Quantity of '{comp.sku}' must be between 1 and {MAX_COMPONENT_QUANTITY}.",
                "invalid_component_quantity",
                field=f"{field}.quantity",
            )
        if comp.sku == c.sku:
            raise _invalid("A bundle cannot contain itself.", "component_is_bundle", field=field)
    currencies = set()
    for i, comp in enumerate(c.components):
        field, fact = f"components[{i}]", facts.get(comp.sku, ComponentFacts("unknown"))
        if fact.kind == "bundle":
            raise _invalid(f"'{comp.sku}' is a bundle.", "component_is_bundle", field=field)
        if fact.kind != "product":
            raise _invalid(f"Unknown SKU '{comp.sku}'.", "unknown_component", field=field)
        if not fact.sellable:
            raise _invalid(f"'{comp.sku}' is not for sale.", "component_not_active", field=field)
        if fact.price is None:
            raise _invalid(f"'{comp.sku}' has no price.", "component_not_priced", field=field)
        currencies.add(fact.price.currency)
    if len(currencies) > 1:
        raise _invalid(
            "The components are priced in different currencies.", "component_currency_mismatch"
        )
    return currencies.pop()


def _pricing(c: CreateBundle, currency: str) -> BundlePricing:
    kind, value = c.pricing.type, c.pricing.amount()
    if kind == "component_sum":
        if value is not None:
            raise _invalid("component_sum takes no value.", "pricing_value_not_allowed")
        return BundlePricing(type=kind)
    if value is None:
        raise _invalid(f"{kind} needs a value.", "pricing_value_required")
    if kind == "percentage_discount":
        if not 0 <= value <= 100:
            raise _invalid("A percentage is between 0 and 100.", "invalid_percentage")
        if value != value.quantize(PERCENT_PLACES):
            raise _invalid("A percentage has at most two decimals.", "invalid_percentage")
        return BundlePricing(type=kind, value=str(value.quantize(PERCENT_PLACES)))
    if not 0 <= value <= MAX_PRICE:
        raise _invalid(f"A price is between 0 and {MAX_PRICE}.", "invalid_price")
    if value % minor_unit(currency):
        raise _invalid(
            f"{currency} amounts are multiples of {minor_unit(currency)}.", "currency_precision"
        )
    return BundlePricing(type=kind, value=str(round_money(value, currency)))


def create_bundle(
    state: BundleState, c: CreateBundle, bundle_id: UUID, facts: Mapping[str, ComponentFacts]
) -> list[DomainEvent]:
    """``c`` as bundle ``bundle_id``, its components as ``facts`` (SKU → facts) says."""
    if state.exists:
        raise Conflict(f"Bundle {bundle_id} already exists.", code="bundle_exists")
    currency = _check_components(c, facts)
    pricing = _pricing(c, currency)
    return [
        BundleCreated(
            bundle_id=bundle_id,
            sku=c.sku,
            name=c.name,
            components=[BundleComponent(sku=x.sku, quantity=x.quantity) for x in c.components],
            pricing=pricing,
            currency=currency,
        )
    ]
