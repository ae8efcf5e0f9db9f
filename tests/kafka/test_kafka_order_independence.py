"""One projection code, one result, whatever the source: the events of a store-wide scenario
(orders, payments, stock, plans, a forgotten customer), delivered as Kafka may deliver them
(each aggregate's events in order, aggregates interleaved at random across partitions and
topics, batches of random size), build through the consumer's apply path the same rows as the
in-process build, which applies them in position order (hypothesis; no broker needed)."""

from __future__ import annotations

import random
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.registry import all_projections
from scaleout.consumer import KafkaProjector
from tests.kafka.reorder import (
    apply_batches,
    compare_views,
    drop_group,
    kafka_order,
    messages,
    stored_rows,
)

PROJECTIONS = all_projections()
TYPES = sorted({t for p in PROJECTIONS for t in p.topics})


def projector(container, group: str) -> KafkaProjector:
    return KafkaProjector(container.pool, container.store.mapper, PROJECTIONS, "unused:9092", group)


@pytest.fixture(scope="module")
def built(container, scenario_range):
    """The scenario's events, and their in-process build: position order, batches of 1,000
    (the runner's), through the same apply path."""
    start, end = scenario_range
    rows = stored_rows(container.pool, start, end, TYPES)
    assert {r["topic"].split(".", 1)[0] for r in rows} >= {"order", "payment", "inventory"}
    reference = projector(container, f"ref-{uuid.uuid4().hex[:8]}")
    ordered = [m for log in messages(rows, 1).values() for m in log]
    ordered.sort(key=lambda m: int(dict(m.headers())["ecom-position"]))
    apply_batches(reference, [ordered[i : i + 1000] for i in range(0, len(ordered), 1000)])
    yield rows, reference
    drop_group(container.pool, reference)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rnd=st.randoms(use_true_random=False), partitions=st.integers(1, 6),
       max_batch=st.integers(1, 40))  # fmt: skip
def test_any_delivery_order_kafka_allows_builds_the_in_process_rows(
    container, built, rnd: random.Random, partitions: int, max_batch: int
):
    rows, reference = built
    # Given the scenario's events as the relay produces them, in an order Kafka allows
    batches = kafka_order(messages(rows, partitions), rnd, max_batch)
    kafka = projector(container, f"shuffle-{uuid.uuid4().hex[:8]}")
    try:
        # When a consumer applies them batch by batch
        apply_batches(kafka, batches)
        # Then every table of every view equals the in-process build, and nothing was parked
        diffs = compare_views(container.pool, PROJECTIONS, kafka.schema, reference.schema)
        with container.pool.connection() as conn:
            parked = conn.execute(
                "SELECT type, reason FROM kafka_dead_letters WHERE group_name = %s",
                (kafka.group,),
            ).fetchall()
        assert not parked, parked
        assert not diffs, "\n".join(diffs)
    finally:
        drop_group(container.pool, kafka)
