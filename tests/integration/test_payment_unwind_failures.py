"""A gateway that keeps failing voids and refunds (sandbox token ``tok_refund_fails``), against
the real store: the handlers retry a bounded number of times, then a void writes nothing and
raises ``GatewayUnavailable``, and a refund records ``RefundFailed``. An approved cancellation
that cannot unwind the payment records ``CancellationFailed`` on the order's stream (with an
alert), and approving it again once the gateway recovers completes it."""

from __future__ import annotations

import logging
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from commands import cancellations, orders, payments
from commands.context import CommandContext
from commands.payment_gateway import GatewayTransientError, SandboxGateway
from commands.placement_saga import OrderPlacementSaga
from commands.process_manager import Trigger
from commands.write_side import WriteSide
from domain.errors import Conflict
from domain.ids import payment_stream
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.fulfillment_commands import RequestCancellation, ReviewCancellation
from domain.order.values import Address, PaymentRef
from domain.payment.commands import (
    AuthorizePayment,
    CapturePayment,
    RefundPayment,
    VoidAuthorization,
)
from tests.factories import active_product, send
from tests.fulfillment_manager import carry_out

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")

FAST = payments.RetryPolicy(attempts=3, base_delay_s=0.001)


def authorized(store, gateway, token: str = "tok_refund_fails"):  # noqa: ANN001
    order_id = uuid4()
    r = payments.authorize(
        WriteSide.over(store, gateway),
        AuthorizePayment(order_id=order_id, amount=Decimal("30.00"), currency="USD", token=token),
        CommandContext.new(),
    )
    assert r.extra["approved"]
    return order_id


def void_it(order_id):  # noqa: ANN001
    return VoidAuthorization(order_id=order_id, reason="x")


def test_the_sandbox_token_approves_and_captures_but_never_voids_or_refunds():
    gw = SandboxGateway()
    answer = gw.authorize("k", "tok_refund_fails", Decimal("1"), "USD", 1)
    assert answer.outcome == "approved"
    assert gw.capture("c", answer.reference, Decimal("1")).outcome == "approved"
    for _ in range(3):
        with pytest.raises(GatewayTransientError):
            gw.void("v", answer.reference)
        with pytest.raises(GatewayTransientError):
            gw.refund("r", answer.reference, Decimal("1"))
    visa = gw.authorize("k2", "tok_visa", Decimal("1"), "USD", 1)
    assert gw.void("v2", visa.reference).outcome == "approved"


def test_a_void_the_gateway_keeps_failing_retries_then_writes_nothing(store):
    gw = SandboxGateway()
    order_id = authorized(store, gw)
    before = store.stream_version(payment_stream(order_id))
    with pytest.raises(payments.GatewayUnavailable) as err:
        payments.void(
            WriteSide.over(store, gw), void_it(order_id), CommandContext.new(), retry=FAST
        )
    assert err.value.code == "payment_gateway_unavailable"
    assert gw.unwind_failures == 3  # bounded: exactly the policy's attempts
    assert store.stream_version(payment_stream(order_id)) == before
    assert payments.get(store, order_id).capturable == Decimal("30.00")


def test_a_refund_the_gateway_keeps_failing_retries_then_records_refund_failed(store):
    gw = SandboxGateway()
    order_id = authorized(store, gw)
    ctx = CommandContext.new()
    w = WriteSide.over(store, gw)
    payments.capture(
        w, CapturePayment(order_id=order_id, capture_id=uuid4(), amount=Decimal("30")), ctx
    )
    refund_id = uuid4()
    refund = RefundPayment(
        order_id=order_id, refund_id=refund_id, amount=Decimal("10.00"), reason="damaged"
    )
    payments.refund(w, refund, ctx, retry=FAST)
    assert gw.unwind_failures == 3
    state = payments.get(store, order_id)
    assert refund_id in state.failed_refunds
    assert (state.refunded, state.refundable) == (Decimal("0"), Decimal("30.00"))
    types = [e.name for e in store.load(payment_stream(order_id))]
    assert types[-2:] == ["RefundRequested", "RefundFailed"]


def test_a_card_that_refunds_is_unaffected(store):
    gw = SandboxGateway()
    order_id = authorized(store, gw, "tok_visa")
    payments.void(WriteSide.over(store, gw), void_it(order_id), CommandContext.new(), retry=FAST)
    assert payments.get(store, order_id).status == "voided" and gw.unwind_failures == 0


# ---- an approved cancellation the gateway cannot unwind, on the order's stream ----------------


class RecoveringGateway(SandboxGateway):
    """The sandbox, whose ``tok_refund_fails`` voids and refunds fail only while ``down``."""

    down = True

    def _unwind_fails(self, authorization_ref: str) -> None:
        if self.down:
            super()._unwind_fails(authorization_ref)


