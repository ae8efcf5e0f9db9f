"""The event store against real PostgreSQL: upcasting stored data, optimistic concurrency,
atomic multi-stream appends, the metadata envelope and order numbers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import ClassVar
from uuid import uuid4

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from domain.errors import ConcurrencyConflict
from domain.events import DomainEvent
from eventstore.mapper import EventMapper, EventRegistry
from eventstore.recorded import EventMeta
from eventstore.store import ORDER_NUMBER_BLOCK, EventStore, StreamAppend


class Noted(DomainEvent):
    stream_type: ClassVar[str] = "storetest"
    text: str


class MemberRenamed(DomainEvent):
    """Version 2: ``name`` became ``full_name`` and ``tier`` was added."""

    stream_type: ClassVar[str] = "storetest"
    schema_version: ClassVar[int] = 2
    upcasters: ClassVar = {1: lambda d: {"full_name": d["name"], "tier": "basic"}}
    full_name: str
    tier: str


META = EventMeta(
    occurred_at=datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
    actor="auditor@example.com",
    correlation_id="corr-1",
    causation_id="cause-1",
)


@pytest.fixture
def test_store(container) -> EventStore:
    return EventStore(container.store.recorder, EventMapper(EventRegistry([Noted, MemberRenamed])))


def test_an_event_stored_at_version_1_loads_upcast_as_version_2(test_store):
    stream = uuid4()
    state = {"v": 1, "m": META.as_json(), "d": {"name": "Ada Lovelace"}}
    test_store.recorder.insert_events(
        [StoredEvent(stream, 1, MemberRenamed.stored_name(), orjson.dumps(state))]
    )
    [event] = test_store.load(stream)
    assert event.schema_version == 2
    assert event.to_domain() == MemberRenamed(full_name="Ada Lovelace", tier="basic")
    [fed] = test_store.load_with_positions(stream)
    assert fed.data == {"full_name": "Ada Lovelace", "tier": "basic"} and fed.position


def test_appending_at_a_stale_version_conflicts_and_writes_nothing(test_store):
    stream = uuid4()
    test_store.append([StreamAppend(stream, 0, [Noted(text="first")])], META)
    with pytest.raises(ConcurrencyConflict):
        test_store.append([StreamAppend(stream, 0, [Noted(text="stale"), Noted(text="x")])], META)
    assert [e.data["text"] for e in test_store.load(stream)] == ["first"]
    test_store.append([StreamAppend(stream, 1, [Noted(text="second")])], META)
    assert test_store.stream_version(stream) == 2


def test_a_multi_stream_append_with_one_conflicting_stream_writes_no_stream(test_store):
    fresh, busy, other = uuid4(), uuid4(), uuid4()
    test_store.append([StreamAppend(busy, 0, [Noted(text="taken")])], META)
    with pytest.raises(ConcurrencyConflict):
        test_store.append(
            [
                StreamAppend(fresh, 0, [Noted(text="a")]),
                StreamAppend(other, 0, [Noted(text="b"), Noted(text="c")]),
                StreamAppend(busy, 0, [Noted(text="clash")]),
            ],
            META,
        )
    assert test_store.load(fresh) == [] and test_store.load(other) == []
    assert [e.data["text"] for e in test_store.load(busy)] == ["taken"]


def test_a_multi_stream_append_returns_the_last_position_of_all_its_events(test_store):
    a, b = uuid4(), uuid4()
    position = test_store.append(
        [StreamAppend(a, 0, [Noted(text="a1")]), StreamAppend(b, 0, [Noted(text="b1")])], META
    )
    positions = [e.position for e in test_store.load_with_positions(a)]
    positions += [e.position for e in test_store.load_with_positions(b)]
    assert position == max(positions)


def test_metadata_round_trips_through_every_read_path(test_store):
    stream = uuid4()
    position = test_store.append([StreamAppend(stream, 0, [Noted(text="hello")])], META)
    [loaded] = test_store.load(stream)
    [with_position] = test_store.load_with_positions(stream)
    [fed] = [e for e in test_store.read_all(after=position - 1, limit=1) if e.stream_id == stream]
    for event in (loaded, with_position, fed):
        assert event.meta == META
        assert event.meta.occurred_at.tzinfo is not None
        assert event.type == "storetest.Noted" and event.version == 1
    assert with_position.position == fed.position == position
    item = fed.feed_item()
    assert item["occurred_at"] == "2026-03-04T05:06:07.891011+00:00"
    assert (item["actor"], item["correlation_id"], item["causation_id"]) == (
        "auditor@example.com",
        "corr-1",
        "cause-1",
    )


def test_reading_the_feed_by_topic_returns_only_those_types(test_store):
    stream = uuid4()
    start = test_store.head()
    test_store.append([StreamAppend(stream, 0, [Noted(text="t")])], META)
    events = test_store.read_all(after=start, limit=500, topics=["storetest.Noted"])
    assert events and {e.type for e in events} == {"storetest.Noted"}


def test_order_numbers_are_unique_across_processes_and_grow_in_each(container):
    # Given two stores over one database (two processes), each handing out numbers in blocks
    stores = [container.store, EventStore(container.store.recorder, container.store.mapper)]
    # When each is asked by four threads at once, 3.5 blocks' worth of numbers in all
    per_thread = ORDER_NUMBER_BLOCK * 7 // 16

    def take(store: EventStore) -> list[int]:
        return [store.next_order_number() for _ in range(per_thread)]

    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(take, [s for s in stores for _ in range(4)]))
    # Then no number is handed out twice, and each thread saw its numbers grow
    everything = [n for numbers in taken for n in numbers]
    assert len(set(everything)) == len(everything) == 8 * per_thread
    assert all(numbers == sorted(numbers) for numbers in taken)
