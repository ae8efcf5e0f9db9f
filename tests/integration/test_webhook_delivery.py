"""Webhook deliveries against real PostgreSQL and a local HTTP receiver: at least once, in
stream order per webhook, exactly once after de-duplication by event id, across failures and
a restart of the dispatcher; a hanging endpoint does not delay another; dead-lettering after
the last attempt and an operator's retry; signatures by the documented recipe, and rotation."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from commands.context import CommandContext
from commands.webhook_deliveries import DeliveryTable
from commands.webhook_dispatcher import WebhookDispatcher
from commands.webhook_secrets import secret_of
from commands.webhook_sender import DeliveryPolicy
from commands.webhook_urls import ALLOW_PRIVATE_ENV
from domain.customer.commands import AssignSegment, RegisterCustomer
from domain.customer.segments import SEGMENTS
from domain.errors import NotFound
from domain.webhook.commands import DeleteWebhook, RegisterWebhook, RotateWebhookSecret
from tests.conftest import container_of_its_own
from tests.factories import send
from tests.webhook_receiver import Receiver

KEY = bytes(range(32))
POLICY = DeliveryPolicy(
    max_attempts=8, backoff_s=0.01, max_backoff_s=0.05, timeout_s=5.0, poll_s=0.05
)
TYPES = ["customer.CustomerRegistered", "customer.CustomerSegmentAssigned"]
DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verify() -> Callable[[str, str, bytes], bool]:
    """The receiver's recipe exactly as docs/webhooks.md gives it."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    scope: dict = {}
    exec(code, scope)  # noqa: S102 - the documented recipe is what is tested
    return scope["verify"]


def wait_for(condition: Callable[[], object], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.01)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture(scope="module")
def dispatcher(container, database_url) -> Iterator[WebhookDispatcher]:
    before = os.environ.get(ALLOW_PRIVATE_ENV)
    os.environ[ALLOW_PRIVATE_ENV] = "1"
    d = WebhookDispatcher(container.store, container.pool, KEY, POLICY, listen_url=database_url)
    d.catch_up()  # nothing before this module's webhooks concerns it
    d.start()
    yield d
    d.stop()
    if before is None:
        os.environ.pop(ALLOW_PRIVATE_ENV, None)
    else:
        os.environ[ALLOW_PRIVATE_ENV] = before


@pytest.fixture
def webhooks(container, receiver, dispatcher) -> Iterator[Callable[[str], UUID]]:
    """Registers webhooks on the receiver (deleted after the test)."""
    made: list[UUID] = []

    def register(path: str, types: list[str] = TYPES) -> UUID:
        done = send(
            container,
            RegisterWebhook(url=receiver.base + path, event_types=types),
            CommandContext.new(),
        )
        made.append(UUID(done.extra["id"]))
        return made[-1]

    yield register
    for webhook_id in made:
        with contextlib.suppress(NotFound):  # deleted by the test itself
            send(container, DeleteWebhook(webhook_id=webhook_id), CommandContext.new())


def customers(container, count: int, segments: int) -> list[tuple[UUID, list[str]]]:
    """``count`` customers, each registered then given ``segments`` segments: a stream of
    ``1 + segments`` events; returns each stream's id and its event ids in order."""
    out = []
    for _ in range(count):
        tag = uuid4().hex[:10]
        done = send(
            container,
            RegisterCustomer(email=f"wh-{tag}@example.com", name="Ada Lovelace"),
            CommandContext.new(),
        )
        customer_id = UUID(done.extra["id"])
        for i in range(segments):
            send(
                container,
                AssignSegment(customer_id=customer_id, segment=SEGMENTS[1 + i % 4]),
                CommandContext.new(),
            )
        out.append((customer_id, [f"{customer_id}@{v}" for v in range(1, segments + 2)]))
    return out


def delivered_ids(receiver: Receiver, path: str) -> list[str]:
    """Event ids answered 2xx at ``path``, first receipt of each, in arrival order."""
    seen: dict[str, None] = {}
    for r in receiver.at(path):
        if r.ok:
            seen.setdefault(r.headers["X-Ecom-Event-Id"], None)
    return list(seen)


