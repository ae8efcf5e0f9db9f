"""The placement saga when the gateway approves only after the reservations' time limit:
the holds expire, the late authorization is voided, the order is cancelled
``reservation_expired`` (the time limit was reached while it was pending)."""

from __future__ import annotations

import time
from datetime import timedelta
from uuid import uuid4

from commands import inventory, orders, payments
from commands.context import CommandContext
from commands.placement_saga import OrderPlacementSaga, SagaSettings
from commands.process_manager import Trigger
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from tests.factories import active_product, send

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")


class LateGateway:
    """The sandbox, answering every authorization only after ``delay_s``."""

    def __init__(self, inner, delay_s: float):  # noqa: ANN001
        self.inner, self.delay_s, self.name = inner, delay_s, inner.name

    def authorize(self, key, token, amount, currency, timeout_s):  # noqa: ANN001, ANN201
        time.sleep(self.delay_s)
        return self.inner.authorize(key, token, amount, currency, timeout_s)

    def authorize_at_once(self, requests):  # noqa: ANN001, ANN201
        time.sleep(self.delay_s)
        return self.inner.authorize_at_once(requests)

    def __getattr__(self, name):  # noqa: ANN001, ANN204 - capture, void, refund as the sandbox
        return getattr(self.inner, name)


def test_an_approval_after_the_time_limit_is_voided_and_the_order_cancelled(container):
    ctx = CommandContext.new("t")
    code = f"LA-{uuid4().hex[:8]}"
    send(container, RegisterLocation(code=code, name=code, type="warehouse", priority=1), ctx)
    container.runner.catch_up(["locations"])
    sku = active_product(container, price="10.00")[1]
    send(container, ReceiveStock(sku=sku, location=code, quantity=5), ctx)
    saga = OrderPlacementSaga(
        container.store,
        container.pool,
        LateGateway(container.gateway, delay_s=1.3),
        SagaSettings(reservation_ttl=timedelta(seconds=1)),
    )
    placed = send(
        container,
        PlaceOrder(
            customer_id=uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=2)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token="tok_visa"),
        ),
        CommandContext.new("t"),
    )

    saga.handle(Trigger("late-test", container.store.load_with_positions(placed.stream_id)[0]))

    order = orders.get(container.store, placed.stream_id)
    assert (order.status, order.cancellation_reason) == ("cancelled", "reservation_expired")
    payment = payments.get(container.store, placed.stream_id)
    assert payment.status == "voided" and payment.authorized == payment.voided
    stock = inventory.get(container.store, sku)
    assert (stock.level(code).on_hand, stock.level(code).reserved) == (5, 0)
    assert {r.status for r in stock.reservations.values()} == {"expired"}
