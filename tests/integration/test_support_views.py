"""Tickets and chats on real PostgreSQL: an order named on a ticket is checked against the
order's own stream (nothing written when refused), two escalations racing make one ticket, and
the tickets and chats views rebuilt from position 0 equal the live ones, as does a view fed
the same events again."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from commands.chats import ticket_of_chat
from commands.context import CommandContext
from domain.chat.commands import EscalateChat, PostChatMessage, StartChat
from domain.errors import InvalidCommand
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from domain.ticket.commands import OpenTicket, ReplyToTicket, ResolveTicket
from projections.base import live_schema
from projections.chats import messages_after
from projections.tickets import get_ticket
from tests.factories import active_product, send
from tests.integration.test_projection_rebuild import snapshot

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")


def ctx(actor: str, now: datetime | None = None) -> CommandContext:
    return CommandContext.new(actor, now=now)


@pytest.fixture(scope="module")
def order(container) -> tuple[UUID, UUID]:
    """(customer, order): an order of a customer of our own."""
    customer = uuid4()
    _, sku = active_product(container)
    placed = send(container, PlaceOrder(customer_id=customer, currency="USD",
                                        lines=[RequestedLine(sku=sku, quantity=1)],
                                        shipping_address=ADDRESS,
                                        payment=PaymentRef(token="tok")), ctx("t"))  # fmt: skip
    return customer, placed.stream_id


def test_a_ticket_on_another_customers_order_is_refused_and_nothing_written(container, order):
    customer, order_id = order
    head = container.store.head()
    for order_of, code in ((order_id, "order_of_another_customer"), (uuid4(), "order_not_found")):
        with pytest.raises(InvalidCommand) as caught:
            send(container, OpenTicket(customer_id=uuid4(), order_id=order_of, subject="s",
                                       message="m"), ctx("t"))  # fmt: skip
        assert caught.value.code == code
    assert container.store.head() == head
    mine = send(container, OpenTicket(customer_id=customer, order_id=order_id, subject="s",
                                      message="m"), ctx(str(customer)))  # fmt: skip
    assert mine.version == 1


def test_two_escalations_at_once_make_one_ticket(container):
    chat = send(container, StartChat(customer_id=uuid4()), ctx("c")).stream_id
    send(container, PostChatMessage(chat_id=chat, text="help"), ctx("c"))
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: send(container, EscalateChat(chat_id=chat),
                                                ctx("agent")), range(4)))  # fmt: skip
    assert {o.extra["ticket_id"] for o in outcomes} == {str(ticket_of_chat(chat))}
    assert sum(o.extra["created"] for o in outcomes) == 1
    assert [e.name for e in container.store.load(ticket_of_chat(chat))] == ["TicketOpened"]


def test_the_views_answer_what_happened_and_rebuild_to_the_same_rows(container, order):
    customer, order_id = order
    opened_at = datetime.now(UTC) - timedelta(hours=2)
    ticket = send(container, OpenTicket(customer_id=customer, order_id=order_id, subject="Late",
                                        message="Where?", priority="urgent"),
                  ctx(str(customer), opened_at)).stream_id  # fmt: skip
    send(container, ReplyToTicket(ticket_id=ticket, text="On its way", role="agent",
                                  awaiting_customer=True), ctx("agent"))  # fmt: skip
    send(container, ReplyToTicket(ticket_id=ticket, text="Thanks"), ctx(str(customer)))
    send(container, ResolveTicket(ticket_id=ticket), ctx("agent"))
    chat = send(container, StartChat(customer_id=customer), ctx(str(customer))).stream_id
    for text in ("one", "two", "three"):
        send(container, PostChatMessage(chat_id=chat, text=text), ctx(str(customer)))
    send(container, EscalateChat(chat_id=chat), ctx("agent"))
    container.runner.catch_up(["tickets", "chats"])

    doc = get_ticket(container.pool, ticket, datetime.now(UTC))
    assert doc is not None and doc["status"] == "resolved"
    assert [(m["role"], m["text"]) for m in doc["messages"]] == [
        ("customer", "Where?"), ("agent", "On its way"), ("customer", "Thanks"),
    ]  # fmt: skip
    assert doc["sla_breached"] is True  # the agent answered two hours after an urgent ticket
    escalated = get_ticket(container.pool, ticket_of_chat(chat), datetime.now(UTC))
    assert escalated is not None and escalated["chat_id"] == chat
    assert [m["text"] for m in escalated["messages"]] == ["one", "two", "three"]
    assert [m["seq"] for m in messages_after(container.pool, chat, 2)] == [3, 4]

    for name in ("tickets", "chats"):
        before = snapshot(container.pool, live_schema(name))
        container.runner.rebuild(name)
        assert snapshot(container.pool, live_schema(name)) == before, name


def test_a_view_fed_the_same_events_again_changes_nothing(container):
    container.runner.catch_up(["tickets", "chats"])
    for view in (container.runner.projections[n] for n in ("tickets", "chats")):
        mine = container.store.read_all(after=0, limit=100_000, topics=list(view.topics))
        before = snapshot(container.pool, live_schema(view.name))
        with container.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            view.apply(cur, live_schema(view.name), mine)
        assert snapshot(container.pool, live_schema(view.name)) == before, view.name
