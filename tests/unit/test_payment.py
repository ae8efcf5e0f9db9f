"""Payment: given events, when a decision runs, then these events or this error."""

from decimal import Decimal
from uuid import UUID

import pytest

from domain.errors import Conflict, IllegalTransition, InvalidCommand
from domain.payment.commands import (
    AdjustAuthorization,
    AuthorizePayment,
    CapturePayment,
    RefundPayment,
    VoidAuthorization,
)
from domain.payment.decide import (
    adjust_authorization,
    capture,
    expire,
    record_authorization,
    refund,
    void,
)
from domain.payment.events import (
    AuthorizationAdjusted,
    AuthorizationVoided,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    RefundSucceeded,
)
from domain.payment.state import PAYMENT

ORDER = UUID(int=1)
C1, C2, R1, R2 = UUID(int=11), UUID(int=12), UUID(int=21), UUID(int=22)
AUTH = PaymentAuthorized(
    order_id=ORDER,
    amount=Decimal("100.00"),
    currency="USD",
    gateway="sandbox",
    gateway_reference="ref",
    idempotency_key="k",
)


def given(*events):
    return PAYMENT.fold(events)


def authorize(state, approved=True, amount="100.00"):
    return record_authorization(
        state,
        AuthorizePayment(order_id=ORDER, amount=Decimal(amount), currency="USD", token="tok"),
        gateway="sandbox",
        approved=approved,
        gateway_reference="ref",
        reason="" if approved else "card_declined",
        idempotency_key="k",
    )


def captured(amount, cid=C1):
    return PaymentCaptured(capture_id=cid, amount=Decimal(amount), gateway_reference="c")


class TestAuthorize:
    def test_an_approval_is_recorded(self):
        assert authorize(given()) == [AUTH]

    def test_a_decline_is_recorded_with_its_reason(self):
        [event] = authorize(given(), approved=False)
        assert isinstance(event, PaymentDeclined) and event.reason == "card_declined"

    def test_a_second_live_authorization_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            authorize(given(AUTH))
        assert e.value.code == "already_authorized"

    def test_a_zero_amount_is_invalid(self):
        with pytest.raises(InvalidCommand):
            authorize(given(), amount="0")


class TestCapture:
    def test_part_then_rest(self):
        state = given(AUTH, captured("60.00"))
        assert state.status == "partially_captured"
        events = capture(
            state,
            CapturePayment(
                order_id=ORDER, capture_id=C2, amount=Decimal("40.00"), shipment_id=None
            ),
            gateway_reference="c2",
        )
        assert given(AUTH, captured("60.00"), *events).status == "captured"

    def test_more_than_authorized_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            capture(
                given(AUTH, captured("60.00")),
                CapturePayment(
                    order_id=ORDER, capture_id=C2, amount=Decimal("40.01"), shipment_id=None
                ),
                gateway_reference="c2",
            )
        assert e.value.code == "capture_exceeds_authorization"

    def test_the_same_capture_twice_writes_nothing(self):
        assert (
            capture(
                given(AUTH, captured("10.00")),
                CapturePayment(
                    order_id=ORDER, capture_id=C1, amount=Decimal("10.00"), shipment_id=None
                ),
                gateway_reference="c",
            )
            == []
        )

    def test_capturing_a_declined_payment_is_illegal(self):
        declined = PaymentDeclined(
            order_id=ORDER,
            amount=Decimal("1"),
            currency="USD",
            gateway="sandbox",
            reason="x",
            idempotency_key="k",
        )
        with pytest.raises(IllegalTransition):
            capture(
                given(declined),
                CapturePayment(
                    order_id=ORDER, capture_id=C1, amount=Decimal("1"), shipment_id=None
                ),
                gateway_reference="c",
            )


class TestVoidAndExpire:
    def test_a_void_releases_only_the_uncaptured_rest(self):
        [event] = void(
            given(AUTH, captured("30.00")), VoidAuthorization(order_id=ORDER, reason="cancelled")
        )
        assert event == AuthorizationVoided(amount=Decimal("70.00"), reason="cancelled")

    def test_voiding_twice_writes_nothing(self):
        state = given(AUTH, AuthorizationVoided(amount=Decimal("100.00"), reason="x"))
        assert (
            state.status == "voided"
            and void(state, VoidAuthorization(order_id=ORDER, reason="again")) == []
        )

    def test_only_an_uncaptured_authorization_expires(self):
        assert expire(given(AUTH)) and expire(given(AUTH, captured("1.00"))) == []


class TestRefund:
    def test_refunds_never_exceed_captures(self):
        state = given(AUTH, captured("100.00"))
        first = refund(
            state,
            RefundPayment(order_id=ORDER, refund_id=R1, amount=Decimal("60.00"), reason="r"),
            succeeded=True,
            gateway_reference="r1",
        )
        state = given(AUTH, captured("100.00"), *first)
        with pytest.raises(Conflict) as e:
            refund(
                state,
                RefundPayment(order_id=ORDER, refund_id=R2, amount=Decimal("50.00"), reason="r"),
                succeeded=True,
                gateway_reference="r2",
            )
        assert e.value.code == "refund_exceeds_captured"
        assert state.refunded == Decimal("60.00")

    def test_the_same_refund_twice_writes_nothing(self):
        state = given(
            AUTH,
            captured("100.00"),
            RefundSucceeded(refund_id=R1, amount=Decimal("5"), reason="r", gateway_reference="x"),
        )
        assert (
            refund(
                state,
                RefundPayment(order_id=ORDER, refund_id=R1, amount=Decimal("5"), reason="r"),
                succeeded=True,
                gateway_reference="x",
            )
            == []
        )


def adjust(amount, reason="order_edited"):
    return AdjustAuthorization(order_id=ORDER, amount=Decimal(amount), reason=reason)


class TestAdjustAuthorization:
    def test_a_live_authorization_holds_the_new_amount(self):
        [event] = adjust_authorization(given(AUTH), adjust("120.00"), gateway_reference="g2")
        assert event == AuthorizationAdjusted(
            amount=Decimal("120.00"), gateway_reference="g2", reason="order_edited"
        )
        assert given(AUTH, event).authorized == Decimal("120.00")

    def test_the_same_amount_writes_nothing(self):
        assert adjust_authorization(given(AUTH), adjust("100.00"), gateway_reference="") == []

    def test_an_authorization_captured_from_cannot_be_adjusted(self):
        with pytest.raises(Conflict) as e:
            adjust_authorization(
                given(AUTH, captured("10.00")), adjust("50.00"), gateway_reference=""
            )
        assert e.value.code == "authorization_not_adjustable"
