"""The discount math of a placement, pure: which promotions apply to an order, which of them
it gets, and how much each takes off each line and the shipping.

- A promotion applies when it is in the order's currency (a percentage without a minimum
  subtotal fits any), its conditions hold (minimum subtotal on the undiscounted subtotal; the
  customer's segment; a first order; SKUs or categories: at least one line matches) and, for
  ``products``, some line matches (those lines are its base; without SKUs or categories every
  line is).
- Stacking: the order gets either every stackable promotion that applies, or one
  non-stackable one, whichever takes off more (ties: the stackable set, then the lower
  promotion id), so the choice is deterministic and the customer's best.
- Applying: product promotions first, then order promotions, then shipping, each in promotion
  id order, each on what the ones before it left. A percentage takes its share of each line,
  rounded half-up once per line; a fixed amount is per unit for products (capped at the line),
  spread over the lines in proportion for the order (rounded per line by cumulative shares, so
  the shares sum to the amount exactly), and off the shipping for shipping. A discount never
  exceeds its base: a line never goes below zero, nor the shipping.
- The order's discount is the sum of its rounded line discounts and its shipping discount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from domain.money import minor_unit
from domain.promotion.events import Conditions, Kind, Target

_HUNDRED = Decimal(100)
_ORDER_OF_TARGETS = {"products": 0, "order": 1, "shipping": 2}


@dataclass(frozen=True, slots=True)
class Offer:
    """A promotion as a placement sees it (active, in its window)."""

    promotion_id: UUID
    code: str | None
    target: Target
    kind: Kind
    value: Decimal
    currency: str | None = None
    conditions: Conditions = Conditions()
    stackable: bool = False


@dataclass(frozen=True, slots=True)
class Line:
    line_id: str
    sku: str
    quantity: int
    #: Quantity × unit price, before any discount.
    base: Decimal
    category_ids: frozenset[UUID] = frozenset()


@dataclass(frozen=True, slots=True)
class Customer:
    segment: str | None = None
    first_order: bool = True


@dataclass(frozen=True, slots=True)
class Applied:
    promotion_id: UUID
    code: str | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Discounts:
    by_line: dict[str, Decimal] = field(default_factory=dict)
    shipping: Decimal = Decimal(0)
    applied: tuple[Applied, ...] = ()

    @property
    def total(self) -> Decimal:
        return sum(self.by_line.values(), Decimal(0)) + self.shipping

    @property
    def on_lines(self) -> Decimal:
        return sum(self.by_line.values(), Decimal(0))


NONE = Discounts()


def _round(amount: Decimal, unit: Decimal) -> Decimal:
    return amount.quantize(unit, rounding=ROUND_HALF_UP)


def matching_lines(offer: Offer, lines: Sequence[Line]) -> list[Line]:
    """The lines the offer's SKU and category conditions name (every line when none)."""
    k = offer.conditions
    if not k.skus and not k.category_ids:
        return list(lines)
    skus, categories = set(k.skus), set(k.category_ids)
    return [ln for ln in lines if ln.sku in skus or ln.category_ids & categories]


def applies(offer: Offer, lines: Sequence[Line], currency: str, customer: Customer) -> str | None:
    """None when the offer applies to the order; else why not (a machine word)."""
    k = offer.conditions
    if offer.currency is not None and offer.currency != currency:
        return "currency"
    subtotal = sum((ln.base for ln in lines), Decimal(0))
    if k.min_subtotal is not None and subtotal < k.min_subtotal:
        return "min_subtotal"
    if k.segments and customer.segment not in k.segments:
        return "segment"
    if k.first_order_only and not customer.first_order:
        return "first_order_only"
    if not matching_lines(offer, lines):
        return "no_matching_line"
    return None


def _shares(amount: Decimal, parts: Sequence[Decimal], unit: Decimal) -> list[Decimal]:
    """``amount`` spread over ``parts`` in proportion, each share rounded half-up from the
    cumulative sums, so the shares sum to ``amount`` exactly and none exceeds its part
    (when ``amount`` does not exceed their sum)."""
    whole = sum(parts, Decimal(0))
    if whole <= 0:
        return [Decimal(0)] * len(parts)
    shares, before, running = [], Decimal(0), Decimal(0)
    for part in parts:
        running += part
        upto = _round(amount * running / whole, unit)
        shares.append(upto - before)
        before = upto
    return shares