def test_a_failing_receiver_gets_every_event_once_after_dedup_in_stream_order(
    container, receiver, dispatcher, webhooks
):
    # Given a receiver that fails the first two attempts of every event
    path = f"/flaky/2/{uuid4().hex}"
    webhook_id = webhooks(path)
    # When three customers each write four events
    streams = customers(container, 3, 3)
    expected = {e for _, ids in streams for e in ids}
    # Then every event arrives, each once after de-duplication by id
    wait_for(lambda: expected <= set(delivered_ids(receiver, path)))
    got = [e for e in delivered_ids(receiver, path) if e in expected]
    assert sorted(got) == sorted(expected)
    # in its stream's order, and never before the earlier one of its stream was answered 2xx
    for _, ids in streams:
        assert [e for e in got if e in ids] == ids
        attempts = [r.headers["X-Ecom-Event-Id"] for r in receiver.at(path) if r.event["id"] in ids]
        first_success = {e: attempts.index(e) + 2 for e in ids}  # two failures, then the 2xx
        for earlier, later in zip(ids, ids[1:], strict=False):
            assert attempts.index(later) > first_success[earlier]
    # the body carries the event, its personal fields redacted
    registered = next(r.event for r in receiver.at(path) if r.event["id"] == streams[0][1][0])
    assert registered["type"] == "customer.CustomerRegistered"
    assert registered["stream_id"] == str(streams[0][0])
    assert registered["data"]["name"] == "[redacted]"
    assert registered["data"]["email"] == "[redacted]"
    assert isinstance(registered["position"], int) and registered["occurred_at"]
    table = DeliveryTable(container.pool)
    wait_for(lambda: {r["status"] for r in table.list(webhook_id)} == {"delivered"})
    assert {r["attempts"] for r in table.list(webhook_id)} == {3}


def test_a_hanging_receiver_does_not_delay_another(container, receiver, dispatcher, webhooks):
    receiver.release.clear()
    hanging, healthy = f"/hang/{uuid4().hex}", f"/ok/{uuid4().hex}"
    webhooks(hanging)
    webhooks(healthy)
    streams = customers(container, 4, 1)
    started = time.monotonic()
    expected = {e for _, ids in streams for e in ids}
    wait_for(lambda: expected <= set(delivered_ids(receiver, healthy)))
    # every event reached the healthy receiver within one timeout of the hanging one, while
    # the hanging one held the requests it had been sent, unanswered
    assert time.monotonic() - started < POLICY.timeout_s
    wait_for(lambda: hanging in receiver.arrived)
    assert not receiver.at(hanging)
    receiver.release.set()


def test_a_restarted_dispatcher_delivers_what_was_written_while_it_was_down(
    container, database_url, receiver, dispatcher, webhooks
):
    path = f"/ok/{uuid4().hex}"
    webhooks(path)
    wait_for(lambda: len(dispatcher.senders) > 0)
    dispatcher.stop()
    try:
        streams = customers(container, 2, 2)
        expected = {e for _, ids in streams for e in ids}
        # a new dispatcher, as after a restart: nothing is held in memory
        fresh = WebhookDispatcher(
            container.store, container.pool, KEY, POLICY, listen_url=database_url
        )
        fresh.start()
        try:
            wait_for(lambda: expected <= set(delivered_ids(receiver, path)))
        finally:
            fresh.stop()
    finally:
        dispatcher.start()


def test_dead_letter_after_the_last_attempt_then_an_operator_retry(
    container, receiver, dispatcher, webhooks
):
    receiver.down.set()
    path = f"/down/{uuid4().hex}"
    webhook_id = webhooks(path)
    [(_, [event_id])] = customers(container, 1, 0)
    table = DeliveryTable(container.pool)
    wait_for(lambda: [r["status"] for r in table.list(webhook_id)] == ["dead"])
    [dead] = table.list(webhook_id)
    assert dead["attempts"] == POLICY.max_attempts == len(receiver.at(path))
    assert dead["last_status"] == 500 and dead["last_error"] == "HTTP 500"
    # When the endpoint is back and an operator retries the delivery
    receiver.down.clear()
    assert table.retry(dead["id"])["status"] == "pending"
    # Then it is delivered, on the next attempt, with the same event id
    wait_for(lambda: [r["status"] for r in table.list(webhook_id)] == ["delivered"])
    assert [r.headers["X-Ecom-Event-Id"] for r in receiver.at(path)] == [event_id] * 9
    assert receiver.at(path)[-1].ok


