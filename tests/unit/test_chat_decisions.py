"""The Chat aggregate's decisions, no database: start, post and escalate, given its events and
a time; escalation's ticket carries the transcript, and a second escalation writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.chat import decide
from domain.chat import events as ev
from domain.chat.commands import EscalateChat, PostChatMessage, StartChat
from domain.chat.decide import MAX_CHAT_MESSAGES
from domain.chat.state import CHAT
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.ticket.messages import MAX_MESSAGE_CHARS, Message

ANN = UUID("7d0f3f5e-0c1a-4a8e-9a43-1b2b3c4d5e6f")
ORDER = UUID("1b6c1a8e-3d5f-4c4e-9f0a-2a1b3c4d5e61")
CHAT_ID = UUID("3b6c1a8e-3d5f-4c4e-9f0a-2a1b3c4d5e63")
TICKET_ID = UUID("4b6c1a8e-3d5f-4c4e-9f0a-2a1b3c4d5e64")
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
STARTED = ev.ChatStarted(customer_id=ANN, order_id=ORDER, started_by=str(ANN), started_at=NOW)
HELLO = Message(author=str(ANN), role="customer", text="My parcel is late", at=NOW)
ANSWER = Message(author="agent-1", role="agent", text="Let me look", at=NOW + timedelta(minutes=1))


def given(*events):
    return CHAT.fold(events)


def refused(kind, code, decision, *args, **kwargs):
    with pytest.raises(kind) as caught:
        decision(*args, **kwargs)
    assert caught.value.code == code


def post(text="hi", role="customer"):
    return PostChatMessage(chat_id=CHAT_ID, text=text, role=role)


def test_a_chat_starts_for_the_customers_own_order_only():
    (started,) = decide.start_chat(given(), StartChat(customer_id=ANN, order_id=ORDER),
                                   by=str(ANN), now=NOW, order_owner=ANN)  # fmt: skip
    assert started == STARTED
    other = UUID(int=1)
    refused(InvalidCommand, "order_of_another_customer", decide.start_chat, given(),
            StartChat(customer_id=ANN, order_id=ORDER), by="x", now=NOW,
            order_owner=other)  # fmt: skip
    refused(InvalidCommand, "order_not_found", decide.start_chat, given(),
            StartChat(customer_id=ANN, order_id=ORDER), by="x", now=NOW,
            order_owner=None)  # fmt: skip
    refused(Conflict, "chat_exists", decide.start_chat, given(STARTED),
            StartChat(customer_id=ANN), by="x", now=NOW, order_owner=None)  # fmt: skip


def test_a_message_is_stamped_with_its_author_role_and_time():
    (posted,) = decide.post(given(STARTED), post("Let me look", "agent"), by="agent-1",
                            now=ANSWER.at)  # fmt: skip
    assert posted == ev.ChatMessagePosted(message=ANSWER)


def test_bad_messages_are_refused():
    refused(NotFound, "chat_not_found", decide.post, given(), post(), by="x", now=NOW)
    refused(InvalidCommand, "message_too_long", decide.post, given(STARTED),
            post("z" * (MAX_MESSAGE_CHARS + 1)), by="x", now=NOW)  # fmt: skip
    refused(InvalidCommand, "message_empty", decide.post, given(STARTED), post("   "), by="x",
            now=NOW)  # fmt: skip


def test_a_full_chat_takes_no_more():
    full = given(STARTED, *[ev.ChatMessagePosted(message=HELLO)] * MAX_CHAT_MESSAGES)
    refused(Conflict, "chat_full", decide.post, full, post(), by="x", now=NOW)


def test_escalation_opens_a_ticket_carrying_the_transcript():
    said = [ev.ChatMessagePosted(message=m) for m in (HELLO, ANSWER)]
    state = given(STARTED, *said)
    later = NOW + timedelta(hours=1)
    events, opened = decide.escalate(state, EscalateChat(chat_id=CHAT_ID, priority="urgent"),
                                     ticket_id=TICKET_ID, by="agent-1", now=later)  # fmt: skip
    assert events == [ev.ChatEscalated(ticket_id=TICKET_ID, by="agent-1")]
    assert opened is not None
    assert opened.messages == [HELLO, ANSWER]  # each with its own author, role and time
    assert (opened.customer_id, opened.order_id, opened.chat_id) == (ANN, ORDER, CHAT_ID)
    assert opened.subject == "My parcel is late" and opened.priority == "urgent"
    assert opened.opened_at == later and opened.first_response_due == later + timedelta(hours=1)


def test_escalating_again_writes_nothing_and_messages_go_to_the_ticket():
    state = given(STARTED, ev.ChatMessagePosted(message=HELLO),
                  ev.ChatEscalated(ticket_id=TICKET_ID, by="x"))  # fmt: skip
    assert decide.escalate(state, EscalateChat(chat_id=CHAT_ID), ticket_id=TICKET_ID, by="x",
                           now=NOW) == ([], None)  # fmt: skip
    assert state.ticket_id == TICKET_ID
    refused(Conflict, "chat_escalated", decide.post, state, post(), by="x", now=NOW)


def test_an_empty_or_unknown_chat_cannot_be_escalated():
    refused(InvalidCommand, "chat_empty", decide.escalate, given(STARTED),
            EscalateChat(chat_id=CHAT_ID), ticket_id=TICKET_ID, by="x", now=NOW)  # fmt: skip
    refused(NotFound, "chat_not_found", decide.escalate, given(), EscalateChat(chat_id=CHAT_ID),
            ticket_id=TICKET_ID, by="x", now=NOW)  # fmt: skip


def test_a_long_first_message_makes_a_short_subject():
    long = Message(author="x", role="customer", text="word " * 100, at=NOW)
    state = given(STARTED, ev.ChatMessagePosted(message=long))
    _, opened = decide.escalate(state, EscalateChat(chat_id=CHAT_ID), ticket_id=TICKET_ID,
                                by="x", now=NOW)  # fmt: skip
    assert opened is not None and len(opened.subject) == 80 and opened.subject.endswith("…")
