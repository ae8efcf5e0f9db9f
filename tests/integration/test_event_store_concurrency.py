"""Concurrent writers and a tailing reader: the feed shows every event exactly once, in
strictly increasing position order, even while writers commit in parallel."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

from domain.events import DomainEvent
from eventstore.mapper import EventMapper, EventRegistry
from eventstore.recorded import EventMeta
from eventstore.store import EventStore, StreamAppend

WRITERS = 4
TOTAL_EVENTS = 20_000
STREAMS_PER_WRITER = 5
STREAMS_PER_APPEND = 2
EVENTS_PER_STREAM_PER_APPEND = 2


class Ticked(DomainEvent):
    stream_type: ClassVar[str] = "storetest"
    n: int


def _meta() -> EventMeta:
    return EventMeta(datetime.now(UTC), "writer", str(uuid4()), str(uuid4()))


def _writer(store: EventStore, streams: list[UUID], quota: int, written: set, errors: list):
    versions = dict.fromkeys(streams, 0)
    i = 0
    try:
        while quota > 0:
            appends = []
            for k in range(STREAMS_PER_APPEND):
                stream = streams[(i + k) % len(streams)]
                count = min(EVENTS_PER_STREAM_PER_APPEND, quota)
                if count == 0:
                    break
                events = [Ticked(n=versions[stream] + j) for j in range(1, count + 1)]
                appends.append(StreamAppend(stream, versions[stream], events))
                quota -= count
            store.append(appends, _meta())
            for a in appends:
                for j in range(1, len(a.events) + 1):
                    written.add((a.stream_id, a.expected_version + j))
                versions[a.stream_id] += len(a.events)
            i += 1
    except Exception as exc:  # surfaced by the test
        errors.append(exc)


def test_tailing_reader_sees_every_event_once_in_order_while_writers_append(container):
    store = EventStore(container.store.recorder, EventMapper(EventRegistry([Ticked])))
    start = store.head()
    streams = [[uuid4() for _ in range(STREAMS_PER_WRITER)] for _ in range(WRITERS)]
    ours = {s for group in streams for s in group}
    written: list[set] = [set() for _ in range(WRITERS)]
    errors: list[Exception] = []
    writers = [
        threading.Thread(
            target=_writer, args=(store, streams[w], TOTAL_EVENTS // WRITERS, written[w], errors)
        )
        for w in range(WRITERS)
    ]
    seen_positions: list[int] = []
    seen_ours: list[tuple[UUID, int]] = []
    last = start

    def read_page() -> int:
        nonlocal last
        page = store.read_all(after=last, limit=500)
        for event in page:
            seen_positions.append(event.position)
            if event.stream_id in ours:
                seen_ours.append((event.stream_id, event.version))
        if page:
            last = page[-1].position
        return len(page)

    for t in writers:
        t.start()
    while any(t.is_alive() for t in writers):
        read_page()
    for t in writers:
        t.join()
    assert not errors, errors
    while read_page():
        pass

    all_written = set().union(*written)
    assert len(all_written) == TOTAL_EVENTS
    assert all(b > a for a, b in zip(seen_positions, seen_positions[1:], strict=False))
    assert len(seen_ours) == len(set(seen_ours)) == TOTAL_EVENTS
    assert set(seen_ours) == all_written
    # Nothing the tailing reader passed was filled in later: a fresh read agrees.
    afresh: list[int] = []
    after = start
    while page := store.read_all(after=after, limit=500):
        afresh += [e.position for e in page]
        after = page[-1].position
    assert afresh[: len(seen_positions)] == seen_positions
