"""Deciding PlaceOrder: validate the requested lines, price them, total the order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID, uuid5

from domain.errors import Conflict, InvalidCommand
from domain.events import DomainEvent
from domain.money import Money
from domain.order.events import OrderPlaced
from domain.order.state import OrderState
from domain.order.values import (
    MAX_LINES,
    MAX_QUANTITY,
    Address,
    Channel,
    GiftOptions,
    OrderLine,
    PaymentRef,
    PricedLine,
    Priority,
    RequestedLine,
)
from domain.pricing_policy import ShippingPolicy, TaxPolicy


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


def line_id_for(order_id: UUID, index: int) -> str:
    """Line ids are derived from the order id, so a replayed decision names lines the same."""
    return str(uuid5(order_id, f"line:{index}"))


def place_order(
    state: OrderState,
    *,
    order_id: UUID,
    number: int,
    customer_id: UUID,
    currency: str,
    lines: Sequence[PricedLine],
    shipping_address: Address,
    payment: PaymentRef,
    tax_policy: TaxPolicy,
    shipping_policy: ShippingPolicy,
    placed_at: datetime,
    placed_by: str,
    billing_address: Address | None = None,
    channel: Channel = "direct",
    channel_order_id: str | None = None,
    priority: Priority = "normal",
    gift: GiftOptions | None = None,
    scheduled_delivery: date | None = None,
) -> list[DomainEvent]:
    if state.exists:
        raise Conflict(f"Order {order_id} already exists.", code="order_exists")
    validate_requested_lines([RequestedLine(p.sku, p.quantity) for p in lines])
    for p in lines:
        if p.unit_price.currency != currency:
            raise InvalidCommand(
                f"SKU '{p.sku}' is not priced in {currency}.",
                code="currency_mismatch",
                details={"sku": p.sku, "currency": currency},
            )
    if scheduled_delivery is not None and scheduled_delivery < placed_at.date():
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
        )
        for i, p in enumerate(lines, start=1)
    ]
    subtotal = Money.zero(currency)
    for line in order_lines:
        subtotal = subtotal + line.total
    discount = Money.zero(currency)
    tax = tax_policy.tax_on(subtotal - discount)
    shipping = shipping_policy.shipping_for(subtotal)
    return [
        OrderPlaced(
            order_number=number,
            customer_id=customer_id,
            channel=channel,
            channel_order_id=channel_order_id,
            currency=currency,
            lines=order_lines,
            shipping_address=shipping_address,
            billing_address=billing_address,
            payment=payment,
            priority=priority,
            gift=gift,
            scheduled_delivery=scheduled_delivery,
            subtotal=subtotal,
            tax=tax,
            shipping=shipping,
            discount=discount,
            total=subtotal - discount + shipping + tax,
            placed_at=placed_at,
            placed_by=placed_by,
        )
    ]
