"""Group commit: concurrent appends share transactions, yet each is checked on its own; with
batches in flight at once, positions still follow commit order and listeners are woken."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest

from commands.context import CommandContext
from domain.errors import ConcurrencyConflict
from domain.product.sku import SkuClaimed
from eventstore.group_commit import KeyTaken, NewKeyTaken, StreamConflict
from eventstore.recorder import IdempotencyRecord
from eventstore.store import IdempotencyKeyTaken, StreamAppend


def claim(stream: uuid.UUID, version: int, n: int = 1) -> StreamAppend:
    return StreamAppend(
        stream,
        version,
        [SkuClaimed(sku=f"GC-{uuid.uuid4().hex}", product_id=uuid.uuid4()) for _ in range(n)],
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


# ---- batches in flight at once ------------------------------------------------------------


def stored(store, stream: uuid.UUID, after_version: int, n: int = 1) -> list:
    meta = CommandContext.new("t").meta()
    return [
        store.mapper.to_stored(stream, after_version + i, claim(stream, 0).events[0], meta)
        for i in range(1, n + 1)
    ]


def wait_until(condition, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@contextmanager
def table_locked(database_url: str):
    """Another writer holding the event table's lock (the library's EXCLUSIVE mode) until the
    block calls ``commit()`` on it; and a connection watching who waits for locks."""
    with (
        psycopg.connect(database_url) as holder,
        psycopg.connect(database_url, autocommit=True) as watcher,
    ):
        holder.execute("LOCK TABLE stored_events IN EXCLUSIVE MODE")

        def waiting_for_locks() -> int:
            return watcher.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]

        try:
            yield holder, waiting_for_locks
        finally:
            holder.rollback()


def move_first(holder: psycopg.Connection, store, stream: uuid.UUID) -> None:
    """As the writer holding the table lock, append version 1 of ``stream`` (uncommitted)."""
    other = stored(store, stream, 0)[0]
    holder.execute(
        "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
        "VALUES (%s, %s, %s, %s)",
        (other.originator_id, other.originator_version, other.topic, other.state),
    )


def test_an_idempotency_key_in_two_batches_in_flight_is_claimed_once(
    store, database_url, new_committer
):
    """Given a batch with key K waiting for the table lock (K claimed, not yet committed),
    when a second batch with K is sent meanwhile on the other connection, it waits for the
    first and then gets KeyTaken; only the first batch's events are written."""
    committer = new_committer(in_flight=2)
    key = f"gc-{uuid.uuid4().hex}"
    first_stream, second_stream = uuid.uuid4(), uuid.uuid4()

    def append(stream: uuid.UUID):
        record = IdempotencyRecord("p", key, "h", stream, 1, {})
        return committer.insert(stored(store, stream, 0), [(stream, 0, 1)], record)

    with ThreadPoolExecutor(2) as pool, table_locked(database_url) as (holder, waiting):
        first = pool.submit(append, first_stream)
        wait_until(lambda: waiting() == 1)  # on the table lock
        second = pool.submit(append, second_stream)
        wait_until(lambda: waiting() == 2)  # on the first batch's key
        assert committer.peak_in_flight == 2
        holder.commit()
        positions = first.result(timeout=10)
        with pytest.raises(KeyTaken):
            second.result(timeout=10)
    assert store.find_idempotent_result("p", key, "h").stream_id == first_stream
    assert store.position_of(first_stream, 1) == positions[0]
    assert store.stream_version(second_stream) == 0


def test_a_batch_whose_stream_moves_while_it_waits_for_the_lock_writes_nothing(
    store, database_url, new_committer
):
    """Given an append to two streams that passed its version check and waits for the lock,
    when another writer appends to one of them first, then the append fails as a whole: no
    event on the other stream, its idempotency key not kept."""
    committer = new_committer()
    moving, untouched = uuid.uuid4(), uuid.uuid4()
    record = IdempotencyRecord("p", f"gc-{uuid.uuid4().hex}", "h", untouched, 1, {})
    events = stored(store, untouched, 0) + stored(store, moving, 0)
    with ThreadPoolExecutor(1) as pool, table_locked(database_url) as (holder, waiting):
        attempt = pool.submit(committer.insert, events, [(untouched, 0, 1), (moving, 0, 1)], record)
        wait_until(lambda: waiting() == 1)
        move_first(holder, store, moving)
        holder.commit()
        with pytest.raises(StreamConflict):
            attempt.result(timeout=10)
    assert store.stream_version(moving) == 1
    assert store.stream_version(untouched) == 0
    assert store.find_idempotent_result("p", record.key, "h") is None


