"""Deciding PlaceOrder: validate the requested lines, take their catalog prices, total the
order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID, uuid5

from domain.customer.contact import valid_email
from domain.errors import Conflict, InvalidCommand
from domain.events import DomainEvent
from domain.money import Money
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.events import OrderPlaced
from domain.order.state import OrderState
from domain.order.values import (
    MAX_LINES,
    MAX_QUANTITY,
    AppliedPromotion,
    LineComponent,
    OrderLine,
    PricedLine,
)
from domain.pricing_policy import ShippingPolicy, TaxPolicy
from domain.promotion.discounts import NO_TERMS, Terms


def validate_requested_lines(lines: Sequence[RequestedLine]) -> None:
    """Checks that need no catalog: run before pricing so bad input is named precisely."""
    if not lines:
        raise InvalidCommand("An order needs at least one line.", code="no_lines")
    if len(lines) > MAX_LINES:
        raise InvalidCommand(f"An order has at most {MAX_LINES} lines.", code="too_many_lines")
    for line in lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise InvalidCommand(
                f"Quantity of '{line.sku}' must be between 1 and {MAX_QUANTITY}.",
                code="invalid_quantity",
                details={"sku": line.sku, "quantity": line.quantity},
            )


def bundle_components(p: PricedLine) -> list[LineComponent] | None:
    if p.components is None:
        return None
    return [LineComponent(sku=sku, quantity=q) for sku, q in p.components]


def line_id_for(order_id: UUID, index: int) -> str:
    """Line ids are derived from the order id, so a replayed decision names lines the same."""
    return str(uuid5(order_id, f"line:{index}"))


def place_order(
    state: OrderState,
    c: PlaceOrder,
    now: datetime,
    *,
    order_id: UUID,
    number: int,
    priced: Sequence[PricedLine],
    tax_policy: TaxPolicy,
    shipping_policy: ShippingPolicy,
    placed_by: str,
    promotions: Terms = NO_TERMS,
) -> list[DomainEvent]:
    """``c`` placed as order ``order_id`` numbered ``number`` at ``now``, its lines priced as
    ``priced`` says (one per requested line, in order: the handler's catalog read), discounted
    as ``promotions`` give (``domain/promotion/discounts.py``)."""
    if state.exists:
        raise Conflict(f"Order {order_id} already exists.", code="order_exists")
    validate_requested_lines(c.lines)
    if [(p.sku, p.quantity) for p in priced] != [(r.sku, r.quantity) for r in c.lines]:
        raise ValueError("The priced lines are not the requested ones.")
    currency = c.currency
    for p in priced:
        if p.unit_price.currency != currency:
            raise InvalidCommand(
                f"SKU '{p.sku}' is not priced in {currency}.",
                code="currency_mismatch",
                details={"sku": p.sku, "currency": currency},
            )
    if c.scheduled_delivery is not None and c.scheduled_delivery < now.date():
        raise InvalidCommand("The delivery date is in the past.", code="delivery_date_in_past")
    order_lines = [
        OrderLine(
            line_id=line_id_for(order_id, i),
            sku=p.sku,
            product_id=p.product_id,
            name=p.name,
            quantity=p.quantity,
            unit_price=p.unit_price,
            total=p.unit_price.times(p.quantity),
            price_rule_id=p.price_rule_id,
            price_rule_type=p.price_rule_type,
            components=bundle_components(p),
        )
        for i, p in enumerate(priced, start=1)
    ]
    subtotal = Money.zero(currency)
    for line in order_lines:
        subtotal = subtotal + line.total
    shipping = shipping_policy.shipping_for(subtotal)
    got = promotions.discounts(
        [(x.line_id, x.sku, x.quantity, x.total.amount) for x in order_lines],
        shipping.amount,
        currency,
    )
    if got.applied:
        order_lines = [
            x.model_copy(update={"discount": Money.of(got.by_line[x.line_id], currency)})
            for x in order_lines
        ]
    applied = [
        AppliedPromotion(
            promotion_id=a.promotion_id, code=a.code, amount=Money.of(a.amount, currency)
        )
        for a in got.applied
    ]
    discount = Money.of(got.total, currency)
    tax = tax_policy.tax_on(subtotal - Money.of(got.on_lines, currency))
    return [
        OrderPlaced(
            order_number=number,
            customer_id=c.customer_id,
            channel=c.channel,
            channel_order_id=c.channel_order_id,
            currency=currency,
            lines=order_lines,
            shipping_address=c.shipping_address,
            billing_address=c.billing_address,
            payment=c.payment,
            priority=c.priority,
            gift=c.gift,
            scheduled_delivery=c.scheduled_delivery,
            subtotal=subtotal,
            tax=tax,
            shipping=shipping,
            discount=discount,
            total=subtotal - discount + shipping + tax,
            placed_at=now,
            placed_by=placed_by,
            promotions=applied,
            contact_email=valid_email(c.contact_email) if c.contact_email else None,
        )
    ]
