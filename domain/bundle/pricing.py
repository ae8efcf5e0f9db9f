"""The bundle price formulas, pure.

sum = Σ component price × quantity; ``fixed_price`` → the value; ``percentage_discount`` →
sum × (1 − d ÷ 100), rounded half-up once to the currency's minor unit; ``component_sum`` →
sum. Savings = sum − price; savings % = savings ÷ sum × 100 (0 when the sum is 0), to two
decimals. Prices are money already rounded, so the sum is exact and only the discount rounds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.bundle.events import BundleComponent, BundlePricing
from domain.money import round_money

HUNDRED = Decimal(100)
PERCENT_PLACES = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class BundlePrice:
    price: Decimal
    component_sum: Decimal
    savings: Decimal
    savings_percent: Decimal
    currency: str


def component_sum(
    components: Sequence[BundleComponent], unit_prices: Mapping[str, Decimal]
) -> Decimal:
    """Σ price × quantity over the components (``unit_prices``: SKU → current unit price)."""
    return sum((unit_prices[c.sku] * c.quantity for c in components), Decimal(0))


def price_of(pricing: BundlePricing, total: Decimal, currency: str) -> BundlePrice:
    """The bundle's price and savings, given its components' sum ``total`` in ``currency``."""
    if pricing.type == "fixed_price":
        price = round_money(Decimal(str(pricing.value)), currency)
    elif pricing.type == "percentage_discount":
        price = round_money(total * (1 - Decimal(str(pricing.value)) / HUNDRED), currency)
    else:
        price = round_money(total, currency)
    savings = total - price
    percent = (
        (savings / total * HUNDRED).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)
        if total
        else Decimal("0.00")
    )
    return BundlePrice(price, total, savings, percent, currency)


def bundle_price(
    pricing: BundlePricing,
    components: Sequence[BundleComponent],
    unit_prices: Mapping[str, Decimal],
    currency: str,
) -> BundlePrice:
    """``price_of`` the components' sum at ``unit_prices``."""
    return price_of(pricing, component_sum(components, unit_prices), currency)
