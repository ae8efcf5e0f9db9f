"""Poison events are parked with a reason and do not stop the projection; an operator lists,
retries and skips them."""

from __future__ import annotations

import threading
import uuid

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from eventstore.store import StreamAppend
from scaleout import dead_letters
from scaleout.consumer import KafkaProjector
from scaleout.relay import Relay
from tests.kafka.conftest import KtBogus, KtCounts, KtPinged, meta, unique
from tests.kafka.helpers import in_thread, table_rows, wait_until


def test_poison_events_are_parked_and_the_operator_can_list_retry_and_skip_them(
    container, broker, kt_mapper
):
    store = container.store
    prefix, group = unique("dl-"), unique("g-dl-")
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    start = store.head()
    store.append([StreamAppend(a, 0, [KtPinged(n=1), KtPinged(n=2)])], meta())
    store.append([StreamAppend(b, 0, [KtBogus(n=1)])], meta())  # a type nobody knows
    bad = orjson.dumps({"v": 1, "m": meta().as_json(), "d": {"n": "not a number"}})
    store.recorder.insert_events([StoredEvent(c, 1, KtPinged.stored_name(), bad)])
    store.append([StreamAppend(d, 0, [KtPinged(n=666)])], meta())  # the projection raises
    store.append([StreamAppend(a, 2, [KtPinged(n=3)])], meta())  # after the poison: applied

    def mine(schema: str) -> list:
        rows = table_rows(container.pool, schema, "counts", "stream_id", "stream_id, pings, total")
        return [r for r in rows if r[0] in (a, b, c, d)]

    def parked_mine(status: str | None = "parked") -> list:
        rows = dead_letters.list_dead_letters(container.pool, group, status, limit=1000)
        return [r for r in rows if r["stream_id"] in (b, c, d)]

    relay = Relay(
        container.pool, broker.bootstrap, prefix=prefix, partitions=3, start_position=start
    )
    relay.run(until_caught_up=True)
    projector = KafkaProjector(
        container.pool, kt_mapper, [KtCounts()], broker.bootstrap, group, prefix=prefix
    )
    stop = threading.Event()
    t = in_thread(projector.run, until=stop.is_set)
    schema = projector.schema("kt_counts")
    try:
        wait_until(
            lambda: len(parked_mine()) == 3 and mine(schema) == [(a, 3, 6)],
            90,
            "three parked events and stream a applied",
        )
    finally:
        stop.set()
        t.join(30)

    parked = {p["stream_id"]: p for p in parked_mine()}
    assert parked[b]["reason"].startswith("unknown_event_type")
    assert parked[c]["reason"].startswith("invalid_data")
    assert parked[d]["reason"].startswith("apply_failed")
    assert mine(schema) == [(a, 3, 6)]

    # Retrying an unknown type keeps it parked with its reason; skip marks one skipped.
    ok, reason = dead_letters.retry(container.pool, kt_mapper, [KtCounts()], group, parked[b]["id"])
    assert not ok and reason.startswith("unknown_event_type")
    dead_letters.skip(container.pool, group, parked[d]["id"])
    with pytest.raises(dead_letters.DeadLetterNotFound):
        dead_letters.skip(container.pool, group, parked[d]["id"])
    # After a fix is deployed (here: the program learns the type), a retry applies the event.
    kt_mapper.registry.register(KtBogus)
    fixed = KtCounts()
    fixed.topics = (*KtCounts.topics, KtBogus.stored_name())
    ok, reason = dead_letters.retry(container.pool, kt_mapper, [fixed], group, parked[b]["id"])
    assert ok, reason
    assert mine(schema) == sorted([(a, 3, 6), (b, 1, 1)])
    left = parked_mine(status=None)
    assert {p["stream_id"]: p["status"] for p in left} == {b: "retried", c: "parked", d: "skipped"}
