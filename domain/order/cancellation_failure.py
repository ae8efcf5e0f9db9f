"""Order decisions for an approved cancellation whose money could not be unwound:
FailCancellation records ``CancellationFailed`` (``approved → failed``), and approving the
failed request again retries it (``CancellationRetried``: ``failed → approved``, then
``completed`` or ``failed`` once more). The other cancellation decisions live in
``domain.order.fulfillment``.

Each returns the events to append to the order's stream; an empty list means "already done,
write nothing"."""

from __future__ import annotations

from uuid import UUID

from domain.errors import Conflict
from domain.events import DomainEvent
from domain.order.decide import require_order
from domain.order.events import CancellationFailed, CancellationRetried
from domain.order.fulfillment import fully_shipped, require_request
from domain.order.fulfillment_commands import FailCancellation, ReviewCancellation
from domain.order.state import OrderState


def fail_cancellation(state: OrderState, c: FailCancellation) -> list[DomainEvent]:
    """``CancellationFailed`` once per attempt: only while the request is ``approved``."""
    require_order(state, c.order_id)
    r = state.cancellation
    if r is None or r.request_id != c.request_id or r.status != "approved":
        return []
    return [
        CancellationFailed(
            request_id=c.request_id, operation=c.operation, reason=c.reason, attempts=c.attempts
        )
    ]


def retry_cancellation(
    state: OrderState, c: ReviewCancellation, order_id: UUID, actor: str
) -> list[DomainEvent]:
    """A ``failed`` request approved again goes back to ``approved`` for another attempt."""
    request_id = c.request_id
    require_request(state, order_id, request_id, "failed")
    assert state.cancellation is not None
    if fully_shipped(state):
        raise Conflict("Everything has shipped since; use a return.", code="use_a_return")
    return [
        CancellationRetried(
            request_id=request_id,
            attempt=state.cancellation.attempt + 1,
            note=c.note,
            retried_by=actor,
        )
    ]
