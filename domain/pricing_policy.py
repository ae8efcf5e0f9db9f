"""Tax and shipping policies: configurable rules (not hard-coded amounts) that price an order's
tax and shipping from its subtotal. The composition root builds them from settings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from domain.money import Money


class TaxPolicy(Protocol):
    def tax_on(self, taxable: Money) -> Money: ...


class ShippingPolicy(Protocol):
    def shipping_for(self, subtotal: Money) -> Money: ...


@dataclass(frozen=True, slots=True)
class FlatRateTax:
    """Tax = taxable amount × rate, rounded half-up once (rate 0.08 means 8 %)."""

    rate: Decimal = Decimal("0")

    def tax_on(self, taxable: Money) -> Money:
        return Money.of(taxable.amount * self.rate, taxable.currency)


@dataclass(frozen=True, slots=True)
class FlatRateShipping:
    """A flat fee per order, free when the subtotal reaches ``free_over`` (if set)."""

    amount: Decimal = Decimal("0")
    free_over: Decimal | None = None

    def shipping_for(self, subtotal: Money) -> Money:
        if self.free_over is not None and subtotal.amount >= self.free_over:
            return Money.zero(subtotal.currency)
        return Money.of(self.amount, subtotal.currency)


@dataclass(frozen=True, slots=True)
class OrderPricing:
    """The policies a placement totals an order with (no tax, no shipping unless set)."""

    tax: TaxPolicy = FlatRateTax()
    shipping: ShippingPolicy = FlatRateShipping()
