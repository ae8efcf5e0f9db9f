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
