"""Support tickets over HTTP, on the real program: a ticket's whole life as a customer and an
agent see it, the first-response deadline breached or not at the time of reading (tickets
opened in the past through the command layer), the reopening window, bad input answered
``4xx`` with its code and nothing written, and a customer kept to their own tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest

from commands.context import CommandContext
from domain.ticket.commands import OpenTicket, ResolveTicket
from domain.ticket.messages import MAX_MESSAGE_CHARS
from tests.e2e.conftest import assert_error, client_for
from tests.factories import active_product, send

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip


@pytest.fixture(scope="module")
def sku(container) -> str:
    return active_product(container)[1]


def customer_of(server_url: str) -> tuple[str, httpx.Client]:
    customer = str(uuid4())
    return customer, client_for(server_url, "customer", customer)


def order_of(api: httpx.Client, customer: str, sku: str) -> str:
    body = {"customer_id": customer, "currency": "USD", "lines": [{"sku": sku, "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment": {"method": "card", "token": "tok_visa"}}  # fmt: skip
    r = api.post("/orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def ticket(client: httpx.Client, ticket_id: str, position: int) -> dict:
    r = client.get(f"/tickets/{ticket_id}", params={"min_position": position})
    assert r.status_code == 200, r.text
    return r.json()


def acted(client: httpx.Client, path: str, status: str, body: dict | None = None) -> dict:
    r = client.post(path, json=body or {})
    assert r.status_code in (200, 201), r.text
    assert r.json()["status"] == status, r.json()
    return r.json()


def test_a_ticket_lives_through_replies_resolution_reopening_and_closing(api, server_url, sku):
    customer, mine = customer_of(server_url)
    merchant = client_for(server_url, "merchant", "agent-7")
    order = order_of(api, customer, sku)
    # a customer opens a ticket about their order
    r = mine.post("/tickets", json={"customer_id": customer, "order_id": order,
                                    "subject": "Late parcel", "message": "Where is it?",
                                    "priority": "high"})  # fmt: skip
    assert r.status_code == 201, r.text
    opened = r.json()
    assert opened["status"] == "open"
    tid = opened["id"]
    doc = ticket(mine, tid, opened["position"])
    assert (doc["status"], doc["priority"], doc["customer_id"], doc["order_id"]) == (
        "open", "high", customer, order)  # fmt: skip
    assert doc["messages"][0]["author"] == customer and doc["messages"][0]["role"] == "customer"
    assert doc["messages"][0]["text"] == "Where is it?" and doc["sla_breached"] is False
    due = datetime.fromisoformat(doc["first_response_due"])
    assert due - datetime.fromisoformat(doc["messages"][0]["at"]) == timedelta(hours=4)
    # an agent asks back, the customer answers
    acted(merchant, f"/tickets/{tid}/messages", "pending_customer",
          {"text": "Which address?", "awaiting_customer": True})  # fmt: skip
    back = acted(mine, f"/tickets/{tid}/messages", "open", {"text": "1 Main St"})
    doc = ticket(merchant, tid, back["position"])
    assert [(m["role"], m["author"]) for m in doc["messages"]] == [
        ("customer", customer), ("agent", "agent-7"), ("customer", customer)]  # fmt: skip
    # resolved, reopened by the customer, resolved again and closed
    acted(merchant, f"/tickets/{tid}/resolve", "resolved")
    acted(mine, f"/tickets/{tid}/reopen", "open")
    acted(merchant, f"/tickets/{tid}/resolve", "resolved")
    closed = acted(merchant, f"/tickets/{tid}/close", "closed")
    assert ticket(mine, tid, closed["position"])["status"] == "closed"
    # a closed ticket is final
    assert_error(mine.post(f"/tickets/{tid}/reopen"), 409, "illegal_transition")
    assert_error(mine.post(f"/tickets/{tid}/messages", json={"text": "hello?"}), 409,
                 "ticket_not_active")  # fmt: skip


def test_forbidden_transitions_are_409_and_write_nothing(api, container):
    r = api.post("/tickets", json={"customer_id": str(uuid4()), "subject": "s", "message": "m"})
    tid = r.json()["id"]
    head = container.store.head()
    assert_error(api.post(f"/tickets/{tid}/close"), 409, "illegal_transition")
    acted(api, f"/tickets/{tid}/messages", "pending_customer",
          {"text": "More?", "awaiting_customer": True})  # fmt: skip
    head = container.store.head()
    error = assert_error(api.post(f"/tickets/{tid}/resolve"), 409, "illegal_transition")
    assert error["details"] == {"current": "pending_customer", "requested": "resolved"}
    assert container.store.head() == head


def test_bad_input_is_refused_with_its_code_and_nothing_is_written(api, server_url, container,
                                                                  sku):  # fmt: skip
    customer, mine = customer_of(server_url)
    other = order_of(api, str(uuid4()), sku)
    head = container.store.head()
    base = {"customer_id": customer, "subject": "s", "message": "m"}
    for body, status, code in (
        ({**base, "message": "x" * (MAX_MESSAGE_CHARS + 1)}, 422, "message_too_long"),
        ({**base, "message": "   "}, 422, "message_empty"),
        ({**base, "order_id": str(uuid4())}, 422, "order_not_found"),
        ({**base, "order_id": other}, 422, "order_of_another_customer"),
        ({**base, "priority": "asap"}, 422, "validation_error"),
        ({**base, "subject": ""}, 422, "validation_error"),
        ({**base, "role": "agent"}, 422, "validation_error"),  # the role is the token's
        ({**base, "customer_id": str(uuid4())}, 403, "forbidden_customer"),
    ):
        assert_error(mine.post("/tickets", json=body), status, code)
    tid = mine.post("/tickets", json=base).json()["id"]
    head = container.store.head()
    assert_error(mine.post(f"/tickets/{tid}/messages", json={"text": "y" * 5000}), 422,
                 "message_too_long")  # fmt: skip
    assert_error(mine.post(f"/tickets/{tid}/messages", json={"text": "hi",
                                                             "awaiting_customer": True}),
                 422, "awaiting_customer_by_agent_only")  # fmt: skip
    assert_error(api.post(f"/tickets/{uuid4()}/resolve"), 404, "ticket_not_found")
    assert_error(api.get(f"/tickets/{uuid4()}"), 404, "ticket_not_found")
    assert container.store.head() == head


def test_a_customer_sees_and_acts_on_their_own_tickets_only(api, server_url):
    ann, ann_api = customer_of(server_url)
    bob, bob_api = customer_of(server_url)
    anns = ann_api.post("/tickets", json={"customer_id": ann, "subject": "a", "message": "m"})
    bobs = bob_api.post("/tickets", json={"customer_id": bob, "subject": "b", "message": "m"})
    tid, position = anns.json()["id"], bobs.json()["position"]
    for call in (
        lambda: bob_api.get(f"/tickets/{tid}"),
        lambda: bob_api.post(f"/tickets/{tid}/messages", json={"text": "mine?"}),
        lambda: bob_api.post(f"/tickets/{tid}/resolve"),
        lambda: bob_api.post(f"/tickets/{tid}/reopen"),
        lambda: bob_api.post(f"/tickets/{tid}/close"),
    ):
        assert_error(call(), 404, "ticket_not_found")
    # a customer's list is theirs, whatever customer it names
    listed = bob_api.get("/tickets", params={"customer_id": ann, "min_position": position})
    assert [t["customer_id"] for t in listed.json()["items"]] == [bob]
    staff = api.get("/tickets", params={"customer_id": ann, "min_position": position}).json()
    assert [t["id"] for t in staff["items"]] == [tid]
    analyst = client_for(server_url, "analyst", "an-1")
    assert_error(analyst.get(f"/tickets/{tid}"), 403, "forbidden")


def test_the_deadline_is_breached_at_the_time_of_reading(api, container):
    customer = uuid4()
    now = datetime.now(UTC)

    def opened(priority: str, at: datetime) -> str:
        command = OpenTicket(customer_id=customer, subject=priority, message="m", priority=priority)
        return str(send(container, command, CommandContext.new("t", now=at)).stream_id)

    late = opened("urgent", now - timedelta(hours=1, minutes=1))  # due a minute ago
    in_time = opened("urgent", now - timedelta(minutes=59))  # due in a minute
    answered = opened("high", now - timedelta(hours=5))  # resolved within its 4 hours
    done = send(container, ResolveTicket(ticket_id=answered),
                CommandContext.new("t", now=now - timedelta(hours=4)))  # fmt: skip
    query = {"customer_id": str(customer), "min_position": done.position}
    every = {t["id"]: t["sla_breached"] for t in api.get("/tickets", params=query).json()["items"]}
    assert every == {late: True, in_time: False, answered: False}
    breached = api.get("/tickets", params={**query, "sla_breached": "true"}).json()["items"]
    assert [t["id"] for t in breached] == [late]
    calm = api.get("/tickets", params={**query, "sla_breached": "false"}).json()["items"]
    assert {t["id"] for t in calm} == {in_time, answered}
    assert api.get(f"/tickets/{late}").json()["sla_breached"] is True
    status = api.get("/tickets", params={**query, "status": "resolved"}).json()["items"]
    assert [t["id"] for t in status] == [answered]


def test_a_ticket_reopens_within_fourteen_days_of_its_resolution_only(api, container):
    now = datetime.now(UTC)
    tickets = []
    for days in (13, 15):
        at = now - timedelta(days=days)
        opened = send(container, OpenTicket(customer_id=uuid4(), subject="s", message="m"),
                      CommandContext.new("t", now=at - timedelta(hours=1)))  # fmt: skip
        send(container, ResolveTicket(ticket_id=opened.stream_id), CommandContext.new("t", now=at))
        tickets.append(str(opened.stream_id))
    recent, old = tickets
    acted(api, f"/tickets/{recent}/reopen", "open")
    head = container.store.head()
    assert_error(api.post(f"/tickets/{old}/reopen"), 422, "reopen_window_closed")
    assert container.store.head() == head


def test_the_list_pages_newest_first(api):
    customer = str(uuid4())
    made = [api.post("/tickets", json={"customer_id": customer, "subject": f"t{i}",
                                       "message": "m"}).json() for i in range(3)]  # fmt: skip
    query = {"customer_id": customer, "limit": 2, "min_position": made[-1]["position"]}
    first = api.get("/tickets", params=query).json()
    second = api.get("/tickets", params={**query, "cursor": first["next_cursor"]}).json()
    assert [t["subject"] for t in first["items"] + second["items"]] == ["t2", "t1", "t0"]
    assert second["next_cursor"] is None
    assert_error(api.get("/tickets", params={"cursor": "bm90LWEtY3Vyc29y"}), 400,
                 "malformed_cursor")  # fmt: skip