def _apply(
    offer: Offer,
    lines: Sequence[Line],
    left: dict[str, Decimal],
    shipping_left: Decimal,
    unit: Decimal,
) -> tuple[dict[str, Decimal], Decimal]:
    """What ``offer`` takes off each line and off the shipping, given what is left of them."""
    if offer.target == "shipping":
        if offer.kind == "percentage":
            off = _round(shipping_left * offer.value / _HUNDRED, unit)
        else:
            off = offer.value
        return {}, min(off, shipping_left)
    base = matching_lines(offer, lines) if offer.target == "products" else list(lines)
    if offer.kind == "percentage":
        return {
            ln.line_id: min(
                _round(left[ln.line_id] * offer.value / _HUNDRED, unit), left[ln.line_id]
            )
            for ln in base
        }, Decimal(0)
    if offer.target == "products":
        return {
            ln.line_id: min(offer.value * ln.quantity, left[ln.line_id]) for ln in base
        }, Decimal(0)
    parts = [left[ln.line_id] for ln in base]
    amount = min(offer.value, sum(parts, Decimal(0)))
    return dict(
        zip([ln.line_id for ln in base], _shares(amount, parts, unit), strict=True)
    ), Decimal(0)


def compute(
    offers: Sequence[Offer], lines: Sequence[Line], shipping: Decimal, currency: str
) -> Discounts:
    """The discounts of applying every offer of ``offers``, in the module's order."""
    unit = minor_unit(currency)
    left = {ln.line_id: ln.base for ln in lines}
    by_line = dict.fromkeys(left, Decimal(0))
    shipping_left, shipping_off = shipping, Decimal(0)
    applied = []
    for offer in sorted(offers, key=lambda o: (_ORDER_OF_TARGETS[o.target], str(o.promotion_id))):
        off_lines, off_shipping = _apply(offer, lines, left, shipping_left, unit)
        for line_id, off in off_lines.items():
            left[line_id] -= off
            by_line[line_id] += off
        shipping_left -= off_shipping
        shipping_off += off_shipping
        amount = sum(off_lines.values(), Decimal(0)) + off_shipping
        if amount > 0:
            applied.append(Applied(offer.promotion_id, offer.code, amount))
    return Discounts(by_line, shipping_off, tuple(applied))


def best(
    offers: Sequence[Offer],
    lines: Sequence[Line],
    shipping: Decimal,
    currency: str,
    customer: Customer,
) -> Discounts:
    """The discounts the order gets from the offers that apply (the stacking rule above)."""
    fitting = [o for o in offers if applies(o, lines, currency, customer) is None]
    if not fitting:
        return NONE
    stackable = [o for o in fitting if o.stackable]
    options: list[tuple[Discounts, int, str]] = []
    if stackable:
        options.append((compute(stackable, lines, shipping, currency), 0, ""))
    for o in fitting:
        if not o.stackable:
            options.append((compute([o], lines, shipping, currency), 1, str(o.promotion_id)))
    chosen = min(options, key=lambda opt: (-opt[0].total, opt[1], opt[2]))[0]
    return chosen if chosen.applied else NONE


@dataclass(frozen=True, slots=True)
class Terms:
    """What a placement decides its discounts with: the offers open to the order (the codes
    it names and the automatic ones), the customer's facts, each SKU's categories."""

    offers: tuple[Offer, ...] = ()
    customer: Customer = Customer()
    categories: dict[str, frozenset[UUID]] = field(default_factory=dict)

    def discounts(
        self, lines: Sequence[tuple[str, str, int, Decimal]], shipping: Decimal, currency: str
    ) -> Discounts:
        """``lines`` as (line id, SKU, quantity, base)."""
        if not self.offers:
            return NONE
        priced = [
            Line(line_id, sku, quantity, base, self.categories.get(sku, frozenset()))
            for line_id, sku, quantity, base in lines
        ]
        return best(self.offers, priced, shipping, currency, self.customer)


NO_TERMS = Terms()
