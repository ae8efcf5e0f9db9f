"""Refunds asked for without waiting on the gateway, given / when / then: receiving a return
records the receipt with its refund pending, receiving it again asks for a new refund only
after the last one failed; a client's refund (``RequestRefund``) is recorded in flight for the
returns manager, within what was captured, in the order's currency and lines."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest

from domain.errors import Conflict, InvalidCommand
from domain.order.values import LineQuantity
from domain.payment.commands import RequestRefund
from domain.payment.decide import ask_refund
from domain.payment.events import PaymentAuthorized, PaymentCaptured, RefundRequested
from domain.payment.state import PAYMENT
from domain.returns import decide
from domain.returns.commands import ReceiveReturn
from domain.returns.events import (
    ReturnReceived,
    ReturnRefunded,
    ReturnRefundFailed,
    ReturnRefundRetried,
    ReturnRequested,
)
from domain.returns.state import RETURN

ORDER, RETURN_ID, R1, R2 = UUID(int=1), UUID(int=2), UUID(int=3), UUID(int=4)
RECEIVE = ReceiveReturn(return_id=RETURN_ID, restock=False)


def requested():
    lines = [LineQuantity(line_id="l1", quantity=1)]
    return [ReturnRequested(order_id=ORDER, lines=lines, reason="broken")]


def failed(refund_id: UUID = R1):
    return ReturnRefundFailed(order_id=ORDER, refund_id=refund_id, amount=Decimal("9.99"))


def test_receiving_records_the_receipt_with_its_refund_pending():
    # given a requested return
    state = RETURN.fold(requested())
    # when it is received
    events = decide.receive(state, RECEIVE)
    # then only the receipt is recorded, and the refund is pending
    assert events == [ReturnReceived(order_id=ORDER, restock=False)]
    state = RETURN.fold(events, state)
    assert (state.status, state.refund) == ("received", "pending")


def test_receiving_again_while_the_refund_is_pending_writes_nothing():
    state = RETURN.fold([*requested(), ReturnReceived(order_id=ORDER, restock=False)])
    assert decide.receive(state, RECEIVE) == []


def test_receiving_again_after_a_failed_refund_asks_for_the_next_attempt():
    # given a received return whose first refund failed
    state = RETURN.fold([*requested(), ReturnReceived(order_id=ORDER, restock=False), failed()])
    assert state.refund == "failed"
    # when it is received again
    events = decide.receive(state, RECEIVE)
    # then refund number 1 is asked for, pending, and a repeat asks nothing more
    assert events == [ReturnRefundRetried(order_id=ORDER, attempt=1)]
    state = RETURN.fold(events, state)
    assert (state.status, state.refund, state.refund_attempt) == ("received", "pending", 1)
    assert decide.receive(state, RECEIVE) == []


def test_a_retry_of_a_return_that_failed_twice_before_counts_from_its_failures():
    # given a return received once whose refund failed twice (receipts before retries had
    # their own events)
    history = [*requested(), ReturnReceived(order_id=ORDER, restock=False), failed(R1), failed(R2)]
    state = RETURN.fold(history)
    # when the refund is retried, then it is attempt 2
    assert decide.retry_refund(state, RETURN_ID) == [ReturnRefundRetried(order_id=ORDER, attempt=2)]


def test_a_refunded_return_received_again_writes_nothing():
    refunded = ReturnRefunded(order_id=ORDER, refund_id=R1, amount=Decimal("9.99"))
    state = RETURN.fold([*requested(), ReturnReceived(order_id=ORDER, restock=False), refunded])
    assert state.refund == "succeeded"
    assert decide.receive(state, RECEIVE) == []


def captured(amount: str = "100.00"):
    return PAYMENT.fold(
        [
            PaymentAuthorized(
                order_id=ORDER,
                amount=Decimal(amount),
                currency="USD",
                gateway="sandbox",
                gateway_reference="r",
                idempotency_key="k",
            ),
            PaymentCaptured(capture_id=UUID(int=9), amount=Decimal(amount), gateway_reference="c"),
        ]  # fmt: skip
    )


def refund(amount: str, currency: str = "USD", lines=None) -> RequestRefund:  # noqa: ANN001
    return RequestRefund.model_validate(
        {"order_id": ORDER, "amount": {"amount": amount, "currency": currency}, "lines": lines}
    )


def ask(state, c: RequestRefund, refund_id: UUID = R1):  # noqa: ANN001, ANN201
    return ask_refund(state, c, refund_id=refund_id, currency="USD", line_ids={"l1"})


def test_a_clients_refund_is_recorded_in_flight_for_the_manager():
    # given 100.00 captured
    state = captured()
    # when a refund of 60.00 for one unit of l1 is asked
    events = ask(state, refund("60.00", lines=[{"line_id": "l1", "quantity": 1}]))
    # then it is in flight, deferred to the manager, naming its lines
    assert events == [
        RefundRequested(refund_id=R1, amount=Decimal("60.00"), reason="customer_request",
                        deferred=True, lines=[LineQuantity(line_id="l1", quantity=1)])
    ]  # fmt: skip
    state = PAYMENT.fold(events, state)
    assert state.refundable == Decimal("40.00")
    # and the same refund asked again writes nothing
    assert ask(state, refund("60.00")) == []


def test_a_refund_above_what_is_left_to_refund_is_refused():
    state = PAYMENT.fold(ask(captured(), refund("60.00")), captured())
    with pytest.raises(Conflict) as err:
        ask(state, refund("50.00"), refund_id=R2)
    assert err.value.code == "refund_exceeds_captured"


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (refund("10.00", currency="EUR"), "currency_mismatch"),
        (refund("10.00", lines=[{"line_id": "nope", "quantity": 1}]), "unknown_line"),
        (refund("0"), "invalid_amount"),
    ],
)
def test_a_refund_in_another_currency_for_another_line_or_of_nothing_is_invalid(command, code):  # noqa: ANN001
    with pytest.raises(InvalidCommand) as err:
        ask(captured(), command)
    assert err.value.code == code
