"""The relay delivers every stored event to Kafka, keyed by stream, in order per stream."""

from __future__ import annotations

import time
from collections import defaultdict
from uuid import UUID

import orjson

from scaleout.relay import Relay, relay_status
from tests.kafka.conftest import unique, write_pings
from tests.kafka.helpers import read_topic, topic


def test_100000_events_are_relayed_with_none_lost_and_order_per_key_kept(
    container, broker, kt_mapper
):
    store = container.store
    start = store.head()
    t0 = time.monotonic()
    ids = write_pings(store, streams=1000, per_stream=100, per_txn=1000)
    written = time.monotonic() - t0
    prefix = unique("r100k-")
    relay = Relay(
        container.pool, broker.bootstrap, prefix=prefix, partitions=6, start_position=start
    )
    t1 = time.monotonic()
    relay.run(until_caught_up=True)
    relayed = time.monotonic() - t1
    print(f"wrote 100k in {written:.1f}s, relayed {store.head() - start} in {relayed:.1f}s")
    assert relay_status(container.pool, prefix).lag == 0

    msgs = read_topic(broker.bootstrap, topic(prefix, "kt"))
    mine = set(ids)
    by_key: dict[UUID, list[int]] = defaultdict(list)
    positions: dict[tuple[UUID, int], set[int]] = defaultdict(set)
    for _p, _o, key, headers, value in msgs:
        env = orjson.loads(value)
        sid = UUID(env["stream_id"])
        assert key.decode() == env["stream_id"] == headers["ecom-stream-id"].decode()
        assert headers["ecom-type"].decode() == env["type"]
        if sid in mine:
            by_key[sid].append(env["version"])
            positions[(sid, env["version"])].add(env["position"])
    assert set(by_key) == mine
    for sid in mine:
        firsts = []
        for v in by_key[sid]:
            if not firsts or v > firsts[-1]:
                firsts.append(v)
            else:
                assert v in firsts  # a duplicate, never an unseen version out of order
        assert firsts == list(range(1, 101))
    assert all(len(p) == 1 for p in positions.values())  # every duplicate has the same position
    assert sum(len(v) for v in by_key.values()) >= 100_000
