"""The event table's metadata columns (``occurred_at``, ``actor``, ``correlation_id``;
migration 033): every append writes them as a copy of the state's metadata, so indexing an
event parses nothing; the feed's filters find events with them and events appended before
them alike, through their indexes."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from eventstore.feed_query import EventFilter, matching_query, read_matching
from eventstore.recorded import EventMeta
from tests.integration.test_group_commit import claim, table_locked, wait_until

COLUMNS_AND_STATE = (
    "SELECT occurred_at, actor, correlation_id, event_occurred_at(state), "
    "event_meta(state, 'actor'), event_meta(state, 'correlation_id') "
    "FROM stored_events WHERE originator_id = %s ORDER BY originator_version"
)


def meta(actor: str, correlation: str, at: datetime) -> EventMeta:
    return EventMeta(occurred_at=at, actor=actor, correlation_id=correlation, causation_id="c")


def columns_and_state(database_url: str, stream: uuid.UUID) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(COLUMNS_AND_STATE, (stream,)).fetchall()


def test_an_append_writes_the_metadata_columns_as_a_copy_of_the_state(store, database_url):
    """Given an append of three events, when it is committed, then each row's columns hold
    exactly what its state's metadata says (and nothing is left NULL)."""
    stream, at = uuid.uuid4(), datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    store.append([claim(stream, 0, 3)], meta("user:ann", "req-cols", at))
    rows = columns_and_state(database_url, stream)
    assert len(rows) == 3
    for occurred, actor, correlation, *from_state in rows:
        assert (occurred, actor, correlation) == tuple(from_state) == (at, "user:ann", "req-cols")


def test_a_batch_sorted_out_request_by_request_writes_the_columns_too(
    store, database_url, new_committer
):
    """Given two requests for one stream version queued in one batch (it cannot be written at
    once), when the batch is sorted out request by request, then the winner's row has its
    columns."""
    committer = new_committer(in_flight=1)
    first, contested = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 1, 2, tzinfo=UTC)

    def append(stream: uuid.UUID):
        event = claim(stream, 0).events[0]
        stored = store.mapper.to_stored(stream, 1, event, meta("user:bo", "req-many", at))
        try:
            return committer.insert([stored], [(stream, 0, 1)], None)
        except Exception:  # the loser's conflict
            return None

    with ThreadPoolExecutor(3) as pool, table_locked(database_url) as (holder, waiting):
        ahead = pool.submit(append, first)
        wait_until(lambda: waiting() == 1)
        contenders = [pool.submit(append, contested) for _ in range(2)]
        wait_until(lambda: committer.waiting == 2)
        holder.commit()
        assert ahead.result(timeout=10) is not None
        outcomes = [c.result(timeout=10) for c in contenders]
    assert sum(o is not None for o in outcomes) == 1
    assert committer.batches == 2
    [(occurred, actor, correlation, *from_state)] = columns_and_state(database_url, contested)
    assert (occurred, actor, correlation) == tuple(from_state) == (at, "user:bo", "req-many")


@pytest.fixture
def old_and_new(store, database_url):
    """One event inserted as before the columns existed (state only) and one appended now,
    with the same actor and correlation id, a day apart; returns their streams and times."""
    old_stream, new_stream = uuid.uuid4(), uuid.uuid4()
    tag = uuid.uuid4().hex[:8]
    old_at = datetime(2025, 6, 1, 12, tzinfo=UTC)
    new_at = old_at + timedelta(days=1)
    before = store.mapper.to_stored(
        old_stream, 1, claim(old_stream, 0).events[0], meta(f"user:{tag}", tag, old_at)
    )
    with psycopg.connect(database_url) as conn:
        conn.execute("LOCK TABLE stored_events IN EXCLUSIVE MODE")  # as every writer does
        conn.execute(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)",
            (before.originator_id, before.originator_version, before.topic, before.state),
        )
    store.append([claim(new_stream, 0)], meta(f"user:{tag}", tag, new_at))
    assert [r[:3] for r in columns_and_state(database_url, old_stream)] == [(None, None, None)]
    return tag, old_stream, new_stream, old_at, new_at


def test_each_filter_finds_events_with_and_without_the_columns(store, old_and_new):
    tag, old_stream, new_stream, old_at, new_at = old_and_new

    def streams(flt: EventFilter) -> list[uuid.UUID]:
        return [e.stream_id for e in read_matching(store, flt, limit=100)]

    assert streams(EventFilter(correlation_id=tag)) == [old_stream, new_stream]
    assert streams(EventFilter(actor=f"user:{tag}")) == [old_stream, new_stream]
    day = timedelta(days=1)
    assert streams(EventFilter(occurred_from=old_at, occurred_to=new_at + day)) == [
        old_stream,
        new_stream,
    ]
    assert streams(EventFilter(occurred_from=new_at, occurred_to=new_at + day)) == [new_stream]
    assert streams(EventFilter(occurred_from=old_at, occurred_to=new_at)) == [old_stream]


@pytest.mark.parametrize(
    ("flt", "index"),
    [
        (EventFilter(correlation_id="x"), "stored_events_meta_correlation_idx"),
        (EventFilter(actor="user:x"), "stored_events_meta_actor_idx"),
        (
            EventFilter(
                occurred_from=datetime(2025, 6, 1, tzinfo=UTC),
                occurred_to=datetime(2025, 6, 1, 0, 0, 1, tzinfo=UTC),
            ),
            "stored_events_meta_occurred_at_idx",
        ),
    ],
)
def test_each_metadata_filter_reads_its_index(store, database_url, old_and_new, flt, index):
    """The filters compare exactly the indexed expressions (a query that differs from them
    would still answer, by reading and parsing every event). Each filter here matches next
    to nothing, and the planner knows it (fresh statistics), so its index is the way in."""
    query, params = matching_query(store.table, flt, after=0, limit=50)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE stored_events")
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0] for r in conn.execute(psycopg.sql.SQL("EXPLAIN ") + query, params).fetchall()
        )
    assert index in plan, plan


def test_the_older_append_signature_appends_through_the_new_one(store, database_url):
    """Code from before the columns calls ``ecom_append_quiet`` without them: its events are
    appended (NULL columns, found by parsing) and a moved stream still refuses the batch."""
    stream = uuid.uuid4()
    stored = store.mapper.to_stored(
        stream, 1, claim(stream, 0).events[0], meta("user:old", "req-old", datetime.now(UTC))
    )
    call = (
        "SELECT ecom_append_quiet(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[], "
        "%s::uuid[], %s::bigint[], '{}', '{}', '{}', '{}', '{}', '{}', '5s')"
    )
    params = ([stream], [1], [stored.topic], [stored.state], [stream], [0])
    with psycopg.connect(database_url, autocommit=True) as conn:
        [(position,)] = conn.execute(call, params).fetchall()
        with pytest.raises(psycopg.Error) as moved:
            conn.execute(call, params)
    assert moved.value.sqlstate == "EC002"
    assert store.position_of(stream, 1) == position
    [(occurred, actor, correlation, _, *from_state)] = columns_and_state(database_url, stream)
    assert (occurred, actor, correlation) == (None, None, None)
    assert from_state == ["user:old", "req-old"]
    assert read_matching(store, EventFilter(correlation_id="req-old"))[-1].stream_id == stream
