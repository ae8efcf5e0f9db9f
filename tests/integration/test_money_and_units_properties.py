"""Property: whatever the interleaving of ship, deliver, cancel, return and refund commands on
a confirmed order, refunds ≤ captures ≤ authorizations and, per line, shipped ≤ ordered −
cancelled, and returned ≤ delivered ≤ shipped. Rejected commands write nothing harmful."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from commands import orders, payments, returns
from commands.context import CommandContext
from commands.placement_saga import OrderPlacementSaga
from commands.process_manager import Trigger
from commands.write_side import WriteSide
from domain.command import MoneyIn
from domain.errors import DomainError
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.fulfillment_commands import LineUnits, RequestCancellation, ReviewCancellation
from domain.order.values import Address, PaymentRef
from domain.payment.commands import RequestRefund, SettleRefund
from domain.pricing_policy import FlatRateShipping, FlatRateTax
from domain.returns.commands import ReceiveReturn, RequestReturn, ReturnLine
from domain.shipment.commands import OpenShipment, RecordDeliveryAttempt, RecordTracking
from tests.factories import active_product, priced, send
from tests.fulfillment_manager import carry_out

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")


@pytest.fixture(scope="module")
def world(container):
    code = f"HY-{uuid4().hex[:8]}"
    ctx = CommandContext.new("t")
    send(container, RegisterLocation(code=code, name=code, type="warehouse", priority=1), ctx)
    container.runner.catch_up(["locations"])
    skus = [active_product(container, price=p)[1] for p in ("10.00", "7.50")]
    for sku in skus:
        send(container, ReceiveStock(sku=sku, location=code, quantity=100_000), ctx)
    saga = OrderPlacementSaga(container.store, container.pool, container.gateway)
    return container, code, skus, saga


def confirmed_order(world):  # noqa: ANN001
    container, _code, skus, saga = world
    placed = send(
        priced(
            container,
            tax=FlatRateTax(Decimal("8.25")),
            shipping=FlatRateShipping(Decimal("4.99"), None),
        ),
        PlaceOrder(
            customer_id=uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=skus[0], quantity=3), RequestedLine(sku=skus[1], quantity=2)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token="tok_visa"),
        ),
        CommandContext.new("t"),
    )
    event = container.store.load_with_positions(placed.stream_id)[0]
    saga.handle(Trigger("property-test", event))
    state = orders.get(container.store, placed.stream_id)
    assert state.status == "confirmed"
    return placed.stream_id


operation = st.one_of(
    st.tuples(st.just("ship"), st.integers(0, 1), st.integers(1, 3)),
    st.tuples(st.just("deliver"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("cancel"), st.booleans(), st.just(0)),
    st.tuples(st.just("return"), st.integers(0, 1), st.integers(1, 2)),
    st.tuples(st.just("refund"), st.integers(1, 4000), st.just(0)),
)


def apply(world, order_id, op, opened: list) -> None:  # noqa: ANN001
    container, code, _skus, _saga = world
    store, gateway = container.store, container.gateway
    ctx = CommandContext.new("t")
    state = orders.get(store, order_id)
    head = store.head()
    kind, a, b = op
    if kind == "ship":
        line = state.lines[a]
        opened.append(
            UUID(
                send(
                    store,
                    OpenShipment(
                        order_id=order_id,
                        location=code,
                        carrier="UPS",
                        lines=[LineUnits(line_id=line.line_id, quantity=b)],
                    ),
                    ctx,
                ).extra["id"]
            )
        )
        send(store, RecordTracking(shipment_id=opened[-1], status="picked_up"), ctx)
    elif kind == "deliver" and opened:
        send(
            store,
            RecordDeliveryAttempt(shipment_id=opened[a % len(opened)], outcome="successful"),
            ctx,
        )
    elif kind == "cancel":
        requested = send(store, RequestCancellation(order_id=order_id, reason="customer_request"),
                         ctx)  # fmt: skip
        rid = UUID(requested.extra["id"])
        send(store, ReviewCancellation(request_id=rid, approve=a), ctx)
    elif kind == "return":
        returnable = [ln for ln in state.lines if ln.delivered > ln.in_returns] or state.lines
        line = returnable[a % len(returnable)]
        asked = RequestReturn(
            order_id=order_id, lines=[ReturnLine(line_id=line.line_id, quantity=b)],
            reason="too big",
        )  # fmt: skip
        ret = UUID(send(container, asked, ctx).extra["id"])
        send(container, ReceiveReturn(return_id=ret, restock=False), ctx)
        returns.settle(container.dispatcher.write, ctx, ret)  # the returns manager's steps
    elif kind == "refund":
        amount = MoneyIn(amount=str(Decimal(a) / 100), currency="USD")
        asked = send(container, RequestRefund(order_id=order_id, amount=amount), ctx)
        settle = SettleRefund(
            order_id=order_id, refund_id=UUID(asked.extra["id"]), reason="customer_request"
        )
        payments.settle_refund(WriteSide.over(store, gateway), settle, ctx)  # the manager's step
    carry_out(store, gateway, head)  # what the fulfillment process manager then does


def check(world, order_id) -> None:  # noqa: ANN001
    container = world[0]
    pay = payments.get(container.store, order_id)
    in_flight = sum((x for _, x in pay.in_flight), Decimal("0"))
    assert Decimal("0") <= pay.refunded <= pay.refunded + in_flight <= pay.captured
    assert pay.captured + pay.voided <= pay.authorized
    state = orders.get(container.store, order_id)
    for line in state.lines:
        assert 0 <= line.shipped <= line.quantity - line.cancelled
        assert 0 <= line.returned <= line.delivered <= line.shipped
        assert line.in_returns <= line.delivered


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=10))
def test_any_interleaving_keeps_money_and_units_consistent(world, ops):
    order_id = confirmed_order(world)
    opened: list = []
    for op in ops:
        try:
            apply(world, order_id, op, opened)
            event(f"{op[0]} accepted")
        except DomainError as refused:
            event(f"{op[0]} refused: {refused.code}")  # nothing written; invariants hold
        check(world, order_id)