def test_a_batch_sorted_out_request_by_request_wakes_listeners_for_what_it_wrote(
    store, database_url, new_committer
):
    """Given a batch in flight that will fail and two requests queued behind it for one
    stream version, when the lock frees, the two share a batch that cannot be written at once:
    one wins, the other conflicts, and a listener of the event channel is woken after."""
    committer = new_committer(in_flight=1)
    doomed, contested = uuid.uuid4(), uuid.uuid4()

    def append(stream: uuid.UUID):
        return committer.insert(stored(store, stream, 0), [(stream, 0, 1)], None)

    with (
        ThreadPoolExecutor(3) as pool,
        table_locked(database_url) as (holder, waiting),
        psycopg.connect(database_url, autocommit=True) as listener,
    ):
        listener.execute("LISTEN stored_events")
        in_flight = pool.submit(append, doomed)
        wait_until(lambda: waiting() == 1)
        contenders = [pool.submit(append, contested) for _ in range(2)]
        wait_until(lambda: committer.waiting == 2)
        list(listener.notifies(timeout=0.2))  # earlier tests' wake-ups
        move_first(holder, store, doomed)
        holder.commit()
        with pytest.raises(StreamConflict):
            in_flight.result(timeout=10)
        outcomes = []
        for contender in contenders:
            try:
                outcomes.append(contender.result(timeout=10))
            except StreamConflict:
                outcomes.append(None)
        assert committer.batches == 2
        assert len(list(listener.notifies(timeout=5, stop_after=1))) == 1
    [won] = [positions for positions in outcomes if positions is not None]
    assert store.position_of(contested, 1) == won[0]
    assert store.stream_version(contested) == 1


def test_a_listener_is_woken_after_an_append_and_then_reads_it(store, database_url):
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN stored_events")
        list(listener.notifies(timeout=0.2))  # earlier tests' wake-ups
        position = store.append([claim(uuid.uuid4(), 0)], CommandContext.new("t").meta())
        assert len(list(listener.notifies(timeout=5, stop_after=1))) == 1
        head = listener.execute("SELECT max(notification_id) FROM stored_events").fetchone()[0]
    assert head >= position


def test_writers_racing_on_one_stream_with_batches_in_flight_never_both_win(store, new_committer):
    committer = new_committer(in_flight=2)
    stream = uuid.uuid4()
    barrier = threading.Barrier(8)
    wins: list[int] = []

    def write(_):
        barrier.wait()
        for _ in range(25):
            version = store.stream_version(stream)
            try:
                wins.append(
                    committer.insert(stored(store, stream, version), [(stream, version, 1)], None)[
                        0
                    ]
                )
            except StreamConflict:
                pass

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(8)))
    events = store.load_with_positions(stream)
    assert [e.version for e in events] == list(range(1, len(wins) + 1))
    assert sorted(wins) == [e.position for e in events]
    assert committer.peak_in_flight == 2


