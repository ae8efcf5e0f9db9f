"""The Ticket's decision state and its evolution (the decisions are in ``decide``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.ticket import events as ev

OPEN, PENDING_CUSTOMER, RESOLVED, CLOSED = "open", "pending_customer", "resolved", "closed"
#: The allowed moves between statuses.
NEXT: dict[str, frozenset[str]] = {
    OPEN: frozenset({PENDING_CUSTOMER, RESOLVED}),
    PENDING_CUSTOMER: frozenset({OPEN}),
    RESOLVED: frozenset({CLOSED, OPEN}),
    CLOSED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class TicketState:
    exists: bool = False
    #: ``open``, ``pending_customer``, ``resolved`` or ``closed`` (terminal).
    status: str = OPEN
    customer_id: UUID | None = None
    resolved_at: datetime | None = None


def evolve(state: TicketState, event: DomainEvent) -> TicketState:
    match event:
        case ev.TicketOpened(customer_id=customer_id):
            return TicketState(exists=True, status=OPEN, customer_id=customer_id)
        case ev.AgentReplied(awaiting_customer=True):
            return replace(state, status=PENDING_CUSTOMER)
        case ev.CustomerReplied():
            return replace(state, status=OPEN)
        case ev.TicketResolved(resolved_at=at):
            return replace(state, status=RESOLVED, resolved_at=at)
        case ev.TicketReopened():
            return replace(state, status=OPEN, resolved_at=None)
        case ev.TicketClosed():
            return replace(state, status=CLOSED)
    return state


TICKET = AggregateType("ticket", TicketState, evolve, ev.TICKET_EVENTS)
