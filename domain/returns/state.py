"""Return decision state and its evolution; decisions are in ``decide``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from uuid import UUID

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.order.values import LineQuantity
from domain.returns.events import (
    RETURN_EVENTS,
    ReturnCancelled,
    ReturnReceived,
    ReturnRefunded,
    ReturnRefundFailed,
    ReturnRefundRetried,
    ReturnRejected,
    ReturnRequested,
)
from domain.returns.restock import RestockPart


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
    refund_requests: int = 0  # refunds asked for: the receipt's, then one per retry

    @property
    def refund_attempt(self) -> int:
        """How many refunds failed before: the next attempt's number (0 for the first)."""
        return len(self.failed_refunds)

    @property
    def refund_pending(self) -> bool:
        """Received, and the refund last asked for has not failed yet: the returns manager
        is (or will be) on it."""
        return self.status == "received" and self.refund_attempt < self.refund_requests

    @property
    def refund(self) -> str | None:
        """How the refund goes: ``pending``, ``failed`` (a retry may be asked),
        ``succeeded``, ``none`` (nothing to refund); None before receipt."""
        if self.status == "refunded":
            return "succeeded" if self.refunded > 0 else "none"
        if self.status != "received":
            return None
        return "pending" if self.refund_pending else "failed"


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
                refund_requests=1,
            )
        case ReturnRefunded():
            return replace(state, status="refunded", refunded=event.amount)
        case ReturnRefundFailed():
            return replace(state, failed_refunds=(*state.failed_refunds, event.refund_id))
        case ReturnRefundRetried():
            return replace(state, refund_requests=event.attempt + 1)
        case ReturnRejected():
            return replace(state, status="rejected")
        case ReturnCancelled():
            return replace(state, status="cancelled")
    return state


RETURN = AggregateType("return", ReturnState, evolve, RETURN_EVENTS)
