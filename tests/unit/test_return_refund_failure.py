"""A return whose refund fails, given / when / then: ``ReturnRefundFailed`` once per refund,
the return stays ``received`` (so the refund can be retried, under a new attempt number) and
only a successful refund makes it ``refunded``."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from domain.order.values import LineQuantity
from domain.returns.decide import fail_refund, mark_refunded
from domain.returns.events import ReturnReceived, ReturnRefundFailed, ReturnRequested
from domain.returns.state import RETURN

ORDER, RETURN_ID, R1, R2 = UUID(int=1), UUID(int=2), UUID(int=3), UUID(int=4)


def received():
    return [
        ReturnRequested(order_id=ORDER, lines=[LineQuantity(line_id="l1", quantity=1)],
                        reason="broken"),
        ReturnReceived(order_id=ORDER, restock=False),
    ]  # fmt: skip


def test_a_failed_refund_leaves_the_return_received_for_another_attempt():
    # given a received return
    state = RETURN.fold(received())
    assert state.refund_attempt == 0
    # when its refund fails
    [event] = fail_refund(state, RETURN_ID, refund_id=R1, amount=Decimal("9.99"))
    # then it is still received, with one failed attempt
    assert isinstance(event, ReturnRefundFailed)
    state = RETURN.fold([event], state)
    assert (state.status, state.refunded, state.refund_attempt) == ("received", 0, 1)
    # and the same failure again writes nothing
    assert fail_refund(state, RETURN_ID, refund_id=R1, amount=Decimal("9.99")) == []


def test_a_retried_refund_that_succeeds_makes_the_return_refunded():
    failed = ReturnRefundFailed(order_id=ORDER, refund_id=R1, amount=Decimal("9.99"))
    state = RETURN.fold([*received(), failed])
    [event] = mark_refunded(state, RETURN_ID, refund_id=R2, amount=Decimal("9.99"))
    state = RETURN.fold([event], state)
    assert (state.status, state.refunded) == ("refunded", Decimal("9.99"))
    # a refunded return records no failure any more
    assert fail_refund(state, RETURN_ID, refund_id=R2, amount=Decimal("9.99")) == []
