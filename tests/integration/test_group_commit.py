"""Group commit: concurrent appends share transactions, yet each is checked on its own."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from commands.context import CommandContext
from domain.catalog.sku import SkuClaimed
from domain.errors import ConcurrencyConflict
from eventstore.recorder import IdempotencyRecord
from eventstore.store import IdempotencyKeyTaken, StreamAppend


def claim(stream: uuid.UUID, version: int, n: int = 1) -> StreamAppend:
    return StreamAppend(
        stream,
        version,
        [SkuClaimed(sku=f"GC-{uuid.uuid4().hex[:6]}", product_id=uuid.uuid4()) for _ in range(n)],
    )


def test_of_many_writers_at_one_expected_version_exactly_one_wins(store):
    stream = uuid.uuid4()
    barrier = threading.Barrier(24)

    def write(_):
        barrier.wait()
        try:
            return store.append([claim(stream, 0)], CommandContext.new("t").meta())
        except ConcurrencyConflict:
            return None

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(write, range(24)))
    assert sum(r is not None for r in results) == 1
    assert [e.version for e in store.load(stream)] == [1]


def test_writers_on_their_own_streams_all_win_with_distinct_increasing_positions(store):
    streams = [uuid.uuid4() for _ in range(32)]
    barrier = threading.Barrier(32)

    def write(stream):
        barrier.wait()
        return store.append([claim(stream, 0, 3)], CommandContext.new("t").meta())

    with ThreadPoolExecutor(32) as pool:
        positions = list(pool.map(write, streams))
    assert len(set(positions)) == 32
    for stream in streams:
        assert [e.version for e in store.load(stream)] == [1, 2, 3]


def test_one_idempotency_key_in_flight_twice_is_written_once(store):
    barrier = threading.Barrier(12)
    key = f"gc-{uuid.uuid4().hex}"

    def write(_):
        stream = uuid.uuid4()
        record = IdempotencyRecord("p", key, "h", stream, 1, {})
        barrier.wait()
        try:
            store.append([claim(stream, 0)], CommandContext.new("t").meta(), record)
            return stream
        except IdempotencyKeyTaken:
            return None

    with ThreadPoolExecutor(12) as pool:
        winners = [s for s in pool.map(write, range(12)) if s is not None]
    assert len(winners) == 1
    assert store.find_idempotent_result("p", key, "h").stream_id == winners[0]


def test_a_large_append_may_write_one_stream_twice_in_order(store):
    stream = uuid.uuid4()
    store.append([claim(stream, 0, 60), claim(stream, 60, 60)], CommandContext.new("t").meta())
    assert [e.version for e in store.load(stream)] == list(range(1, 121))


def test_racing_keys_and_versions_in_shared_batches_end_in_domain_answers_only(store):
    """Writers that collide on keys and on stream versions, in every mix a batch can hold:
    each gets its events written, a conflict or a taken key, never a storage error."""
    streams = [uuid.uuid4() for _ in range(3)]
    keys = [f"gc-mix-{uuid.uuid4().hex}" for _ in range(3)]
    barrier = threading.Barrier(30)
    outcomes: list[str] = []

    def write(i: int) -> None:
        stream = streams[i % 3]
        record = IdempotencyRecord("p", keys[i % 3], "h", stream, 1, {}) if i % 2 else None
        barrier.wait()
        for _ in range(5):
            version = store.stream_version(stream)
            try:
                store.append([claim(stream, version)], CommandContext.new("t").meta(), record)
                outcomes.append("written")
            except ConcurrencyConflict:
                outcomes.append("conflict")
            except IdempotencyKeyTaken:
                outcomes.append("key_taken")

    with ThreadPoolExecutor(30) as pool:
        list(pool.map(write, range(30)))  # any other exception is raised here
    assert len(outcomes) == 150
    for stream in streams:
        versions = [e.version for e in store.load(stream)]
        assert versions == list(range(1, len(versions) + 1))
    assert outcomes.count("written") == sum(len(store.load(s)) for s in streams)
