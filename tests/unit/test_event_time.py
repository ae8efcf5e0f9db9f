"""Event time, pure parts: the clamp that keeps time from going back within a stream, the
state cache keeping a stream's last time beside its state, and the prefix ``as_of`` folds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from commands.time_travel import events_until
from commands.unit_of_work import StateCache
from eventstore.recorded import EventMeta, RecordedEvent

T0 = datetime(2026, 1, 1, tzinfo=UTC)
instants = st.integers(-(10**9), 10**9).map(lambda us: T0 + timedelta(microseconds=us))


def meta(at: datetime) -> EventMeta:
    return EventMeta(at, "tester", "corr", "cause")


@given(at=instants, last=st.none() | instants)
def test_an_event_is_stamped_at_its_decider_s_time_or_the_stream_s_last_if_later(at, last):
    stamped = meta(at).not_before(last)
    assert stamped.occurred_at == (at if last is None else max(at, last))
    assert stamped._replace(occurred_at=at) == meta(at)  # nothing else changes


@given(decided=st.lists(instants, min_size=1, max_size=20), last=st.none() | instants)
def test_stamping_one_after_another_never_goes_back(decided, last):
    # given decisions stamped by clocks that step back and forth, after a stream's last event
    stamps, previous = [], last
    for at in decided:
        previous = meta(at).not_before(previous).occurred_at
        stamps.append(previous)
    # then the stream's times never decrease, and each is its decider's time or a later one
    assert stamps == sorted(stamps)
    assert all(s >= at for s, at in zip(stamps, decided, strict=True))
    assert last is None or stamps[0] >= last
    # and a decider's time is kept whenever it is not behind
    for i, at in enumerate(decided):
        before = stamps[i - 1] if i else last
        if before is None or at >= before:
            assert stamps[i] == at


def test_the_state_cache_keeps_the_last_time_beside_the_state():
    cache, stream = StateCache(size=2), UUID(int=1)
    cache.put(stream, 3, "state at 3", T0)
    assert cache.get(stream) == (3, "state at 3")
    assert cache.entry(stream) == (3, "state at 3", T0)
    cache.put(stream, 2, "older", T0 - timedelta(hours=1))  # never back to an older state
    assert cache.entry(stream) == (3, "state at 3", T0)
    cache.put(stream, 4, "state at 4")
    assert cache.entry(stream) == (4, "state at 4", None)


def recorded(version: int, at: datetime) -> RecordedEvent:
    return RecordedEvent(None, UUID(int=9), "order", version, "order.X", 1, meta(at), {})


@given(gaps=st.lists(st.integers(0, 5), min_size=1, max_size=10), probe=st.integers(-1, 60))
def test_as_of_takes_the_prefix_of_the_events_up_to_the_instant(gaps, probe):
    # given a stream whose times never decrease
    times, at = [], T0
    for gap in gaps:
        at += timedelta(seconds=gap)
        times.append(at)
    events = [recorded(i, t) for i, t in enumerate(times, start=1)]
    # when it is read as of an instant
    instant = T0 + timedelta(seconds=probe)
    prefix = events_until(events, as_of=instant)
    # then it is every event up to that instant, and only those
    assert prefix == [e for e in events if e.meta.occurred_at <= instant]
    assert prefix == events[: len(prefix)]


def test_as_of_stops_at_the_first_later_event_of_an_older_stream_out_of_order():
    # given a stream written before time was kept in order (its third event stamped earlier)
    events = [
        recorded(1, T0),
        recorded(2, T0 + timedelta(seconds=10)),
        recorded(3, T0 + timedelta(seconds=1)),
    ]
    # then as of an instant between the first two, the state is after the first only
    assert events_until(events, as_of=T0 + timedelta(seconds=5)) == events[:1]


def test_the_state_cache_says_a_state_is_fresh_for_a_request_begun_before_the_read_that_found_it():
    cache, stream = StateCache(size=2), UUID(int=1)
    cache.put(stream, 3, "state at 3", T0, checked=10.0)  # a read begun at 10 found version 3
    assert cache.fresh_since(stream, 9.5) == (3, "state at 3", T0)  # a request begun before
    assert cache.fresh_since(stream, 10.5) is None  # a request begun after: read again
    cache.put(stream, 3, "state at 3", T0, checked=11.0)  # found unchanged by a later read
    assert cache.fresh_since(stream, 10.5) == (3, "state at 3", T0)
    cache.put(stream, 3, "state at 3", T0, checked=5.0)  # an earlier read does not age it
    assert cache.fresh_since(stream, 10.5) is not None
    cache.put(stream, 4, "state at 4")  # moved on by a write: fresh for no one until read
    assert cache.fresh_since(stream, 0.0) is None and cache.entry(stream)[0] == 4
