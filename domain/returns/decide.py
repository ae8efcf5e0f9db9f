"""Return decisions: receive, refund (or record a failed refund), reject and cancel.

``requested → received → refunded``, or ``rejected`` or ``cancelled`` (by the customer, while
still requested). Receipt may restock into a location; the refund is received units × (unit
price − discount + tax). A refund the gateway declines or keeps failing is recorded
(``ReturnRefundFailed``) and the return stays ``received``: receiving it again asks for a new
refund. The 30-day return window lives in ``domain.returns.window``."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.returns.commands import CancelReturn, ReceiveReturn, RejectReturn
from domain.returns.events import (
    ReturnCancelled,
    ReturnReceived,
    ReturnRefunded,
    ReturnRefundFailed,
    ReturnRefundRetried,
    ReturnRejected,
)
from domain.returns.restock import RestockPart
from domain.returns.state import ReturnState


def require_return(state: ReturnState, return_id: UUID) -> ReturnState:
    if not state.exists:
        raise NotFound(f"Return {return_id} does not exist.", code="return_not_found")
    return state


def receive(
    state: ReturnState, c: ReceiveReturn, restock_to: Sequence[RestockPart] = ()
) -> list[DomainEvent]:
    """Receive the parcel (``ReturnReceived``: the returns manager restocks, records the lines
    returned and refunds). Restocking needs ``c.location`` or, without one, ``restock_to``
    (where each unit shipped from); not restocking takes neither. Received again after its
    refund failed: ask for the refund again (``retry_refund``); otherwise a repeat writes
    nothing."""
    require_return(state, c.return_id)
    assert state.order_id is not None
    if state.status == "received":
        return retry_refund(state, c.return_id)
    if state.status == "refunded":
        return []
    if state.status != "requested":
        raise IllegalTransition("return", state.status, "received")
    if c.restock and not c.location and not restock_to:
        raise InvalidCommand("Restocking needs a location.", code="location_required")
    parts = list(restock_to) if c.restock and not c.location else []
    received = ReturnReceived(
        order_id=state.order_id, restock=c.restock, location=c.location, restock_to=parts
    )
    return [received]


def retry_refund(state: ReturnState, return_id: UUID) -> list[DomainEvent]:
    """A received return whose last refund failed asks for the next one
    (``ReturnRefundRetried``); while a refund is pending, or once refunded, nothing."""
    require_return(state, return_id)
    assert state.order_id is not None
    if state.status != "received" or state.refund_pending:
        return []
    return [ReturnRefundRetried(order_id=state.order_id, attempt=state.refund_attempt)]


def mark_refunded(state: ReturnState, return_id: UUID, *, refund_id: UUID, amount: Decimal):
    require_return(state, return_id)
    assert state.order_id is not None
    if state.status == "refunded":
        return []
    if state.status != "received":
        raise IllegalTransition("return", state.status, "refunded")
    return [ReturnRefunded(order_id=state.order_id, refund_id=refund_id, amount=amount)]


def fail_refund(state: ReturnState, return_id: UUID, *, refund_id: UUID, amount: Decimal):
    """The refund failed: recorded once, the return stays ``received``."""
    require_return(state, return_id)
    assert state.order_id is not None
    if state.status != "received" or refund_id in state.failed_refunds:
        return []
    return [ReturnRefundFailed(order_id=state.order_id, refund_id=refund_id, amount=amount)]


def reject(state: ReturnState, c: RejectReturn) -> list[DomainEvent]:
    require_return(state, c.return_id)
    assert state.order_id is not None
    if state.status == "rejected":
        return []
    if state.status != "requested":
        raise Conflict(f"The return is already {state.status}.", code="return_already_received")
    return [ReturnRejected(order_id=state.order_id, note=c.note)]


def cancel(state: ReturnState, c: CancelReturn) -> list[DomainEvent]:
    """CancelReturn: only while ``requested``; a repeat writes nothing."""
    require_return(state, c.return_id)
    assert state.order_id is not None
    if state.status == "cancelled":
        return []
    if state.status != "requested":
        raise IllegalTransition("return", state.status, "cancelled")
    return [ReturnCancelled(order_id=state.order_id, note=c.note)]
