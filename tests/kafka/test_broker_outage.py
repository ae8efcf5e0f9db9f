"""The broker stopped for 60 s mid-stream and started again empty (memory storage): the relay
backs off, recreates the topics, resends what the new broker lacks, and the read models built
through Kafka equal the in-process ones."""

from __future__ import annotations

import threading
import time

from projections.locations import LocationsView
from projections.runner import ProjectionRunner
from scaleout.consumer import KafkaProjector
from scaleout.relay import Relay, relay_status
from tests.kafka.conftest import Broker, KtCounts, unique, write_pings
from tests.kafka.helpers import in_thread, table_rows, wait_until
from tests.kafka.test_projector_group import COLUMNS, write_locations


def test_broker_down_60_s_then_back_empty_relay_resumes_and_read_models_match(container, kt_mapper):
    broker = Broker()
    broker.start()
    store = container.store
    prefix, group = unique("out-"), unique("g-out-")
    start = store.head()
    relay = Relay(
        container.pool,
        broker.bootstrap,
        prefix=prefix,
        message_timeout_ms=5000,
        start_position=start,
    )
    projector = KafkaProjector(
        container.pool,
        kt_mapper,
        [KtCounts(), LocationsView()],
        broker.bootstrap,
        group,
        prefix=prefix,
    )
    local = ProjectionRunner(container.pool, kt_mapper, [KtCounts()])
    local.ensure_schemas()
    stop = threading.Event()
    threads = [in_thread(relay.run), in_thread(projector.run, until=stop.is_set)]
    epoch_before = relay_status(container.pool, prefix).epoch
    tags = (unique("o1"), unique("o2"))
    try:
        ids = write_pings(store, streams=200, per_stream=25)
        write_locations(store, 300, tags[0])
        wait_until(lambda: projector.applied > 1000, 90, "the consumer applying events")
        broker.stop()
        down_at = time.monotonic()
        ids += write_pings(store, streams=200, per_stream=25)  # while the broker is down
        while time.monotonic() - down_at < 60:
            ids += write_pings(store, streams=20, per_stream=5)
            time.sleep(5)
        errors_while_down = relay.errors
        broker.start()
        ids += write_pings(store, streams=200, per_stream=25)
        write_locations(store, 300, tags[1])
        wait_until(
            lambda: relay_status(container.pool, prefix).lag == 0, 120, "the relay catching up"
        )
        local.catch_up(["kt_counts"], timeout_s=120)
        container.runner.catch_up(["locations"], timeout_s=120)

        def equal() -> bool:
            """Equal over this test's streams (the relay started at its first event)."""
            counts = "stream_id, pings, total, version, last_position"
            mine = set(ids)
            live = [
                r
                for r in table_rows(container.pool, "rm_kt_counts", "counts", "stream_id", counts)
                if r[0] in mine
            ]
            kafka = table_rows(
                container.pool, projector.schema("kt_counts"), "counts", "stream_id", counts
            )
            places = [
                r
                for r in table_rows(container.pool, "rm_locations", "locations", "code", COLUMNS)
                if r[1].startswith((f"KG-{tags[0]}-", f"KG-{tags[1]}-"))
            ]
            kafka_places = table_rows(
                container.pool, projector.schema("locations"), "locations", "code", COLUMNS
            )
            return (
                len(live) == len(mine) == len(kafka)
                and live == kafka
                and (len(places) == 600 and places == kafka_places)
            )

        wait_until(equal, 120, "the Kafka read models to equal the in-process ones")
        assert errors_while_down >= 2  # it backed off and retried while the broker was away
        assert relay_status(container.pool, prefix).epoch == epoch_before + 1
    finally:
        stop.set()
        relay.stop()
        for t in threads:
            t.join(30)
        broker.stop()