def test_signatures_verify_with_the_documented_recipe_and_rotation_signs_with_both(
    container, receiver, dispatcher, webhooks
):
    verify = documented_verify()
    path = f"/ok/{uuid4().hex}"
    webhook_id = webhooks(path)
    first, second = secret_of(KEY, webhook_id, 0), secret_of(KEY, webhook_id, 1)
    customers(container, 1, 0)
    wait_for(lambda: receiver.at(path))
    one = receiver.at(path)[0]
    signature = one.headers["X-Ecom-Signature"]
    assert verify(first, signature, one.body)
    assert one.headers["X-Ecom-Event-Id"] == one.event["id"]
    # one byte changed in the body, the signature, or the secret: refused
    assert not verify(first, signature, one.body[:-2] + b"x" + one.body[-1:])
    assert not verify(first, signature[:-1] + ("0" if signature[-1] != "0" else "1"), one.body)
    assert not verify(second, signature, one.body)
    # a rotation with a grace: both secrets sign (new first), each verifies alone
    send(container, RotateWebhookSecret(webhook_id=webhook_id, grace_s=3600), CommandContext.new())
    customers(container, 1, 0)
    wait_for(lambda: len(receiver.at(path)) >= 2)
    two = receiver.at(path)[1]
    header = two.headers["X-Ecom-Signature"]
    assert header.count("v1=") == 2
    assert verify(second, header, two.body) and verify(first, header, two.body)
    # a rotation without grace: only the newest signs
    send(container, RotateWebhookSecret(webhook_id=webhook_id, grace_s=0), CommandContext.new())
    customers(container, 1, 0)
    wait_for(lambda: len(receiver.at(path)) >= 3)
    three = receiver.at(path)[2]
    third = secret_of(KEY, webhook_id, 2)
    assert three.headers["X-Ecom-Signature"].count("v1=") == 1
    assert verify(third, three.headers["X-Ecom-Signature"], three.body)
    assert not verify(second, three.headers["X-Ecom-Signature"], three.body)


def test_a_deleted_webhook_gets_nothing_more(container, receiver, dispatcher, webhooks):
    path = f"/ok/{uuid4().hex}"
    webhook_id = webhooks(path)
    send(container, DeleteWebhook(webhook_id=webhook_id), CommandContext.new())
    customers(container, 1, 0)
    dispatcher.catch_up()
    assert DeliveryTable(container.pool).list(webhook_id) == []


def test_an_endpoint_whose_address_became_private_is_not_called(
    container, receiver, dispatcher, webhooks
):
    # Given a webhook on this machine, registered while private addresses were allowed
    path = f"/ok/{uuid4().hex}"
    webhook_id = webhooks(path)
    table = DeliveryTable(container.pool)
    os.environ[ALLOW_PRIVATE_ENV] = "0"  # as when a name later resolves to a private address
    try:
        customers(container, 1, 2)
        # Then each stream's first delivery fails without a request; the others wait behind it
        wait_for(lambda: any(r["attempts"] >= 2 for r in table.list(webhook_id)))
        rows = table.list(webhook_id)
        assert not receiver.at(path) and path not in receiver.arrived
        assert "not public" in rows[0]["last_error"] and rows[0]["last_status"] is None
    finally:
        os.environ[ALLOW_PRIVATE_ENV] = "1"
    wait_for(lambda: {r["status"] for r in table.list(webhook_id)} == {"delivered"})
    # the later ones were never attempted before: their one attempt is the one that succeeded
    head, *later = table.list(webhook_id)
    assert head["attempts"] >= 3 and [r["attempts"] for r in later] == [1, 1]


def test_the_dispatcher_wakes_on_the_event_types_its_webhooks_take(
    database_url, receiver, monkeypatch
):
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")  # the receiver listens on this machine
    with container_of_its_own(database_url, "ecom_webhook_wake") as own:
        dispatcher = WebhookDispatcher(own.store, own.pool, KEY, POLICY, listen_url=own.url)
        dispatcher.start()
        try:
            # Given no webhook: the dispatcher wakes on webhook events only
            assert not set(TYPES) & dispatcher.wake_topics()
            # When a webhook of customer events is registered
            path = f"/ok/{uuid4().hex}"
            command = RegisterWebhook(url=receiver.base + path, event_types=TYPES)
            send(own, command, CommandContext.new())
            wait_for(lambda: set(TYPES) <= dispatcher.wake_topics())
            # Then a customer event is delivered at once, not on the next idle poll
            started = time.monotonic()
            [(_, ids)] = customers(own, 1, 0)
            wait_for(lambda: ids[0] in delivered_ids(receiver, path))
            assert time.monotonic() - started < 2.0  # the idle poll comes every 5 s
        finally:
            dispatcher.stop()
