"""The relay parks an event the producer refuses (larger than its ``message.max.bytes``), with
the later events of its stream behind it, unsent; every other stream is relayed; an operator's
retry, once the relay can send it, delivers the parked stream in order and clears it."""

from __future__ import annotations

import uuid
from typing import ClassVar

import orjson

from domain.events import DomainEvent
from eventstore.follower import RetryPolicy
from eventstore.store import StreamAppend
from scaleout.relay import Relay, follower_name, relay_status
from tests.kafka.conftest import KtPinged, meta, unique
from tests.kafka.helpers import read_topic, topic


class KtNoted(DomainEvent):
    stream_type: ClassVar[str] = "kt"
    text: str


def relayed(broker, prefix: str) -> list[tuple[str, int]]:
    """(stream id, version) of every message on the prefix's ``kt`` topic, in offset order
    per partition (a stream's messages share a partition)."""
    msgs = sorted(
        read_topic(broker.bootstrap, topic(prefix, "kt"), idle_s=2.0), key=lambda m: m[:2]
    )
    return [(env["stream_id"], env["version"]) for env in (orjson.loads(m[4]) for m in msgs)]


def test_an_event_the_producer_refuses_is_parked_with_its_stream_and_retried(
    container, broker, kt_mapper
):
    registry = kt_mapper.registry
    if registry.get(KtNoted.stored_name()) is None:
        registry.register(KtNoted)
    store = container.store
    start = store.head()
    big, small, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    store.append([StreamAppend(small, 0, [KtPinged(n=1)])], meta())
    store.append([StreamAppend(big, 0, [KtNoted(text="x" * 5000)])], meta())  # too large
    store.append([StreamAppend(big, 1, [KtPinged(n=2)])], meta())  # small, but behind it
    store.append([StreamAppend(other, 0, [KtPinged(n=3)])], meta())
    store.append([StreamAppend(small, 1, [KtPinged(n=4)])], meta())
    prefix = unique("rpark-")
    fast = RetryPolicy(attempts=3, backoff_s=0.01)

    # when a relay whose producer takes at most 2000 bytes a message runs until caught up
    Relay(
        container.pool, broker.bootstrap, prefix=prefix, start_position=start, retry=fast,
        producer_config={"message.max.bytes": 2000},
    ).run(until_caught_up=True)  # fmt: skip

    # then the large event is parked with the event behind it, the others are relayed
    parked = container.parking.list(follower_name(prefix))
    assert [(p.stream_id, p.stream_version, p.behind) for p in parked] == [
        (big, 1, None),
        (big, 2, parked[0].id),
    ]
    assert parked[0].attempts == 3 and "MSG_SIZE_TOO_LARGE" in parked[0].error
    status = relay_status(container.pool, prefix)
    assert status.lag == 0 and status.parked == 2
    assert sorted(relayed(broker, prefix)) == sorted(
        [(str(small), 1), (str(other), 1), (str(small), 2)]
    )

    # when an operator retries it and a relay that can send it runs again
    outcome = container.parking.retry(parked[0].id)
    assert outcome.requested and outcome.still_parked == 2
    Relay(container.pool, broker.bootstrap, prefix=prefix, start_position=start, retry=fast).run(
        until_caught_up=True
    )

    # then the parked stream is delivered in order and nothing stays parked
    assert container.parking.list(follower_name(prefix)) == []
    got = relayed(broker, prefix)
    assert [v for s, v in got if s == str(big)] == [1, 2]
    assert len(got) == 5
