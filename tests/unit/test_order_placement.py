"""PlaceOrder, given / when / then: lines, prices, totals, policies and rejections.

``placed`` and ``given`` are shared by the other order unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from domain.errors import Conflict, InvalidCommand
from domain.money import Money
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.events import OrderPlaced
from domain.order.placement import place_order, validate_requested_lines
from domain.order.state import ORDER, OrderState
from domain.order.values import Address, GiftOptions, PaymentRef, PricedLine
from domain.pricing_policy import FlatRateShipping, FlatRateTax

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ORDER_ID = UUID("00000000-0000-4000-8000-000000000001")
CUSTOMER = UUID("00000000-0000-4000-8000-0000000000c1")
ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")
PAYMENT = PaymentRef(token="tok_visa")


def priced(sku: str = "A", quantity: int = 1, price: str = "19.99", currency: str = "USD"):
    return PricedLine(sku, uuid4(), f"Product {sku}", quantity, Money.of(price, currency))


#: What a placement is decided with besides the command (the handler's ids, pricing, actor).
DECIDED_WITH = ("order_id", "number", "tax_policy", "shipping_policy", "placed_by")


def decide(lines: list[PricedLine], state: OrderState | None = None, now=NOW, **kw):
    """When PlaceOrder of ``lines`` (as the catalog priced them) is decided at ``now``: the
    command's fields and what the handler adds are both taken from ``kw``."""
    given_with = {k: kw.pop(k) for k in DECIDED_WITH if k in kw}
    command = PlaceOrder(
        customer_id=CUSTOMER,
        currency="USD",
        lines=[RequestedLine(sku=p.sku, quantity=p.quantity) for p in lines],
        shipping_address=ADDRESS,
        payment=PAYMENT,
        **kw,
    )
    args = dict(
        order_id=ORDER_ID,
        number=1001,
        tax_policy=FlatRateTax(Decimal("0")),
        shipping_policy=FlatRateShipping(Decimal("0")),
        placed_by="tester",
    )
    args.update(given_with)
    return place_order(state or OrderState(), command, now, priced=lines, **args)


def placed(*lines: PricedLine, **kw) -> OrderPlaced:
    [event] = decide(list(lines) or [priced()], **kw)
    assert isinstance(event, OrderPlaced)
    return event


def given(*events) -> OrderState:
    return ORDER.fold(events)


def test_placing_an_order_records_lines_priced_at_placement_and_their_totals():
    event = placed(priced("A", 2, "19.99"), priced("B", 1, "5.00"))
    assert [(line.sku, line.quantity, line.total.amount) for line in event.lines] == [
        ("A", 2, Decimal("39.98")),
        ("B", 1, Decimal("5.00")),
    ]
    assert event.subtotal == Money.of("44.98", "USD")
    assert event.total == Money.of("44.98", "USD")
    assert event.order_number == 1001 and event.placed_at == NOW and event.placed_by == "tester"
    assert event.channel == "direct" and event.priority == "normal"


def test_line_ids_are_stable_for_the_same_order_id():
    first, second = placed(priced("A"), priced("B")), placed(priced("A"), priced("B"))
    assert [line.line_id for line in first.lines] == [line.line_id for line in second.lines]
    assert len({line.line_id for line in first.lines}) == 2


def test_tax_is_rounded_half_up_once_on_the_subtotal_and_shipping_comes_from_the_policy():
    event = placed(
        priced("A", 3, "3.35"),
        tax_policy=FlatRateTax(Decimal("0.075")),
        shipping_policy=FlatRateShipping(Decimal("4.99")),
    )
    assert event.subtotal.amount == Decimal("10.05")
    assert event.tax.amount == Decimal("0.75")  # 0.75375 -> 0.75
    assert event.shipping.amount == Decimal("4.99")
    assert event.total.amount == Decimal("15.79")


def test_shipping_is_free_from_the_threshold():
    policy = FlatRateShipping(Decimal("4.99"), free_over=Decimal("50"))
    assert placed(priced("A", 1, "50.00"), shipping_policy=policy).shipping.amount == 0
    assert placed(priced("A", 1, "49.99"), shipping_policy=policy).shipping.amount == Decimal(
        "4.99"
    )


