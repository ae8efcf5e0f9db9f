"""Payment state for a cancellation that cannot unwind the payment, given / when / then: the
authorization's gateway reference and failed refunds are kept in the state. The failure itself
is the order's (``CancellationFailed`` on the order stream: test_order_cancellation_failure.py);
the payment stream has no such event."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from domain.payment import events as payment_events
from domain.payment.events import PAYMENT_EVENTS, PaymentAuthorized, RefundFailed, RefundRequested
from domain.payment.state import PAYMENT

ORDER, REFUND = UUID(int=1), UUID(int=3)


def authorized():
    return PaymentAuthorized(
        order_id=ORDER, amount=Decimal("30"), currency="USD", gateway="sandbox",
        gateway_reference="sbx_rf_abc", idempotency_key="k",
    )  # fmt: skip


def test_the_state_keeps_the_authorizations_gateway_reference():
    assert PAYMENT.fold([authorized()]).authorization_ref == "sbx_rf_abc"


def test_a_failed_cancellation_is_not_a_payment_event():
    assert not hasattr(payment_events, "CancellationFailed")
    assert "payment.CancellationFailed" not in {e.stored_name() for e in PAYMENT_EVENTS}


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
