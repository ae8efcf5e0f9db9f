"""The Chat's decisions, pure: start, post a message, escalate to a ticket. Refusals:
``chat_not_found`` (404), ``chat_escalated`` and ``chat_full`` (409), ``chat_empty``,
``order_not_found``, ``order_of_another_customer``, ``message_too_long`` and
``message_empty`` (422)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.chat import events as ev
from domain.chat.commands import EscalateChat, PostChatMessage, StartChat
from domain.chat.state import ChatState
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.ticket.decide import require_order_of
from domain.ticket.events import TicketOpened
from domain.ticket.messages import Message, checked_text
from domain.ticket.sla import first_response_due

#: A chat longer than this goes on as a ticket (and its transcript stays one event's worth).
MAX_CHAT_MESSAGES = 200
SUBJECT_CHARS = 80


def start_chat(
    state: ChatState, c: StartChat, *, by: str, now: datetime, order_owner: UUID | None
) -> list[DomainEvent]:
    if state.exists:
        raise Conflict("This chat exists already.", code="chat_exists")
    require_order_of(c.customer_id, c.order_id, order_owner)
    return [ev.ChatStarted(customer_id=c.customer_id, order_id=c.order_id, started_by=by,
                           started_at=now)]  # fmt: skip


def existing(state: ChatState, chat_id: UUID) -> ChatState:
    if not state.exists:
        raise NotFound(f"Chat {chat_id} does not exist.", code="chat_not_found")
    return state


def post(state: ChatState, c: PostChatMessage, *, by: str, now: datetime) -> list[DomainEvent]:
    """A message on a chat not yet escalated (after that, the ticket carries on) and not full."""
    existing(state, c.chat_id)
    if state.ticket_id is not None:
        raise Conflict(
            f"This chat was escalated to ticket {state.ticket_id}; write there.",
            code="chat_escalated",
            details={"ticket_id": str(state.ticket_id)},
        )
    if len(state.messages) >= MAX_CHAT_MESSAGES:
        raise Conflict(
            f"A chat holds at most {MAX_CHAT_MESSAGES} messages; escalate it to a ticket.",
            code="chat_full",
        )
    return [ev.ChatMessagePosted(message=Message(author=by, role=c.role,
                                                 text=checked_text(c.text), at=now))]  # fmt: skip


def escalate(
    state: ChatState, c: EscalateChat, *, ticket_id: UUID, by: str, now: datetime
) -> tuple[list[DomainEvent], TicketOpened | None]:
    """The chat's event and the new ticket's first (its transcript: every message of the chat,
    with its author, role and time); ``([], None)`` if it was escalated already (the answer
    names ``state.ticket_id``)."""
    existing(state, c.chat_id)
    if state.ticket_id is not None:
        return [], None
    if not state.messages:
        raise InvalidCommand("A chat without messages has nothing to escalate.", code="chat_empty")
    assert state.customer_id is not None
    subject = c.subject or _subject_of(state.messages[0].text)
    opened = TicketOpened(
        customer_id=state.customer_id,
        order_id=state.order_id,
        subject=subject,
        priority=c.priority,
        opened_by=by,
        opened_at=now,
        first_response_due=first_response_due(now, c.priority),
        messages=list(state.messages),
        chat_id=c.chat_id,
    )
    return [ev.ChatEscalated(ticket_id=ticket_id, by=by)], opened


def _subject_of(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SUBJECT_CHARS else line[: SUBJECT_CHARS - 1] + "…"
