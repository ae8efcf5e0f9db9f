"""Order decisions and state for a cancellation whose money could not be unwound,
given / when / then: FailCancellation makes an approved request ``failed`` once per
attempt; approving it again retries it (``failed → approved``, then ``completed``); the order
itself is left as it was."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.errors import Conflict
from domain.order import cancellation_failure as failure
from domain.order import fulfillment as order_decide
from domain.order.events import (
    CancellationCompleted,
    CancellationFailed,
    CancellationRequested,
    CancellationRetried,
    CancellationReviewed,
)
from domain.order.fulfillment_commands import (
    CompleteCancellation,
    FailCancellation,
    RequestCancellation,
    ReviewCancellation,
)
from tests.unit.test_fulfillment_decisions import confirmed_order
from tests.unit.test_order_placement import ORDER_ID, given

REQUEST, OTHER = UUID(int=21), UUID(int=22)


def approved_again(request_id, note=None):  # noqa: ANN001, ANN201
    """Approving the request again."""
    return ReviewCancellation(request_id=request_id, approve=True, note=note)


def approved():
    events, _line = confirmed_order()
    return [
        *events,
        CancellationRequested(request_id=REQUEST, reason="customer_request", requested_by="c"),
        CancellationReviewed(request_id=REQUEST, decision="approved", reviewed_by="m"),
    ]


def fail(state, request_id=REQUEST):  # noqa: ANN001
    return failure.fail_cancellation(
        state,
        FailCancellation(
            order_id=ORDER_ID, request_id=request_id, operation="void",
            reason="gateway_unavailable", attempts=4,
        ),
    )  # fmt: skip


def failed():
    return [*approved(), CancellationFailed(request_id=REQUEST, operation="void",
                                            reason="gateway_unavailable", attempts=4)]  # fmt: skip


def test_an_approved_request_whose_void_keeps_failing_ends_failed_and_the_order_is_untouched():
    # given an approved cancellation request on a confirmed order
    state = given(*approved())
    # when the payment cannot be unwound
    [event] = fail(state)
    # then the request is failed; the order is still confirmed, its stock still reserved
    assert isinstance(event, CancellationFailed) and event.operation == "void"
    after = given(*approved(), event)
    assert after.cancellation is not None and after.cancellation.status == "failed"
    assert after.status == "confirmed" and not after.cancelled
    assert [ln.reserved for ln in after.lines] == [3]
    assert after.open_cancellation is None


def test_a_failure_is_recorded_once_per_attempt():
    # given a request already failed
    state = given(*failed())
    # when the failure is reported again (a repeat of the same attempt)
    # then nothing more is written
    assert fail(state) == []
    # nor for a request that is not the order's one, or not approved
    assert fail(given(*approved()), OTHER) == []
    assert fail(given(*approved()[:-1])) == []


def test_approving_a_failed_request_again_retries_it_then_it_can_complete():
    # given a failed request
    state = given(*failed())
    # when it is approved again
    [retried] = failure.retry_cancellation(state, approved_again(REQUEST, "gw back"), ORDER_ID, "m")
    # then it is approved again, as its first retry
    assert isinstance(retried, CancellationRetried) and retried.attempt == 1
    state = given(*failed(), retried)
    assert state.cancellation.status == "approved" and state.cancellation.attempt == 1
    # and it can complete (failed → completed, retried)
    [done] = order_decide.complete_cancellation(
        state, CompleteCancellation(order_id=ORDER_ID, request_id=REQUEST)
    )
    assert isinstance(done, CancellationCompleted)
    assert given(*failed(), retried, done).cancellation.status == "completed"


def test_a_retry_that_fails_again_is_failed_with_its_attempt_counted():
    retried = CancellationRetried(request_id=REQUEST, attempt=1, retried_by="m")
    state = given(*failed(), retried)
    [again] = fail(state)
    state = given(*failed(), retried, again)
    assert (state.cancellation.status, state.cancellation.attempt) == ("failed", 1)
    [second] = failure.retry_cancellation(state, approved_again(REQUEST), ORDER_ID, "m")
    assert second.attempt == 2


@pytest.mark.parametrize("events", [approved, lambda: approved()[:-1]])
def test_only_a_failed_request_can_be_retried(events):  # noqa: ANN001
    with pytest.raises(Conflict) as err:
        failure.retry_cancellation(given(*events()), approved_again(REQUEST), ORDER_ID, "m")
    assert err.value.code == "cancellation_already_reviewed"
    with pytest.raises(Conflict) as err:
        failure.retry_cancellation(given(*failed()), approved_again(OTHER), ORDER_ID, "m")
    assert err.value.code == "request_superseded"


def test_a_failed_request_no_longer_blocks_a_new_request():
    # given a failed request, then a new request is filed
    state = given(*failed())
    [event] = order_decide.request_cancellation(
        state, RequestCancellation(order_id=ORDER_ID, reason="other"), OTHER, "c"
    )
    assert isinstance(event, CancellationRequested)
