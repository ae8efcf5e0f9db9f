"""A gateway that keeps failing voids and refunds (sandbox token ``tok_refund_fails``), against
the real store: the handlers retry a bounded number of times, then a void writes nothing and
raises ``GatewayUnavailable``, and a refund records ``RefundFailed``."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from commands import payments
from commands.context import CommandContext
from commands.payment_gateway import GatewayTransientError, SandboxGateway
from domain.ids import payment_stream

FAST = payments.RetryPolicy(attempts=3, base_delay_s=0.001)


def authorized(store, gateway, token: str = "tok_refund_fails"):  # noqa: ANN001
    order_id = uuid4()
    r = payments.authorize(
        store, gateway, CommandContext.new(), order_id=order_id, amount=Decimal("30.00"),
        currency="USD", token=token,
    )  # fmt: skip
    assert r.extra["approved"]
    return order_id


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
        payments.void(store, gw, CommandContext.new(), order_id=order_id, reason="x", retry=FAST)
    assert err.value.code == "payment_gateway_unavailable"
    assert gw.unwind_failures == 3  # bounded: exactly the policy's attempts
    assert store.stream_version(payment_stream(order_id)) == before
    assert payments.get(store, order_id).capturable == Decimal("30.00")


def test_a_refund_the_gateway_keeps_failing_retries_then_records_refund_failed(store):
    gw = SandboxGateway()
    order_id = authorized(store, gw)
    ctx = CommandContext.new()
    payments.capture(store, gw, ctx, order_id=order_id, capture_id=uuid4(), amount=Decimal("30"))
    refund_id = uuid4()
    payments.refund(
        store, gw, ctx, order_id=order_id, refund_id=refund_id, amount=Decimal("10.00"),
        reason="damaged", retry=FAST,
    )  # fmt: skip
    assert gw.unwind_failures == 3
    state = payments.get(store, order_id)
    assert refund_id in state.failed_refunds
    assert (state.refunded, state.refundable) == (Decimal("0"), Decimal("30.00"))
    types = [e.name for e in store.load(payment_stream(order_id))]
    assert types[-2:] == ["RefundRequested", "RefundFailed"]


def test_a_card_that_refunds_is_unaffected(store):
    gw = SandboxGateway()
    order_id = authorized(store, gw, "tok_visa")
    payments.void(store, gw, CommandContext.new(), order_id=order_id, reason="x", retry=FAST)
    assert payments.get(store, order_id).status == "voided" and gw.unwind_failures == 0
