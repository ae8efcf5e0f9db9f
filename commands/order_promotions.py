"""The one door through which a placement learns its promotions: the offers open to the order
(the codes it names, the active code-less ones) and the facts their conditions need, all read
from the write side (the promotion directory, the customer facts, the customer order ledger,
the product states, the redemption streams), never from a view. The decision itself is
``domain.order.placement.place_order`` with ``domain/promotion/discounts.py``.

A code that is unknown, not active or outside its window is ``422 promotion_invalid``; one
whose conditions the order does not meet ``422 promotion_not_applicable``; one whose usage
limit (global or this customer's) is reached ``422 promotion_exhausted``. A code-less
promotion whose limit is reached is left out. The limits are claimed for good by the
placement saga (``commands/redemptions.py``): this check only spares a customer an order the
saga would cancel."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from commands.customer_facts import customer_facts
from commands.stream_states import load_states
from commands.write_side import WriteSide
from domain.errors import InvalidCommand
from domain.order.commands import PlaceOrder
from domain.order.values import PricedLine
from domain.promotion import discounts as dc
from domain.promotion.state import (
    CUSTOMER_ORDERS,
    REDEMPTIONS,
    PromotionState,
    customer_orders_stream,
    customer_redemptions_stream,
    redemptions_stream,
)


def offer_of(promotion_id: UUID, s: PromotionState) -> dc.Offer:
    return dc.Offer(
        promotion_id=promotion_id,
        code=s.code,
        target=s.target,
        kind=s.kind,
        value=s.value,
        currency=s.currency,
        conditions=s.conditions,
        stackable=s.stackable,
    )


def _named(
    w: WriteSide, codes: list[str], now: datetime, since: float | None = None
) -> list[tuple[UUID, PromotionState]]:
    assert w.promotions is not None
    found = []
    for code in dict.fromkeys(c.upper() for c in codes):
        hit = w.promotions.by_code(code, since)
        if hit is None or hit[1].status != "active" or not hit[1].in_window(now):
            if hit is None:
                why = "unknown"
            elif hit[1].status != "active":
                why = hit[1].status  # draft, paused or ended
            else:
                why = "outside_window"  # not started yet, or expired
            raise InvalidCommand(
                f"Promotion code '{code}' is not valid now.",
                code="promotion_invalid",
                details={"code": code, "reason": why},
            )
        found.append(hit)
    return found


def exhausted(
    w: WriteSide, customer_id: UUID, promos: list[tuple[UUID, PromotionState]]
) -> set[UUID]:
    """The promotions among ``promos`` whose global or per-customer limit is taken up (their
    redemption streams read in one query)."""
    wanted: dict[UUID, tuple[UUID, int]] = {}
    for pid, s in promos:
        if s.usage_limit is not None:
            wanted[redemptions_stream(pid)] = (pid, s.usage_limit)
        if s.per_customer_limit is not None:
            wanted[customer_redemptions_stream(pid, customer_id)] = (pid, s.per_customer_limit)
    if not wanted:
        return set()
    loaded = load_states(w.store, REDEMPTIONS, list(wanted))
    return {pid for sid, (pid, limit) in wanted.items() if len(loaded[sid].state.orders) >= limit}


def first_order(w: WriteSide, customer_id: UUID) -> bool:
    """Whether the customer has no order that counts yet (the ledger the saga keeps)."""
    ledger = customer_orders_stream(customer_id)
    return not load_states(w.store, CUSTOMER_ORDERS, [ledger])[ledger].state.orders


def terms_for(
    w: WriteSide,
    c: PlaceOrder,
    priced: list[PricedLine],
    now: datetime,
    since: float | None = None,
) -> dc.Terms:
    """The terms ``place_order`` discounts ``c`` with (``NO_TERMS`` when no promotion is open
    to it: the common case costs one directory refresh, none when a refresh begun after
    ``since``, the request's start, already served the pricing rules)."""
    if w.promotions is None:
        return dc.NO_TERMS
    named = _named(w, c.promotion_codes or [], now, since)
    automatic = w.promotions.automatic(now, since)
    if not named and not automatic:
        return dc.NO_TERMS
    gone = exhausted(w, c.customer_id, [*named, *automatic])
    for pid, s in named:
        if pid in gone:
            raise InvalidCommand(
                f"Promotion code '{s.code}' has no uses left.",
                code="promotion_exhausted",
                details={"code": s.code},
            )
    offers = [offer_of(pid, s) for pid, s in [*named, *automatic] if pid not in gone]
    if not offers:
        return dc.NO_TERMS
    conditions = [o.conditions for o in offers]
    segment = (
        customer_facts(w, c.customer_id).segment if any(k.segments for k in conditions) else None
    )
    first = first_order(w, c.customer_id) if any(k.first_order_only for k in conditions) else True
    categories: dict[str, frozenset[UUID]] = {}
    if any(k.category_ids for k in conditions):
        states = w.products.current({p.product_id for p in priced})
        categories = {p.sku: frozenset(states[p.product_id].category_ids) for p in priced}
    terms = dc.Terms(tuple(offers), dc.Customer(segment, first), categories)
    _named_apply(terms, named, c, priced)
    return terms


def _named_apply(terms: dc.Terms, named, c: PlaceOrder, priced: list[PricedLine]) -> None:  # noqa: ANN001
    """A code the order names must apply to it (else ``promotion_not_applicable``)."""
    lines = [
        dc.Line(str(i), p.sku, p.quantity, p.unit_price.times(p.quantity).amount,
                terms.categories.get(p.sku, frozenset()))
        for i, p in enumerate(priced)
    ]  # fmt: skip
    for pid, s in named:
        why = dc.applies(offer_of(pid, s), lines, c.currency, terms.customer)
        if why is not None:
            raise InvalidCommand(
                f"Promotion code '{s.code}' does not apply to this order.",
                code="promotion_not_applicable",
                details={"code": s.code, "reason": why},
            )
