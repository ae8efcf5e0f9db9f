"""The key ring against real PostgreSQL: linking a stream gives a new customer its key in the
same statement, a link written with its events commits with them or not at all, and its
in-process tables stay bounded without losing anything."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from domain.customer.events import CustomerRegistered
from domain.errors import ConcurrencyConflict
from eventstore.privacy import KeyRing
from eventstore.recorded import EventMeta
from eventstore.store import StreamAppend

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
META = EventMeta(occurred_at=NOW, actor="tester", correlation_id="c", causation_id="c")


def test_linking_a_new_customer_s_stream_creates_the_key_the_write_then_uses(container):
    ring, other = KeyRing(container.pool), KeyRing(container.pool)
    customer, stream = str(uuid4()), uuid4()
    ring.link_stream(stream, customer)
    key = ring.key_for_write(customer)
    assert key is not None and len(key) == 32
    assert other.key_for_read(customer) == key  # stored, not only cached
    assert other.owner_of_stream(stream) == customer


def test_a_full_ring_forgets_entries_and_reads_them_again_unchanged(container):
    ring = KeyRing(container.pool, max_entries=3)
    linked = [(uuid4(), str(uuid4())) for _ in range(7)]
    keys = {}
    for stream, customer in linked:
        ring.link_stream(stream, customer)
        keys[customer] = ring.key_for_write(customer)
    assert len(ring._owners) <= 3 and len(ring._cache) <= 3
    for stream, customer in linked:
        assert ring.owner_of_stream(stream) == customer
        assert ring.key_for_write(customer) == keys[customer]


def test_a_key_read_just_before_it_was_destroyed_is_never_cached_after(container):
    """A writer that read the key, then lost the race to the destroy, remembers it too late:
    the process that destroyed it (or read the CustomerForgotten saying so) reads erased."""
    ring = KeyRing(container.pool)
    customer = uuid4()
    key = ring.key_for_write(str(customer))
    assert key is not None
    ring.destroy(customer)
    ring._remember(str(customer), key)  # the late writer's lookup finishing after the destroy
    assert ring.key_for_read(str(customer)) is None
    assert ring.key_for_write(str(customer)) is None
    other = KeyRing(container.pool)
    assert other.key_for_read(str(customer)) is None  # the table says so to every process


def _registered(customer: UUID) -> CustomerRegistered:
    return CustomerRegistered(
        customer_id=customer,
        email=f"{customer.hex[:8]}@example.com",
        name="Ann",
        segment="regular",
        email_claim=uuid4(),
        registered_at=NOW,
        registered_by="tester",
    )


def test_a_link_written_with_its_events_commits_with_them_or_not_at_all(container):
    # Given a customer whose key the writer has cached (so the link can wait for the events)
    store, customer = container.store, uuid4()
    assert store.mapper.keyring.key_for_write(str(customer)) is not None
    moved, stream = uuid4(), uuid4()
    store.append([StreamAppend(moved, 0, [_registered(customer)])], META)
    # When an append of a new stream's personal event fails on another of its streams
    with pytest.raises(ConcurrencyConflict):
        store.append(
            [
                StreamAppend(stream, 0, [_registered(customer)]),
                StreamAppend(moved, 0, [_registered(customer)]),
            ],
            META,
        )
    # Then the new stream has no owner: nothing of that append was written
    assert KeyRing(container.pool).owner_of_stream(stream) is None
    # And when it is appended alone, its owner is written with it
    store.append([StreamAppend(stream, 0, [_registered(customer)])], META)
    fresh = KeyRing(container.pool)
    assert fresh.owner_of_stream(stream) == fresh.owner_of_stream(moved) == str(customer)
    [event] = store.load(stream)
    assert event.to_domain().name == "Ann"  # encrypted under the key, read back


def test_a_key_made_elsewhere_after_the_read_wins_and_the_events_use_it(container):
    # Given a writer whose read found a new customer with no key (so it may make one)
    store, customer = container.store, uuid4()
    ring = store.mapper.keyring
    ring.found({}, asked=[str(customer)])
    assert ring.proposed_key(str(customer)) is not None
    # When another process makes the customer's key first, then the writer appends
    theirs = KeyRing(container.pool).key_for_write(str(customer))
    stream = uuid4()
    store.append([StreamAppend(stream, 0, [_registered(customer)])], META)
    # Then the events were written once, under the key that exists, and linked
    [event] = store.load(stream)
    assert event.to_domain().name == "Ann"
    assert ring.key_for_write(str(customer)) == theirs
    assert KeyRing(container.pool).owner_of_stream(stream) == str(customer)
    with container.pool.connection() as conn:
        keys = conn.execute(
            "SELECT key FROM customer_keys WHERE customer_id = %s", (customer,)
        ).fetchall()
    assert [bytes(k[0]) for k in keys] == [theirs]


def test_a_new_customer_s_key_is_written_with_its_first_events(container):
    # Given a writer whose read found a new customer with no key
    store, customer = container.store, uuid4()
    ring = store.mapper.keyring
    ring.found({}, asked=[str(customer)])
    proposed = ring.proposed_key(str(customer))
    # When it appends the customer's first events
    stream = uuid4()
    store.append([StreamAppend(stream, 0, [_registered(customer)])], META)
    # Then the key it made is the customer's, stored with them, and they read back under it
    fresh = KeyRing(container.pool)
    assert fresh.key_for_read(str(customer)) == proposed == ring.key_for_write(str(customer))
    assert fresh.owner_of_stream(stream) == str(customer)
    assert store.load(stream)[0].to_domain().name == "Ann"
