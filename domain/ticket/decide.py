"""The Ticket's decisions: pure functions of the state, the command and ``now`` (the command's
time), returning the events; ``[]`` when the ticket is already where the command would take it.
Refusals are named errors: ``ticket_not_found`` (404), ``illegal_transition`` and
``ticket_not_active`` (409), ``reopen_window_closed``, ``order_not_found``,
``order_of_another_customer``, ``message_too_long``, ``message_empty`` and
``awaiting_customer_by_agent_only`` (422)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.ticket import events as ev
from domain.ticket.commands import (
    CloseTicket,
    OpenTicket,
    ReopenTicket,
    ReplyToTicket,
    ResolveTicket,
)
from domain.ticket.messages import Message, checked_text
from domain.ticket.sla import first_response_due
from domain.ticket.state import CLOSED, NEXT, OPEN, PENDING_CUSTOMER, RESOLVED, TicketState

REOPEN_WINDOW = timedelta(days=14)


def require_order_of(customer_id: UUID, order_id: UUID | None, order_owner: UUID | None) -> None:
    """An order named on a ticket or chat must exist (``order_owner``: the customer its first
    event names, None when there is no such order) and be the customer's own."""
    if order_id is None:
        return
    if order_owner is None:
        raise InvalidCommand(f"Order {order_id} does not exist.", code="order_not_found")
    if order_owner != customer_id:
        raise InvalidCommand(
            f"Order {order_id} is not an order of customer {customer_id}.",
            code="order_of_another_customer",
        )


def open_ticket(
    state: TicketState,
    c: OpenTicket,
    *,
    by: str,
    now: datetime,
    order_owner: UUID | None,
) -> list[DomainEvent]:
    if state.exists:
        raise Conflict("This ticket exists already.", code="ticket_exists")
    require_order_of(c.customer_id, c.order_id, order_owner)
    first = Message(author=by, role=c.role, text=checked_text(c.message), at=now)
    return [
        ev.TicketOpened(
            customer_id=c.customer_id,
            order_id=c.order_id,
            subject=c.subject,
            priority=c.priority,
            opened_by=by,
            opened_at=now,
            first_response_due=first_response_due(now, c.priority),
            messages=[first],
        )
    ]


def existing(state: TicketState, ticket_id: UUID) -> TicketState:
    if not state.exists:
        raise NotFound(f"Ticket {ticket_id} does not exist.", code="ticket_not_found")
    return state


def _move(state: TicketState, to: str) -> None:
    if to not in NEXT[state.status]:
        raise IllegalTransition("ticket", state.status, to)


def reply(state: TicketState, c: ReplyToTicket, *, by: str, now: datetime) -> list[DomainEvent]:
    """Messages go on an ``open`` or ``pending_customer`` ticket only. A customer's reply
    moves a ticket waiting for them back to ``open``; an agent's with ``awaiting_customer``
    moves an open one to ``pending_customer``."""
    existing(state, c.ticket_id)
    if state.status not in (OPEN, PENDING_CUSTOMER):
        raise Conflict(
            f"A {state.status} ticket takes no messages; reopen it first.",
            code="ticket_not_active",
            details={"status": state.status},
        )
    message = Message(author=by, role=c.role, text=checked_text(c.text), at=now)
    if c.role == "customer":
        if c.awaiting_customer:
            raise InvalidCommand(
                "Only an agent may set awaiting_customer.",
                code="awaiting_customer_by_agent_only",
            )
        return [ev.CustomerReplied(message=message)]
    return [ev.AgentReplied(message=message, awaiting_customer=c.awaiting_customer)]


def resolve(state: TicketState, c: ResolveTicket, *, by: str, now: datetime) -> list[DomainEvent]:
    if existing(state, c.ticket_id).status == RESOLVED:
        return []
    _move(state, RESOLVED)
    return [ev.TicketResolved(by=by, resolved_at=now)]


def reopen(state: TicketState, c: ReopenTicket, *, by: str, now: datetime) -> list[DomainEvent]:
    """Within ``REOPEN_WINDOW`` of its resolution (at the limit exactly, still); an open ticket
    stays as it is."""
    if existing(state, c.ticket_id).status == OPEN:
        return []
    if state.status != RESOLVED or state.resolved_at is None:  # a reply reopens the others
        raise IllegalTransition("ticket", state.status, "open (reopened)")
    if now - state.resolved_at > REOPEN_WINDOW:
        raise InvalidCommand(
            f"A ticket may be reopened within {REOPEN_WINDOW.days} days of its resolution.",
            code="reopen_window_closed",
            details={"resolved_at": state.resolved_at.isoformat()},
        )
    return [ev.TicketReopened(by=by)]


def close(state: TicketState, c: CloseTicket, *, by: str) -> list[DomainEvent]:
    if existing(state, c.ticket_id).status == CLOSED:
        return []
    _move(state, CLOSED)
    return [ev.TicketClosed(by=by)]
