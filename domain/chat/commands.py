"""Commands of the Chat aggregate (``role`` comes from the caller's token, not the body)."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from domain.command import Command
from domain.ticket.commands import Subject, Text
from domain.ticket.messages import Role
from domain.ticket.sla import Priority


class StartChat(Command):
    customer_id: UUID
    order_id: UUID | None = Field(None, description="The customer's own order, if about one.")


class PostChatMessage(Command):
    chat_id: UUID
    text: Text
    role: Role = "customer"


class EscalateChat(Command):
    """Open a ticket carrying the chat's transcript (once: a repeat names the same ticket)."""

    chat_id: UUID
    subject: Subject | None = Field(None, description="Default: the chat's first message.")
    priority: Priority = "normal"
