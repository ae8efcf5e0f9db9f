"""Commands of the Ticket aggregate. ``role`` is the sender's role (``customer`` or ``agent``),
which the route takes from the caller's token, never from the body."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command
from domain.ticket.messages import MAX_MESSAGE_CHARS, Role
from domain.ticket.sla import Priority

Subject = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[
    str,
    Field(
        description=f"At most {MAX_MESSAGE_CHARS} characters, not blank "
        "(else 422 message_too_long or message_empty)."
    ),
]


class OpenTicket(Command):
    customer_id: UUID
    order_id: UUID | None = Field(None, description="The customer's own order, if about one.")
    subject: Subject
    message: Text
    priority: Priority = "normal"
    role: Role = "customer"


class ReplyToTicket(Command):
    """A message on the ticket: an agent's reply (``awaiting_customer``: the ticket waits for
    the customer, ``pending_customer``) or the customer's (back to ``open``)."""

    ticket_id: UUID
    text: Text
    awaiting_customer: bool = False
    role: Role = "customer"


class ResolveTicket(Command):
    ticket_id: UUID


class ReopenTicket(Command):
    ticket_id: UUID


class CloseTicket(Command):
    ticket_id: UUID
