"""Return: delivered units sent back (one stream per return).

``requested → received → refunded``, or ``rejected`` or ``cancelled`` (by the customer, while
still requested). Receipt may restock into a location; the refund is received units × (unit
price − discount + tax). A refund the gateway declines or keeps failing is recorded
(``ReturnRefundFailed``) and the return stays ``received``: receiving it again asks for a new
refund. The 30-day return window lives in ``domain.returns.window``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from domain.aggregate import AggregateType
from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.money import Amount
from domain.order.values import LineQuantity
from domain.returns.restock import RestockPart


class ReturnEvent(DomainEvent):
    stream_type: ClassVar[str] = "return"


class ReturnRequested(ReturnEvent):
    order_id: UUID
    lines: list[LineQuantity]
    reason: str


class ReturnReceived(ReturnEvent):
    """Received; restocked into ``location`` if one was named, else each unit back where it
    shipped from, as ``restock_to`` says (decided at receipt, ``domain.returns.restock``)."""

    order_id: UUID
    restock: bool
    location: str | None = None
    restock_to: list[RestockPart] = []


class ReturnRefunded(ReturnEvent):
    order_id: UUID
    refund_id: UUID
    amount: Amount


class ReturnRefundFailed(ReturnEvent):
    """The refund ``refund_id`` failed (``RefundFailed`` on the payment): the return stays
    ``received`` and a later attempt asks for a new refund."""

    order_id: UUID
    refund_id: UUID
    amount: Amount


class ReturnRejected(ReturnEvent):
    order_id: UUID
    note: str | None = None


class ReturnCancelled(ReturnEvent):
    order_id: UUID
    note: str | None = None


RETURN_EVENTS = (
    ReturnRequested,
    ReturnReceived,
    ReturnRefunded,
    ReturnRejected,
    ReturnCancelled,
    ReturnRefundFailed,
)


@dataclass(frozen=True, slots=True)
class ReturnState:
    exists: bool = False
    order_id: UUID | None = None
    lines: tuple[LineQuantity, ...] = ()
    status: str = "requested"
    restock: bool = False
    location: str | None = None
    restock_to: tuple[RestockPart, ...] = ()  # without a location: where each unit goes
    refunded: Decimal = Decimal("0")
    failed_refunds: tuple[UUID, ...] = ()  # refunds that failed, in order

    @property
    def refund_attempt(self) -> int:
        """How many refunds failed before: the next attempt's number (0 for the first)."""
        return len(self.failed_refunds)


def evolve(state: ReturnState, event: DomainEvent) -> ReturnState:
    match event:
        case ReturnRequested():
            return ReturnState(True, event.order_id, tuple(event.lines))
        case ReturnReceived():
            return replace(
                state,
                status="received",
                restock=event.restock,
                location=event.location,
                restock_to=tuple(event.restock_to),
            )
        case ReturnRefunded():
            return replace(state, status="refunded", refunded=event.amount)
        case ReturnRefundFailed():
            return replace(state, failed_refunds=(*state.failed_refunds, event.refund_id))
        case ReturnRejected():
            return replace(state, status="rejected")
        case ReturnCancelled():
            return replace(state, status="cancelled")
    return state


RETURN = AggregateType("return", ReturnState, evolve, RETURN_EVENTS)


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
