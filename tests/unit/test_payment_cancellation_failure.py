"""Payment decisions for a cancellation that cannot unwind the payment, given / when / then:
``CancellationFailed`` once per request; the authorization's gateway reference and failed
refunds are kept in the state."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from domain.payment import PAYMENT
from domain.payment.events import (
    CancellationFailed,
    PaymentAuthorized,
    RefundFailed,
    RefundRequested,
)
from domain.payment.state import fail_cancellation

ORDER, REQUEST, REFUND = UUID(int=1), UUID(int=2), UUID(int=3)


def authorized():
    return PaymentAuthorized(
        order_id=ORDER, amount=Decimal("30"), currency="USD", gateway="sandbox",
        gateway_reference="sbx_rf_abc", idempotency_key="k",
    )  # fmt: skip


def test_the_state_keeps_the_authorizations_gateway_reference():
    assert PAYMENT.fold([authorized()]).authorization_ref == "sbx_rf_abc"


def test_a_failed_cancellation_is_recorded_once_per_request():
    state = PAYMENT.fold([authorized()])
    [event] = fail_cancellation(
        state, request_id=REQUEST, order_id=ORDER, operation="void",
        reason="gateway_unavailable", attempts=4,
    )  # fmt: skip
    assert isinstance(event, CancellationFailed) and event.operation == "void"
    state = PAYMENT.fold([event], state)
    assert REQUEST in state.failed_cancellations
    again = fail_cancellation(
        state, request_id=REQUEST, order_id=ORDER, operation="void",
        reason="gateway_unavailable", attempts=4,
    )  # fmt: skip
    assert again == []
    assert state.capturable == Decimal("30")  # nothing voided


def test_a_failed_refund_frees_its_amount_and_is_remembered_as_failed():
    state = PAYMENT.fold(
        [
            authorized(),
            RefundRequested(refund_id=REFUND, amount=Decimal("5"), reason="damaged"),
            RefundFailed(refund_id=REFUND, amount=Decimal("5"), reason="damaged"),
        ]
    )
    assert REFUND in state.failed_refunds and state.in_flight == ()
    assert state.refunded == Decimal("0")
