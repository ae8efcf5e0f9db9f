"""The effective price: what one order line pays per unit, as one pure function.

Among the rules that are active, valid at the instant (``valid_from ≤ at < valid_to``), in
the line's currency (or in none: percentages only), whose scope takes the SKU and whose
condition holds (tier, segment, region, weekly schedule), the highest priority wins and a tie
goes to the lower price (then to the smaller rule id, so the answer is one); with none, the
variant's or product's own price. Rules never stack. Each candidate's price is rounded half-up
to the currency's minor unit once and is never negative.

The placement handler (``commands/orders.py``) and ``GET /prices/{sku}`` both call
``effective_price``, so the price quoted is the price an order placed then pays.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from domain.money import Money, round_money
from domain.pricing.rules import DAY_MINUTES, PricingRule

_WEEK = timedelta(days=7)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PriceQuery:
    """One line to price: the SKU and what it belongs to, its base (variant or product) price,
    the quantity, and who buys where and when."""

    sku: str
    base: Money
    quantity: int
    at: datetime
    product_id: UUID | None = None
    category_ids: frozenset[UUID] = frozenset()
    segment: str | None = None
    country: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class EffectivePrice:
    price: Money
    rule_id: UUID | None = None
    rule_type: str | None = None


def in_scope(rule: PricingRule, q: PriceQuery) -> bool:
    if not (rule.skus or rule.product_ids or rule.category_ids):
        return True
    return (
        q.sku in rule.skus
        or (q.product_id is not None and q.product_id in rule.product_ids)
        or not rule.category_ids.isdisjoint(q.category_ids)
    )


def in_window(rule: PricingRule, at: datetime) -> bool:
    return (rule.valid_from is None or rule.valid_from <= at) and (
        rule.valid_to is None or at < rule.valid_to
    )


def on_schedule(rule: PricingRule, at: datetime) -> bool:
    """Whether ``at`` falls in one of the rule's weekly windows (always, without any)."""
    if not rule.schedule:
        return True
    utc = at.astimezone(UTC)
    monday = (utc - timedelta(days=utc.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    into_week = utc - monday
    for w in rule.schedule:
        start = timedelta(minutes=w.weekday * DAY_MINUTES + w.start)
        end = timedelta(minutes=w.weekday * DAY_MINUTES + w.end)
        if start <= into_week < end or start <= into_week + _WEEK < end:
            return True
    return False


def _raw_price(rule: PricingRule, q: PriceQuery) -> Decimal | None:
    """The rule's unrounded price for ``q``, or None when its condition does not hold."""
    base = q.base.amount
    match rule.rule_type:
        case "tiered":
            for tier in rule.tiers:
                if tier.min <= q.quantity and (tier.max is None or q.quantity <= tier.max):
                    return tier.adjustment.applied_to(base)
            return None
        case "segment":
            found = rule.by_key.get(q.segment) if q.segment is not None else None
            return None if found is None else found.applied_to(base)
        case "geographic":
            if q.country is None:
                return None
            country = q.country.upper()
            keys = [f"{country}-{q.region.strip().upper()}"] if q.region else []
            for key in (*keys, country):
                if key in rule.by_key:
                    return rule.by_key[key].applied_to(base)
            return None
        case "time_based":
            if rule.adjustment is None or not on_schedule(rule, q.at):
                return None
            return rule.adjustment.applied_to(base)
        case "cost_plus":
            assert rule.cost is not None
            return rule.cost.amount * (1 + rule.markup_percent / 100)
    return None


def rule_price(rule: PricingRule, q: PriceQuery) -> Decimal | None:
    """What ``rule`` would charge for ``q`` (rounded once, never negative), or None when it
    does not apply (inactive, out of its window, another currency, out of scope, its
    condition unmet)."""
    if not rule.active or not in_window(rule, q.at):
        return None
    if rule.currency is not None and rule.currency != q.base.currency:
        return None
    if not in_scope(rule, q):
        return None
    raw = _raw_price(rule, q)
    if raw is None:
        return None
    return round_money(max(raw, _ZERO), q.base.currency)


def effective_price(rules: Iterable[PricingRule], q: PriceQuery) -> EffectivePrice:
    """The price ``q`` pays per unit and the rule that set it (module docstring)."""
    best: tuple[int, Decimal, str] | None = None
    chosen: PricingRule | None = None
    for rule in rules:
        price = rule_price(rule, q)
        if price is None:
            continue
        key = (-rule.priority, price, str(rule.rule_id))
        if best is None or key < best:
            best, chosen = key, rule
    if best is None or chosen is None:
        return EffectivePrice(price=q.base)
    price = Money(amount=best[1], currency=q.base.currency)
    return EffectivePrice(price=price, rule_id=chosen.rule_id, rule_type=chosen.rule_type)
