"""The Chat's decision state (its messages, for the transcript) and its evolution."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from domain.aggregate import AggregateType
from domain.chat import events as ev
from domain.events import DomainEvent
from domain.ticket.messages import Message


@dataclass(frozen=True, slots=True)
class ChatState:
    exists: bool = False
    customer_id: UUID | None = None
    order_id: UUID | None = None
    messages: tuple[Message, ...] = ()
    #: The ticket it was escalated to, once it was.
    ticket_id: UUID | None = None


def evolve(state: ChatState, event: DomainEvent) -> ChatState:
    match event:
        case ev.ChatStarted(customer_id=customer_id, order_id=order_id):
            return ChatState(exists=True, customer_id=customer_id, order_id=order_id)
        case ev.ChatMessagePosted(message=message):
            return replace(state, messages=(*state.messages, message))
        case ev.ChatEscalated(ticket_id=ticket_id):
            return replace(state, ticket_id=ticket_id)
    return state


CHAT = AggregateType("chat", ChatState, evolve, ev.CHAT_EVENTS)