def test_the_new_state_is_pending_with_the_placed_lines():
    state = given(placed(priced("A", 2)))
    assert state.exists and state.status == "pending"
    assert [(line.sku, line.quantity) for line in state.lines] == [("A", 2)]


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([], "no_lines"),
        ([RequestedLine(sku="A", quantity=0)], "invalid_quantity"),
        ([RequestedLine(sku="A", quantity=-1)], "invalid_quantity"),
        ([RequestedLine(sku="A", quantity=1001)], "invalid_quantity"),
        ([RequestedLine(sku=f"S{i}", quantity=1) for i in range(101)], "too_many_lines"),
    ],
)
def test_bad_requested_lines_are_refused_before_pricing(lines, code):
    with pytest.raises(InvalidCommand) as err:
        validate_requested_lines(lines)
    assert err.value.code == code


def test_placing_an_order_with_a_price_in_another_currency_is_refused():
    with pytest.raises(InvalidCommand) as err:
        decide([priced("A", 1, "5", "EUR")])
    assert err.value.code == "currency_mismatch"


def test_placing_an_order_for_a_past_delivery_date_is_refused():
    with pytest.raises(InvalidCommand) as err:
        decide([priced()], scheduled_delivery=date(2026, 2, 1))
    assert err.value.code == "delivery_date_in_past"


def test_placing_the_same_order_twice_is_a_conflict():
    with pytest.raises(Conflict) as err:
        decide([priced()], state=given(placed()))
    assert err.value.code == "order_exists"


def test_the_boundary_quantities_1_and_1000_are_accepted():
    event = placed(priced("A", 1), priced("B", 1000))
    assert [line.quantity for line in event.lines] == [1, 1000]


def test_what_the_command_asks_for_is_what_the_order_records():
    # Given a PlaceOrder naming every optional field
    gift = GiftOptions(wrap=True, message="Happy birthday")
    billing = ADDRESS.model_copy(update={"name": "Bo"})
    # When it is decided
    event = placed(
        priced("A"),
        channel="amazon",
        channel_order_id="AMZ-1",
        priority="urgent",
        gift=gift,
        billing_address=billing,
        scheduled_delivery=date(2026, 3, 2),
    )
    # Then the event carries each as sent, and the customer and payment too
    assert (event.channel, event.channel_order_id, event.priority) == ("amazon", "AMZ-1", "urgent")
    assert (event.gift, event.billing_address) == (gift, billing)
    assert event.scheduled_delivery == date(2026, 3, 2)
    assert (event.customer_id, event.payment, event.shipping_address) == (
        CUSTOMER,
        PAYMENT,
        ADDRESS,
    )


def test_a_delivery_date_of_the_day_of_placement_is_accepted():
    assert placed(priced("A"), scheduled_delivery=NOW.date()).scheduled_delivery == NOW.date()


def test_prices_for_other_lines_than_the_requested_ones_are_a_programming_error():
    # Given a command for one unit of A, when it is decided with a price for two units of A
    command = PlaceOrder(
        customer_id=CUSTOMER,
        currency="USD",
        lines=[RequestedLine(sku="A", quantity=1)],
        shipping_address=ADDRESS,
        payment=PAYMENT,
    )
    with pytest.raises(ValueError, match="priced lines"):
        place_order(
            OrderState(),
            command,
            NOW,
            order_id=ORDER_ID,
            number=1,
            priced=[priced("A", 2)],
            tax_policy=FlatRateTax(),
            shipping_policy=FlatRateShipping(),
            placed_by="tester",
        )


def test_the_command_is_a_frozen_message_that_refuses_unknown_fields():
    fields = dict(
        customer_id=CUSTOMER,
        currency="USD",
        lines=[RequestedLine(sku="A", quantity=1)],
        shipping_address=ADDRESS,
        payment=PAYMENT,
    )
    command = PlaceOrder(**fields)
    with pytest.raises(ValidationError):
        command.currency = "EUR"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        PlaceOrder(**fields, total="0.01")  # a client never prices its order
    with pytest.raises(ValidationError):
        RequestedLine(sku="A", quantity=1, unit_price="0.01")
