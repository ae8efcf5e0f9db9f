"""Every view built from Kafka by two consumer-group processes equals the in-process build,
table for table, row for row: the whole log (in ``make test``, everything the integration and
e2e suites wrote before this package runs, plus a store-wide scenario) relayed to a real
broker, ``ecom project --source kafka --group G`` twice as subprocesses, compared once every
stream's last event is applied and every partition's lag is 0."""

from __future__ import annotations

from psycopg import sql

from projections.base import live_schema
from projections.registry import all_projections
from projections.view_schemas import kafka_schema
from scaleout.consumer import consumer_lag
from scaleout.relay import Relay
from tests.kafka.conftest import unique
from tests.kafka.helpers import spawn_cli, wait_until
from tests.kafka.reorder import compare_views

PROJECTIONS = all_projections()
STREAM_TYPES = sorted({t.split(".", 1)[0] for p in PROJECTIONS for t in p.topics})


def behind(pool, group: str, head: int) -> int:
    """Streams of the consumed topics whose last stored event the group has not applied."""
    with pool.connection() as conn:
        return conn.execute(
            "SELECT count(*) FROM (SELECT originator_id, max(originator_version) AS v "
            "FROM stored_events WHERE notification_id <= %s "
            "AND split_part(topic, '.', 1) = ANY(%s) GROUP BY originator_id) s "
            "LEFT JOIN kafka_consumer_streams k ON k.group_name = %s "
            "AND k.stream_id = s.originator_id WHERE k.version IS DISTINCT FROM s.v",
            (head, STREAM_TYPES, group),
        ).fetchone()[0]


def test_every_view_built_by_two_group_processes_equals_the_in_process_build(
    container, broker, database_url, scenario_range
):
    # Given the whole log relayed to Kafka and every in-process view at its head
    pool = container.pool
    head = container.store.head()
    assert head >= scenario_range[1]
    prefix, group = unique("all-"), unique("g-all-")
    Relay(pool, broker.bootstrap, prefix=prefix, partitions=6, start_position=0).run(
        until_caught_up=True
    )
    container.runner.catch_up(timeout_s=600)
    env = {
        "ECOM_DATABASE_URL": database_url,
        "ECOM_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "ECOM_KAFKA_TOPIC_PREFIX": prefix,
        "ECOM_POOL_SIZE": "2",
    }
    args = ["project", "--source", "kafka", "--group", group]
    # When two processes of one consumer group build every view from it
    procs = [spawn_cli(args, env), spawn_cli(args, env)]
    try:
        wait_until(lambda: behind(pool, group, head) == 0, 900, "every stream applied")
        wait_until(lambda: all(r["lag"] == 0 for r in consumer_lag(pool, group)), 60, "lag 0")
        assert all(p.poll() is None for p in procs), "a projector process died"
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
    # Then every table of every view equals the in-process one, and nothing was parked
    try:
        with pool.connection() as conn:
            parked = conn.execute(
                "SELECT type, stream_id, version, reason FROM kafka_dead_letters "
                "WHERE group_name = %s ORDER BY id LIMIT 10",
                (group,),
            ).fetchall()
        diffs = compare_views(
            pool, PROJECTIONS, lambda name: kafka_schema(group, name), live_schema
        )
        assert not parked, f"parked: {parked}"
        assert not diffs, "Kafka (this) vs in-process (that):\n" + "\n".join(diffs)
    finally:
        with pool.connection() as conn:
            for p in PROJECTIONS:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(kafka_schema(group, p.name))
                    )
                )
