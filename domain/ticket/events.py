"""Events of the Ticket aggregate (stream type ``ticket``, one stream per ticket). Each says who
decided it (``by``: the principal's id) and carries the times the decisions need later."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from domain.events import DomainEvent
from domain.ticket.messages import Message
from domain.ticket.sla import Priority


class TicketEvent(DomainEvent):
    stream_type: ClassVar[str] = "ticket"


class TicketOpened(TicketEvent):
    """Opened for ``customer_id`` (about ``order_id``, the customer's own), with its first
    message, or a chat's transcript (``chat_id``) when a chat was escalated."""

    customer_id: UUID
    order_id: UUID | None = None
    subject: str
    priority: Priority
    opened_by: str
    opened_at: datetime
    first_response_due: datetime
    messages: list[Message]
    chat_id: UUID | None = None


class AgentReplied(TicketEvent):
    """An agent's reply; ``awaiting_customer``: the ticket now waits for the customer."""

    message: Message
    awaiting_customer: bool = False


class CustomerReplied(TicketEvent):
    message: Message


class TicketResolved(TicketEvent):
    by: str
    resolved_at: datetime


class TicketReopened(TicketEvent):
    by: str


class TicketClosed(TicketEvent):
    by: str


TICKET_EVENTS = (
    TicketOpened,
    AgentReplied,
    CustomerReplied,
    TicketResolved,
    TicketReopened,
    TicketClosed,
)