def test_a_tailing_reader_never_passes_a_position_committed_later(
    store, database_url, new_committer
):
    """Writers append one event per call with two batches in flight while a reader tails by
    position: every position it reads later is above every one it read before, and nothing
    it passed shows up afterwards (commit order is position order)."""
    committer = new_committer(in_flight=2)
    start = store.head()
    written: list[int] = []

    def write(_):
        streams = [uuid.uuid4() for _ in range(5)]
        for n in range(100):
            stream = streams[n % 5]
            version = n // 5
            written.extend(
                committer.insert(stored(store, stream, version), [(stream, version, 1)], None)
            )

    seen: list[int] = []
    with psycopg.connect(database_url, autocommit=True) as reader:

        def read_new() -> None:
            after = seen[-1] if seen else start
            seen.extend(
                row[0]
                for row in reader.execute(
                    "SELECT notification_id FROM stored_events WHERE notification_id > %s "
                    "ORDER BY notification_id",
                    (after,),
                )
            )

        with ThreadPoolExecutor(8) as pool:
            writers = [pool.submit(write, i) for i in range(8)]
            while not all(w.done() for w in writers):
                read_new()
            for w in writers:
                w.result()
        read_new()
        everything = [
            row[0]
            for row in reader.execute(
                "SELECT notification_id FROM stored_events WHERE notification_id > %s "
                "ORDER BY notification_id",
                (start,),
            )
        ]
    assert all(b > a for a, b in zip(seen, seen[1:], strict=False))
    assert seen == everything
    assert set(written) <= set(seen)
    assert committer.peak_in_flight == 2


def test_a_batch_sorted_out_request_by_request_writes_the_links_of_what_it_accepts(
    store, database_url, new_committer
):
    """Given a batch in flight that will fail and two requests queued behind it for one
    stream version, each linking that stream to a customer of its own (``personal data``),
    when the lock frees and the two are sorted out one by one, then the stream is linked to
    the winner's customer only, and the failed batch's stream to no one."""
    committer = new_committer(in_flight=1)
    doomed, contested = uuid.uuid4(), uuid.uuid4()
    customers = [uuid.uuid4() for _ in range(3)]

    def append(stream: uuid.UUID, customer: uuid.UUID):
        return committer.insert(
            stored(store, stream, 0), [(stream, 0, 1)], None, [(stream, customer)]
        )

    with ThreadPoolExecutor(3) as pool, table_locked(database_url) as (holder, waiting):
        in_flight = pool.submit(append, doomed, customers[0])
        wait_until(lambda: waiting() == 1)
        contenders = [pool.submit(append, contested, c) for c in customers[1:]]
        wait_until(lambda: committer.waiting == 2)
        move_first(holder, store, doomed)
        holder.commit()
        with pytest.raises(StreamConflict):
            in_flight.result(timeout=10)
        won = []
        for contender, customer in zip(contenders, customers[1:], strict=True):
            try:
                contender.result(timeout=10)
                won.append(customer)
            except StreamConflict:
                pass
    with psycopg.connect(database_url) as conn:
        links = dict(
            conn.execute(
                "SELECT stream_id, customer_id FROM personal_data_streams "
                "WHERE stream_id = ANY(%s)",
                ([doomed, contested],),
            ).fetchall()
        )
    assert links == {contested: won[0]} and len(won) == 1


def test_a_new_data_key_another_writer_made_first_fails_its_append_alone(
    store, database_url, new_committer
):
    """Given a customer who has a data key, when a request claims a different new key for
    that customer beside a request claiming a key for a new customer, then the first fails
    with NewKeyTaken and writes nothing; the second is written with its key."""
    committer = new_committer()
    known, new = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO customer_keys (customer_id, key) VALUES (%s, %s)", (known, b"k" * 32)
        )
    beaten, fine = uuid.uuid4(), uuid.uuid4()
    gate = threading.Barrier(2)

    def append(stream: uuid.UUID, customer: uuid.UUID):
        gate.wait()
        return committer.insert(
            stored(store, stream, 0), [(stream, 0, 1)], None, [], [(customer, b"n" * 32)]
        )

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.submit(append, beaten, known), pool.submit(append, fine, new)
        with pytest.raises(NewKeyTaken):
            first.result(timeout=10)
        assert second.result(timeout=10)
    assert store.stream_version(beaten) == 0 and store.stream_version(fine) == 1
    with psycopg.connect(database_url) as conn:
        keys = dict(
            conn.execute(
                "SELECT customer_id, key FROM customer_keys WHERE customer_id = ANY(%s)",
                ([known, new],),
            ).fetchall()
        )
    assert keys == {known: b"k" * 32, new: b"n" * 32}
