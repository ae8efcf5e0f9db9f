"""Events of the Chat aggregate (stream type ``chat``, one stream per chat; a message's
sequence number is its event's stream version)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from domain.events import DomainEvent
from domain.ticket.messages import Message


class ChatEvent(DomainEvent):
    stream_type: ClassVar[str] = "chat"


class ChatStarted(ChatEvent):
    customer_id: UUID
    order_id: UUID | None = None
    started_by: str
    started_at: datetime


class ChatMessagePosted(ChatEvent):
    message: Message


class ChatEscalated(ChatEvent):
    """Escalated to ``ticket_id`` (opened in the same transaction with the transcript)."""

    ticket_id: UUID
    by: str


CHAT_EVENTS = (ChatStarted, ChatMessagePosted, ChatEscalated)
