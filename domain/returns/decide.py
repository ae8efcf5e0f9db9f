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
from domain.returns.events import (
    ReturnCancelled,
    ReturnReceived,
    ReturnRefunded,
    ReturnRefundFailed,
    ReturnRejected,
)
from domain.returns.restock import RestockPart
from domain.returns.state import ReturnState


def require_return(state: ReturnState, return_id: UUID) -> ReturnState:
    if not state.exists:
        raise NotFound(f"Return {return_id} does not exist.", code="return_not_found")
    return state


def receive(
    state: ReturnState,
    return_id: UUID,
    *,
    restock: bool,
    location: str | None,
    restock_to: Sequence[RestockPart] = (),
):
    """Receive the parcel. Restocking needs ``location`` or, without one, ``restock_to``
    (where each unit shipped from); not restocking takes neither."""
    require_return(state, return_id)
    assert state.order_id is not None
    if state.status in ("received", "refunded"):
        return []
    if state.status != "requested":
        raise IllegalTransition("return", state.status, "received")
    if restock and not location and not restock_to:
        raise InvalidCommand("Restocking needs a location.", code="location_required")
    parts = list(restock_to) if restock and not location else []
    received = ReturnReceived(
        order_id=state.order_id, restock=restock, location=location, restock_to=parts
    )
    return [received]


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


def reject(state: ReturnState, return_id: UUID, *, note: str | None):
    require_return(state, return_id)
    assert state.order_id is not None
    if state.status == "rejected":
        return []
    if state.status != "requested":
        raise Conflict(f"The return is already {state.status}.", code="return_already_received")
    return [ReturnRejected(order_id=state.order_id, note=note)]


def cancel(state: ReturnState, return_id: UUID, *, note: str | None):
    """CancelReturn: only while ``requested``; a repeat writes nothing."""
    require_return(state, return_id)
    assert state.order_id is not None
    if state.status == "cancelled":
        return []
    if state.status != "requested":
        raise IllegalTransition("return", state.status, "cancelled")
    return [ReturnCancelled(order_id=state.order_id, note=note)]
