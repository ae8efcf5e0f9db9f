"""Events of the Return aggregate (stream type ``return``, one stream per return)."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

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


class ReturnRefundRetried(ReturnEvent):
    """Asked to refund again after ``attempt`` refunds failed: the returns manager asks for
    refund number ``attempt`` (its own refund id)."""

    order_id: UUID
    attempt: int


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
    ReturnRefundRetried,
)
