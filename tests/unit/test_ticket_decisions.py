"""The Ticket aggregate's decisions, no database: given its events, when a command is decided
at a given time, then these events or this error (with its code); grouped by the ticket's
status. Then a hypothesis walk: whatever is sent, the status only ever moves as the table
allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given as given_examples
from hypothesis import settings
from hypothesis import strategies as st

from domain.errors import Conflict, DomainError, IllegalTransition, InvalidCommand, NotFound
from domain.ticket import decide
from domain.ticket import events as ev
from domain.ticket.commands import (
    CloseTicket,
    OpenTicket,
    ReopenTicket,
    ReplyToTicket,
    ResolveTicket,
)
from domain.ticket.messages import MAX_MESSAGE_CHARS, Message
from domain.ticket.state import NEXT, TICKET

ANN = UUID("7d0f3f5e-0c1a-4a8e-9a43-1b2b3c4d5e6f")
BOB = UUID("8d0f3f5e-0c1a-4a8e-9a43-1b2b3c4d5e6f")
ORDER = UUID("1b6c1a8e-3d5f-4c4e-9f0a-2a1b3c4d5e61")
TICKET_ID = UUID("2b6c1a8e-3d5f-4c4e-9f0a-2a1b3c4d5e62")
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
AGENT = "agent-1"
FIRST = Message(author=str(ANN), role="customer", text="Where is my parcel?", at=NOW)
OPENED = ev.TicketOpened(
    customer_id=ANN, subject="Parcel", priority="high", opened_by=str(ANN), opened_at=NOW,
    first_response_due=NOW + timedelta(hours=4), messages=[FIRST],
)  # fmt: skip
ASKED = ev.AgentReplied(
    message=Message(author=AGENT, role="agent", text="Order number?", at=NOW),
    awaiting_customer=True,
)
RESOLVED = ev.TicketResolved(by=AGENT, resolved_at=NOW)
CLOSED = ev.TicketClosed(by=AGENT)


def given(*events):
    return TICKET.fold(events)


def refused(kind, code, decision, *args, **kwargs):
    with pytest.raises(kind) as caught:
        decision(*args, **kwargs)
    assert caught.value.code == code
    return caught.value


def open_with(**fields):
    body = {"customer_id": ANN, "subject": "Parcel", "message": "Where is it?"} | fields
    return OpenTicket(**body)


def reply(role="customer", text="thanks", awaiting=False):
    return ReplyToTicket(ticket_id=TICKET_ID, text=text, role=role, awaiting_customer=awaiting)


# ---- opening ---------------------------------------------------------------------------


def test_opening_records_the_first_message_and_the_due_time_of_its_priority():
    (opened,) = decide.open_ticket(
        given(), open_with(priority="urgent", order_id=ORDER), by=str(ANN), now=NOW,
        order_owner=ANN,
    )  # fmt: skip
    assert opened.priority == "urgent" and opened.order_id == ORDER
    assert opened.opened_at == NOW and opened.first_response_due == NOW + timedelta(hours=1)
    assert opened.messages == [Message(author=str(ANN), role="customer", text="Where is it?",
                                       at=NOW)]  # fmt: skip
    assert given(opened).status == "open"


def test_the_priority_is_normal_unless_given():
    (opened,) = decide.open_ticket(given(), open_with(), by="x", now=NOW, order_owner=None)
    assert opened.priority == "normal" and opened.first_response_due == NOW + timedelta(hours=24)


def test_an_unknown_order_and_another_customers_order_are_refused():
    refused(InvalidCommand, "order_not_found", decide.open_ticket, given(),
            open_with(order_id=ORDER), by="x", now=NOW, order_owner=None)  # fmt: skip
    refused(InvalidCommand, "order_of_another_customer", decide.open_ticket, given(),
            open_with(order_id=ORDER), by="x", now=NOW, order_owner=BOB)  # fmt: skip


def test_an_oversized_or_blank_first_message_is_refused():
    too_long = "x" * (MAX_MESSAGE_CHARS + 1)
    error = refused(InvalidCommand, "message_too_long", decide.open_ticket, given(),
                    open_with(message=too_long), by="x", now=NOW, order_owner=None)  # fmt: skip
    assert error.details == {"limit": MAX_MESSAGE_CHARS, "length": MAX_MESSAGE_CHARS + 1}
    refused(InvalidCommand, "message_empty", decide.open_ticket, given(),
            open_with(message=" \n "), by="x", now=NOW, order_owner=None)  # fmt: skip
    assert decide.open_ticket(given(), open_with(message="x" * MAX_MESSAGE_CHARS), by="x",
                              now=NOW, order_owner=None)  # fmt: skip


def test_a_ticket_is_opened_once():
    refused(Conflict, "ticket_exists", decide.open_ticket, given(OPENED), open_with(), by="x",
            now=NOW, order_owner=None)  # fmt: skip


def test_every_command_on_an_unknown_ticket_is_not_found():
    state = given()
    refused(NotFound, "ticket_not_found", decide.reply, state, reply(), by="x", now=NOW)
    refused(NotFound, "ticket_not_found", decide.resolve, state,
            ResolveTicket(ticket_id=TICKET_ID), by="x", now=NOW)  # fmt: skip
    refused(NotFound, "ticket_not_found", decide.reopen, state,
            ReopenTicket(ticket_id=TICKET_ID), by="x", now=NOW)  # fmt: skip
    refused(NotFound, "ticket_not_found", decide.close, state, CloseTicket(ticket_id=TICKET_ID),
            by="x")  # fmt: skip


# ---- open ------------------------------------------------------------------------------


def test_an_agents_reply_awaiting_the_customer_moves_it_to_pending_customer():
    (asked,) = decide.reply(given(OPENED), reply("agent", "Order number?", True), by=AGENT,
                            now=NOW)  # fmt: skip
    assert asked == ASKED
    assert given(OPENED, asked).status == "pending_customer"


def test_an_agents_reply_without_waiting_leaves_it_open():
    (replied,) = decide.reply(given(OPENED), reply("agent", "Looking"), by=AGENT, now=NOW)
    assert isinstance(replied, ev.AgentReplied) and not replied.awaiting_customer
    assert given(OPENED, replied).status == "open"


def test_a_customer_may_not_set_awaiting_customer():
    refused(InvalidCommand, "awaiting_customer_by_agent_only", decide.reply, given(OPENED),
            reply("customer", "hi", True), by=str(ANN), now=NOW)  # fmt: skip


def test_an_oversized_reply_is_refused():
    refused(InvalidCommand, "message_too_long", decide.reply, given(OPENED),
            reply(text="y" * (MAX_MESSAGE_CHARS + 1)), by=str(ANN), now=NOW)  # fmt: skip


def test_an_open_ticket_is_resolved_with_its_time_and_resolving_again_changes_nothing():
    (resolved,) = decide.resolve(given(OPENED), ResolveTicket(ticket_id=TICKET_ID), by=AGENT,
                                 now=NOW)  # fmt: skip
    assert resolved == RESOLVED
    assert decide.resolve(given(OPENED, RESOLVED), ResolveTicket(ticket_id=TICKET_ID), by=AGENT,
                          now=NOW) == []  # fmt: skip


def test_an_open_ticket_cannot_be_closed_and_reopening_it_changes_nothing():
    error = refused(IllegalTransition, "illegal_transition", decide.close, given(OPENED),
                    CloseTicket(ticket_id=TICKET_ID), by=AGENT)  # fmt: skip
    assert error.details == {"current": "open", "requested": "closed"}
    assert decide.reopen(given(OPENED), ReopenTicket(ticket_id=TICKET_ID), by=AGENT,
                         now=NOW) == []  # fmt: skip


# ---- pending_customer ------------------------------------------------------------------


def test_a_customers_reply_moves_a_pending_ticket_back_to_open():
    (back,) = decide.reply(given(OPENED, ASKED), reply(), by=str(ANN), now=NOW)
    assert isinstance(back, ev.CustomerReplied) and back.message.role == "customer"
    assert given(OPENED, ASKED, back).status == "open"


def test_a_pending_ticket_cannot_be_resolved_closed_or_reopened():
    state = given(OPENED, ASKED)
    refused(IllegalTransition, "illegal_transition", decide.resolve, state,
            ResolveTicket(ticket_id=TICKET_ID), by=AGENT, now=NOW)  # fmt: skip
    refused(IllegalTransition, "illegal_transition", decide.close, state,
            CloseTicket(ticket_id=TICKET_ID), by=AGENT)  # fmt: skip
    refused(IllegalTransition, "illegal_transition", decide.reopen, state,
            ReopenTicket(ticket_id=TICKET_ID), by=AGENT, now=NOW)  # fmt: skip


# ---- resolved --------------------------------------------------------------------------


def test_a_resolved_ticket_reopens_within_fourteen_days_to_the_second():
    state = given(OPENED, RESOLVED)
    reopen = ReopenTicket(ticket_id=TICKET_ID)
    (reopened,) = decide.reopen(state, reopen, by=str(ANN), now=NOW + timedelta(days=14))
    assert reopened == ev.TicketReopened(by=str(ANN))
    assert given(OPENED, RESOLVED, reopened).status == "open"
    error = refused(InvalidCommand, "reopen_window_closed", decide.reopen, state, reopen,
                    by=str(ANN), now=NOW + timedelta(days=14, seconds=1))  # fmt: skip
    assert error.details == {"resolved_at": NOW.isoformat()}


def test_a_resolved_ticket_closes_and_takes_no_messages():
    (closed,) = decide.close(given(OPENED, RESOLVED), CloseTicket(ticket_id=TICKET_ID), by=AGENT)
    assert closed == CLOSED
    refused(Conflict, "ticket_not_active", decide.reply, given(OPENED, RESOLVED), reply(),
            by=str(ANN), now=NOW)  # fmt: skip


def test_the_window_counts_from_the_last_resolution():
    later = NOW + timedelta(days=20)
    state = given(OPENED, RESOLVED, ev.TicketReopened(by="x"),
                  ev.TicketResolved(by=AGENT, resolved_at=later))  # fmt: skip
    assert decide.reopen(state, ReopenTicket(ticket_id=TICKET_ID), by="x",
                         now=later + timedelta(days=1))  # fmt: skip


# ---- closed ----------------------------------------------------------------------------


def test_a_closed_ticket_is_final():
    state = given(OPENED, RESOLVED, CLOSED)
    assert decide.close(state, CloseTicket(ticket_id=TICKET_ID), by=AGENT) == []
    refused(IllegalTransition, "illegal_transition", decide.reopen, state,
            ReopenTicket(ticket_id=TICKET_ID), by=AGENT, now=NOW)  # fmt: skip
    refused(IllegalTransition, "illegal_transition", decide.resolve, state,
            ResolveTicket(ticket_id=TICKET_ID), by=AGENT, now=NOW)  # fmt: skip
    refused(Conflict, "ticket_not_active", decide.reply, state, reply("agent"), by=AGENT,
            now=NOW)  # fmt: skip


# ---- the status only moves as the table allows -----------------------------------------

STEPS = st.lists(
    st.tuples(
        st.sampled_from(["customer", "agent", "agent_waits", "resolve", "reopen", "close"]),
        st.integers(min_value=0, max_value=20),  # days later
    ),
    max_size=12,
)


def _run(state, step: str, now: datetime):
    if step in ("customer", "agent", "agent_waits"):
        role = "customer" if step == "customer" else "agent"
        return decide.reply(state, reply(role, "hi", step == "agent_waits"), by="x", now=now)
    if step == "resolve":
        return decide.resolve(state, ResolveTicket(ticket_id=TICKET_ID), by="x", now=now)
    if step == "reopen":
        return decide.reopen(state, ReopenTicket(ticket_id=TICKET_ID), by="x", now=now)
    return decide.close(state, CloseTicket(ticket_id=TICKET_ID), by="x")


@settings(max_examples=60, deadline=None)
@given_examples(STEPS)
def test_whatever_is_sent_the_status_moves_only_as_the_table_allows(steps):
    state, now = given(OPENED), NOW
    for step, days in steps:
        now += timedelta(days=days)
        try:
            events = _run(state, step, now)
        except DomainError:
            continue
        after = TICKET.fold(events, state)
        assert after.status == state.status or after.status in NEXT[state.status]
        state = after
