"""The price each order line pays, and the quote of it: both apply the pricing rules of the
write side (``WriteSide.price_rules``) to the catalog's price through the one function
``domain.pricing.effective.effective_price``, for the buyer's segment (``customer_facts``) and
shipping country and region, at the instant given. ``commands/orders.py`` prices a placement
with ``effective_prices``; ``GET /prices/{sku}`` answers ``quote``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from commands.customer_facts import customer_facts
from commands.products import PricedSku, prices_for_order
from commands.write_side import WriteSide
from domain.errors import NotFound
from domain.money import Money
from domain.pricing.effective import EffectivePrice, PriceQuery, effective_price


@dataclass(frozen=True, slots=True)
class Buyer:
    """Who buys and where the goods go, as the rules match them."""

    customer_id: UUID | None = None
    country: str | None = None
    region: str | None = None


def effective_prices(
    w: WriteSide,
    skus: Sequence[PricedSku],
    quantities: Sequence[int],
    buyer: Buyer,
    at: datetime,
    since: float | None = None,
) -> list[EffectivePrice]:
    """Each line's effective price (catalog price and quantity, in order). With no active rule
    this is the catalog's price and no customer is looked up. ``since``: when the request
    began (``time.monotonic()``); the rules as of a read begun after it will do."""
    rules = w.price_rules.active(since)
    if not rules:
        return [EffectivePrice(price=p.unit_price) for p in skus]
    segment = None
    if buyer.customer_id is not None:
        segment = customer_facts(w, buyer.customer_id, since).segment
    return [
        effective_price(
            rules,
            PriceQuery(
                sku=p.sku,
                base=p.unit_price,
                quantity=quantity,
                at=at,
                product_id=p.product_id,
                category_ids=frozenset(p.category_ids),
                segment=segment,
                country=buyer.country,
                region=buyer.region,
            ),
        )
        for p, quantity in zip(skus, quantities, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class Quote:
    sku: str
    base_price: Money
    price: Money
    rule_id: UUID | None
    rule_type: str | None


def catalog_currency(w: WriteSide, sku: str) -> str:
    """The currency the catalog prices ``sku`` in; an unknown or unpriced SKU is not found."""
    owner = w.skus.owner_of(sku)
    product = w.products.current([owner]).get(owner) if owner is not None else None
    if product is None or not product.exists:
        raise NotFound(f"Unknown SKU '{sku}'.", code="unknown_sku", details={"sku": sku})
    variant = product.variant(sku)
    price = variant.price if variant is not None and variant.price is not None else product.price
    if price is None:
        raise NotFound(f"SKU '{sku}' has no price.", code="unknown_sku", details={"sku": sku})
    return price.currency


def quote(w: WriteSide, sku: str, quantity: int, buyer: Buyer, at: datetime) -> Quote:
    """What one line of ``quantity`` × ``sku`` in an order placed at ``at`` by ``buyer`` pays
    per unit (the same checks as placement: an inactive SKU is refused)."""
    [priced] = prices_for_order(w, [sku], catalog_currency(w, sku))
    [found] = effective_prices(w, [priced], [quantity], buyer, at)
    return Quote(sku, priced.unit_price, found.price, found.rule_id, found.rule_type)