@pytest.fixture(scope="module")
def world(container):
    code = f"UW-{uuid4().hex[:8]}"
    ctx = CommandContext.new("t")
    send(container, RegisterLocation(code=code, name=code, type="warehouse", priority=1), ctx)
    container.runner.catch_up(["locations"])
    _product, sku = active_product(container, price="10.00")
    send(container, ReceiveStock(sku=sku, location=code, quantity=100), ctx)
    return container, sku


def confirmed_order(world, gateway):  # noqa: ANN001
    container, sku = world
    placed = send(
        container,
        PlaceOrder(
            customer_id=uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=2)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token="tok_refund_fails"),
        ),
        CommandContext.new("t"),
    )
    saga = OrderPlacementSaga(container.store, container.pool, gateway)
    saga.handle(Trigger("unwind-test", container.store.load_with_positions(placed.stream_id)[0]))
    assert orders.get(container.store, placed.stream_id).status == "confirmed"
    return placed.stream_id


def approve(store, gateway, order_id, request_id=None):  # noqa: ANN001
    ctx = CommandContext.new("m")
    if request_id is None:
        requested = send(store, RequestCancellation(order_id=order_id, reason="other"), ctx)
        request_id = UUID(requested.extra["id"])
    head = store.head()
    reviewed = send(store, ReviewCancellation(request_id=request_id, approve=True), ctx)
    assert reviewed.extra["status"] == "approved"  # what the request records; then the manager
    carry_out(store, gateway, head)
    return request_id, orders.get(store, order_id).cancellation.status


def names(store, stream_id):  # noqa: ANN001
    return [e.name for e in store.load(stream_id)]


def test_a_failed_cancellation_is_the_orders_and_is_retried_once_the_gateway_recovers(
    world, caplog
):
    store = world[0].store
    gw = RecoveringGateway()
    order_id = confirmed_order(world, gw)
    caplog.set_level(logging.ERROR, logger="ecom.alerts")
    # the void keeps failing: the request is failed, on the order's stream, with one alert
    request_id, status = approve(store, gw, order_id)
    assert status == "failed"
    assert gw.unwind_failures == payments.RetryPolicy().attempts
    [failed] = [e.to_domain() for e in store.load(order_id) if e.name == "CancellationFailed"]
    assert (failed.request_id, failed.operation, failed.attempts) == (request_id, "void", 4)
    assert "CancellationFailed" not in names(store, payment_stream(order_id))
    state = orders.get(store, order_id)
    assert (state.cancellation.status, state.status) == ("failed", "confirmed")
    assert payments.get(store, order_id).status == "authorized"
    assert [r.message.split(":")[0] for r in caplog.records] == ["ALERT cancellation_failed"]
    # completing it again (a repeat of the same attempt) writes nothing and raises no alert
    version = store.stream_version(order_id)
    assert cancellations.complete(
        WriteSide.over(store, gw), CommandContext.new(), order_id, request_id
    ) == ("failed")
    assert store.stream_version(order_id) == version and len(caplog.records) == 1
    # approved again while the gateway is still down: a second attempt, failed again
    _, again = approve(store, gw, order_id, request_id)
    assert again == "failed"
    assert orders.get(store, order_id).cancellation.attempt == 1
    assert names(store, order_id).count("CancellationFailed") == 2 and len(caplog.records) == 2
    # the gateway recovers: approved again, the cancellation completes
    gw.down = False
    _, done = approve(store, gw, order_id, request_id)
    assert done == "completed"
    state = orders.get(store, order_id)
    assert (state.cancellation.status, state.status) == ("completed", "cancelled")
    assert payments.get(store, order_id).status == "voided"
    tail = names(store, order_id)[-3:]
    assert tail == ["CancellationRetried", "OrderCancelled", "CancellationCompleted"], tail
    with pytest.raises(Conflict):  # a completed request is not retried
        approve(store, gw, order_id, request_id)


def test_a_refund_that_failed_is_asked_again_under_a_new_id_on_retry(world):
    store = world[0].store
    gw = RecoveringGateway()
    order_id = confirmed_order(world, gw)
    pay = payments.get(store, order_id)
    payments.capture(
        WriteSide.over(store, gw),
        CapturePayment(order_id=order_id, capture_id=uuid4(), amount=pay.authorized),
        CommandContext.new(),
    )
    request_id, status = approve(store, gw, order_id)
    assert status == "failed"
    [failed] = [e.to_domain() for e in store.load(order_id) if e.name == "CancellationFailed"]
    assert failed.operation == "refund"
    pay = payments.get(store, order_id)
    assert pay.refunded == Decimal("0") and len(pay.failed_refunds) == 1
    gw.down = False
    _, done = approve(store, gw, order_id, request_id)
    assert done == "completed"
    pay = payments.get(store, order_id)
    assert pay.refunded == pay.captured and len(pay.refund_ids) == 2  # the failed one + the new
    assert orders.get(store, order_id).status == "cancelled"
