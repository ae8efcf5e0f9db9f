"""The key ring against real PostgreSQL: linking a stream gives a new customer its key in the
same statement, and its in-process tables stay bounded without losing anything."""

from __future__ import annotations

from uuid import uuid4

from eventstore.privacy import KeyRing


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
