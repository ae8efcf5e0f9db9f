"""Live chat over HTTP, on the real program started as ``ecom serve`` (heartbeats every 0.3 s):
messages read back by sequence number, a server-sent event stream read by a real HTTP client
(history first, a new message within a second, heartbeats in the quiet, ``Last-Event-ID``
resumes), escalation to a ticket carrying the transcript (once: a repeat names the same
ticket), bad input, a customer kept to their own chats, and SIGTERM ending open streams with a
clean exit."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from uuid import uuid4

import httpx
import pytest

from domain.ticket.messages import MAX_MESSAGE_CHARS
from tests.e2e.conftest import (
    assert_error,
    auth_headers,
    client_for,
    ecom_serve,
)


@pytest.fixture(scope="module")
def served(database_url, container) -> Iterator[tuple[subprocess.Popen, str]]:
    """``ecom serve`` (no process managers) for the module; the last test stops it (one start
    less to wait for)."""
    with ecom_serve(database_url, ECOM_RUN_PROCESSES="0", ECOM_CHAT_HEARTBEAT_S="0.3") as s:
        yield s


@pytest.fixture
def chat_server(served) -> str:
    return served[1]


def started(base: str) -> tuple[str, httpx.Client, str]:
    """(customer, their client, a new chat of theirs with one message)."""
    customer = str(uuid4())
    mine = client_for(base, "customer", customer)
    r = mine.post("/chats", json={"customer_id": customer})
    assert r.status_code == 201, r.text
    chat = r.json()["id"]
    r = mine.post(f"/chats/{chat}/messages", json={"text": "Hello?"})
    assert r.status_code == 201 and r.json()["seq"] == 2, r.text
    return customer, mine, chat


class Events:
    """The server-sent events of one open stream, read line by line."""

    def __init__(self, response: httpx.Response):
        self.lines = response.iter_lines()

    def next(self) -> dict:
        """The next event: ``{"comment": ...}`` or its fields (``data`` decoded)."""
        event: dict = {}
        for line in self.lines:
            if line == "":
                if event:
                    return event
                continue
            field, _, value = line.partition(":")
            if field == "":
                return {"comment": value.strip()}
            event[field] = json.loads(value) if field == "data" else value.strip()
        raise EOFError("the stream ended")

    def message(self) -> dict:
        while "data" not in (event := self.next()):
            pass
        return event


def stream(client: httpx.Client, chat: str, **kwargs):
    return client.stream("GET", f"/chats/{chat}/stream", timeout=5, **kwargs)


def test_a_stream_sends_the_history_then_a_new_message_within_a_second(chat_server):
    customer, mine, chat = started(chat_server)
    agent = client_for(chat_server, "merchant", "agent-3")
    with stream(mine, chat) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = Events(r)
        first = events.message()
        assert first["id"] == "2" and first["event"] == "message"
        assert first["data"]["text"] == "Hello?" and first["data"]["author"] == customer
        assert events.next() == {"comment": "heartbeat"}  # quiet: a heartbeat, no message
        sent = time.monotonic()
        assert agent.post(f"/chats/{chat}/messages", json={"text": "Hi!"}).status_code == 201
        reply = events.message()
        assert time.monotonic() - sent < 1.0
        assert reply["id"] == "3" and reply["data"]["role"] == "agent"
    # reconnecting with the last id seen goes on after it
    mine.post(f"/chats/{chat}/messages", json={"text": "Thanks"})
    with stream(agent, chat, headers={"Last-Event-ID": "3"}) as r:
        assert Events(r).message()["data"]["text"] == "Thanks"
    listed = mine.get(f"/chats/{chat}/messages", params={"after": 2}).json()["items"]
    assert [(m["seq"], m["text"]) for m in listed] == [(3, "Hi!"), (4, "Thanks")]


def test_many_streams_of_one_chat_each_get_the_message(chat_server):
    _, mine, chat = started(chat_server)
    with stream(mine, chat) as a, stream(mine, chat) as b:
        readers = [Events(a), Events(b)]
        for events in readers:
            assert events.message()["id"] == "2"
        mine.post(f"/chats/{chat}/messages", json={"text": "again"})
        assert [e.message()["data"]["text"] for e in readers] == ["again", "again"]


def test_escalation_opens_one_ticket_with_the_transcript(chat_server):
    customer, mine, chat = started(chat_server)
    agent = client_for(chat_server, "admin", "agent-9")
    agent.post(f"/chats/{chat}/messages", json={"text": "Which order?"})
    r = agent.post(f"/chats/{chat}/escalate", json={"priority": "high"})
    assert r.status_code == 201, r.text
    ticket_id, position = r.json()["ticket_id"], r.json()["position"]
    again = mine.post(f"/chats/{chat}/escalate")
    assert again.status_code == 200 and again.json()["ticket_id"] == ticket_id
    doc = mine.get(f"/tickets/{ticket_id}", params={"min_position": position}).json()
    assert (doc["status"], doc["priority"], doc["customer_id"]) == ("open", "high", customer)
    assert [(m["role"], m["text"]) for m in doc["messages"]] == [
        ("customer", "Hello?"), ("agent", "Which order?")]  # fmt: skip
    assert doc["subject"] == "Hello?" and doc["sla_breached"] is False
    assert_error(mine.post(f"/chats/{chat}/messages", json={"text": "hi"}), 409, "chat_escalated")


def test_bad_input_is_refused_with_its_code(chat_server, container):
    customer, mine, chat = started(chat_server)
    head = container.store.head()
    assert_error(mine.post(f"/chats/{chat}/messages", json={"text": "x" * (MAX_MESSAGE_CHARS + 1)}),
                 422, "message_too_long")  # fmt: skip
    assert_error(mine.post(f"/chats/{chat}/messages", json={"text": ""}), 422, "message_empty")
    assert_error(mine.post("/chats", json={"customer_id": customer, "order_id": str(uuid4())}),
                 422, "order_not_found")  # fmt: skip
    assert_error(mine.get(f"/chats/{chat}/messages", params={"after": -1}), 422)
    assert container.store.head() == head
    empty = mine.post("/chats", json={"customer_id": customer}).json()["id"]
    assert_error(mine.post(f"/chats/{empty}/escalate"), 422, "chat_empty")
    admin = client_for(chat_server)
    assert_error(admin.get(f"/chats/{uuid4()}/messages"), 404, "chat_not_found")
    assert_error(admin.post(f"/chats/{uuid4()}/messages", json={"text": "x"}), 404,
                 "chat_not_found")  # fmt: skip


def test_a_customer_reaches_their_own_chats_only(chat_server):
    _, _, chat = started(chat_server)
    bob = str(uuid4())
    bob_api = client_for(chat_server, "customer", bob)
    for r in (
        bob_api.get(f"/chats/{chat}/messages"),
        bob_api.post(f"/chats/{chat}/messages", json={"text": "hi"}),
        bob_api.post(f"/chats/{chat}/escalate"),
        httpx.get(f"{chat_server}/api/v1/chats/{chat}/stream", headers=auth_headers("customer",
                                                                                    bob)),
    ):  # fmt: skip
        assert_error(r, 404, "chat_not_found")
    assert_error(bob_api.post("/chats", json={"customer_id": str(uuid4())}), 403,
                 "forbidden_customer")  # fmt: skip


# Last: it stops the module's server.
def test_sigterm_ends_open_streams_and_the_server_exits_cleanly(served):
    proc, base = served
    _, mine, chat = started(base)
    with stream(mine, chat) as r:
        events = Events(r)
        assert events.message()["id"] == "2"
        proc.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        with pytest.raises((EOFError, httpx.HTTPError)):
            while time.monotonic() - stopping < 5:  # heartbeats until the stream ends
                events.next()
    # the stream ended within 5 s of the signal; the rest of the stop is the program's own
    assert proc.wait(20) == 0
