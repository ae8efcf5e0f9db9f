"""Projectors as a consumer group: two, then three processes share the partitions; one is
killed mid-stream; the read model built through Kafka equals the one built from the store."""

from __future__ import annotations

import signal
import uuid

from domain.location.events import LocationDeactivated, LocationRegistered, LocationUpdated
from eventstore.store import StreamAppend
from projections.view_schemas import kafka_schema
from scaleout.relay import Relay
from tests.kafka.conftest import meta, unique
from tests.kafka.helpers import in_thread, spawn_cli, table_rows, wait_until

COLUMNS = "stream_id, code, name, type, priority, active, version, created_at, updated_at"


def write_locations(store, count: int, tag: str, per_txn: int = 250) -> None:
    appends = []
    for i in range(count):
        code = f"KG-{tag}-{i}"
        appends.append(
            StreamAppend(
                uuid.uuid5(uuid.NAMESPACE_URL, code),
                0,
                [
                    LocationRegistered(code=code, name=f"n{i}", type="store", priority=i % 7),
                    LocationUpdated(name=f"renamed {i}"),
                    LocationUpdated(priority=i % 5),
                    *([LocationDeactivated(reason="closed")] if i % 3 == 0 else []),
                ],
            )
        )
        if len(appends) == per_txn:
            store.append(appends, meta())
            appends = []
    if appends:
        store.append(appends, meta())


def rows_equal(pool, group: str, tag: str) -> bool:
    """The rows of this test's locations (the relay started at the test's first event)."""
    live = table_rows(pool, "rm_locations", "locations", "code", COLUMNS)
    kafka = table_rows(pool, kafka_schema(group, "locations"), "locations", "code", COLUMNS)
    mine = [r for r in live if r[1].startswith(f"KG-{tag}")]
    return len(mine) == 6000 and mine == kafka


def test_two_then_three_projector_processes_one_killed_build_the_same_read_model(
    container, broker, database_url
):
    store = container.store
    prefix, group = unique("pg-"), unique("g-pg-")
    tag = uuid.uuid4().hex[:6]
    start = store.head()
    write_locations(store, 2000, f"{tag}a")
    relay = Relay(
        container.pool, broker.bootstrap, prefix=prefix, partitions=6, start_position=start
    )
    relay_thread = in_thread(relay.run)
    env = {
        "ECOM_DATABASE_URL": database_url,
        "ECOM_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "ECOM_KAFKA_TOPIC_PREFIX": prefix,
        "ECOM_POOL_SIZE": "2",
    }
    args = ["project", "--source", "kafka", "--group", group, "--projection", "locations"]
    procs = [spawn_cli(args, env), spawn_cli(args, env)]
    schema = kafka_schema(group, "locations")

    def kafka_count() -> int:
        try:
            with container.pool.connection() as conn:
                return conn.execute(f'SELECT count(*) FROM "{schema}".locations').fetchone()[0]
        except Exception:  # noqa: BLE001 - schema not created yet
            return 0

    try:
        wait_until(lambda: kafka_count() > 0, 90, "the first rows through Kafka")
        procs.append(spawn_cli(args, env))
        write_locations(store, 3000, f"{tag}b")
        seen = kafka_count()
        wait_until(lambda: kafka_count() > seen + 200, 90, "progress with three processes")
        victim = procs.pop(1)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        write_locations(store, 1000, f"{tag}c")
        container.runner.catch_up(["locations"], timeout_s=120)
        wait_until(lambda: rows_equal(container.pool, group, tag), 150, "equal read models")
        assert all(p.poll() is None for p in procs)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(15)
        relay.stop()
        relay_thread.join(30)
